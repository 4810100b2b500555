/**
 * Every `dir` and `out` a client sends stays under the daemon's download roots: no `..`, no
 * absolute `out`, and no symlink inside a root that leads out of it (judged on real paths after
 * the directories exist). A client can never make the daemon write outside those roots.
 */
import { mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RpcError } from './rpc-error.js';

export interface Destination {
  /** The download's directory (absolute, inside a root). */
  dir: string;
  /** The output path relative to `dir`, when the client chose one. */
  out: string | undefined;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function hasDotDot(path: string): boolean {
  return path.split(/[\\/]/).includes('..');
}

export class DownloadRoots {
  readonly #roots: string[];

  /** `roots[0]` is the default directory; relative `dir`s are taken from it. */
  constructor(roots: string[]) {
    this.#roots = roots.map((r) => resolve(r));
  }

  get defaultDir(): string {
    return this.#roots[0]!;
  }

  get all(): readonly string[] {
    return this.#roots;
  }

  /** Checks `dir` without touching the disk (for options that are only stored). */
  checkDir(dir: string): string {
    if (dir === '' || dir.includes('\0') || hasDotDot(dir)) throw new RpcError(`dir ${JSON.stringify(dir)} is not allowed: no '..' segments`);
    const absolute = resolve(this.defaultDir, dir);
    if (!this.#roots.some((root) => inside(root, absolute))) {
      throw new RpcError(`dir ${absolute} is outside the download directories (${this.#roots.join(', ')})`);
    }
    return absolute;
  }

  checkOut(out: string): string {
    if (out === '' || out.includes('\0') || isAbsolute(out) || hasDotDot(out) || out.endsWith('/')) {
      throw new RpcError(`out ${JSON.stringify(out)} is not allowed: a relative file name without '..'`);
    }
    return out;
  }

  /**
   * Creates the directories a download needs, after checking that the deepest one that exists
   * already lies inside a root by its real path (a symlink there must not lead mkdir elsewhere).
   */
  async prepare(destination: Destination): Promise<void> {
    const folder = destination.out === undefined ? destination.dir : dirname(join(destination.dir, destination.out));
    const realRoots = await Promise.all(this.#roots.map((root) => realpath(root).catch(() => root)));
    const check = async (path: string) => {
      if (!realRoots.some((root) => inside(root, path))) throw new RpcError(`dir ${folder} leads outside the download directories (through a symlink)`);
    };
    let existing = folder;
    for (;;) {
      const real = await realpath(existing).catch(() => undefined);
      if (real !== undefined) {
        await check(real);
        break;
      }
      if (dirname(existing) === existing) break;
      existing = dirname(existing);
    }
    await mkdir(folder, { recursive: true });
    await check(await realpath(folder));
  }
}
