/**
 * Maps a request target to a file under the served root. Only single path segments naming a
 * direct child are accepted, so no decoding trick (`..`, `%2e%2e%2f`, `//etc`, `\`) can
 * reach outside; symlinks are refused when the file is opened (O_NOFOLLOW).
 */
import { basename, join } from 'node:path';

/** What is served: one file under its base name, or the regular files of a directory. */
export type Root = { kind: 'file'; path: string; name: string } | { kind: 'dir'; path: string; index?: string | undefined };

export type Resolution =
  | { ok: true; path: string; name: string }
  | { ok: false; status: 400 | 403 | 404; reason: string };

export function fileRoot(path: string): Root {
  return { kind: 'file', path, name: basename(path) };
}

/** The path part of a request target (origin-form or absolute-form), still percent-encoded. */
function rawPathOf(target: string): string | undefined {
  if (target.startsWith('/')) return target.split('?', 1)[0];
  // RFC 9112 §3.2.2: a server must accept absolute-form targets too.
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}

export function resolveTarget(root: Root, target: string): Resolution {
  const raw = rawPathOf(target);
  if (raw === undefined) return { ok: false, status: 400, reason: 'bad request target' };
  let name: string;
  try {
    name = decodeURIComponent(raw.slice(1));
  } catch {
    return { ok: false, status: 400, reason: 'bad percent-encoding' };
  }
  // The index name goes through the same checks as a requested one.
  if (name === '' && root.kind === 'dir' && root.index !== undefined) name = root.index;
  if (name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    return { ok: false, status: 403, reason: 'path outside the served root' };
  }
  if (name === '') return { ok: false, status: 404, reason: 'no file named' };
  if (root.kind === 'file') {
    return name === root.name
      ? { ok: true, path: root.path, name }
      : { ok: false, status: 404, reason: 'not found' };
  }
  return { ok: true, path: join(root.path, name), name };
}
