/**
 * One writer per output: `<output>.segdl.lock` is created exclusively and names its owner.
 * A lock whose owner no longer runs (killed, a zombie nobody reaps, a pid from before a reboot,
 * a pid since reused by another process) is taken over.
 */
import { link, open, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DownloadError } from '../errors.js';
import { isRunning, ownIdentity, type ProcessIdentity } from './process-identity.js';

export interface OutputLock {
  release(): Promise<void>;
}

function lockPath(output: string): string {
  return `${output}.segdl.lock`;
}

/**
 * The pid alone on the first line (all a lock of an older segdl holds, and all an older segdl
 * reads: it parses the leading integer), then `boot` and `start` lines where the system has them.
 */
export function formatOwner(owner: ProcessIdentity): string {
  let text = `${owner.pid}\n`;
  if (owner.boot !== undefined) text += `boot ${owner.boot}\n`;
  if (owner.start !== undefined) text += `start ${owner.start}\n`;
  return text;
}

/** The owner a lock file names, or undefined when it names no valid pid (garbage: stale). */
export function parseOwner(text: string): ProcessIdentity | undefined {
  const [first = '', ...rest] = text.split('\n');
  if (!/^\s*\d+\s*$/.test(first)) return undefined;
  const pid = Number(first.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const owner: ProcessIdentity = { pid };
  for (const line of rest) {
    const match = /^(boot|start) (\S+)$/.exec(line.trim());
    if (match) owner[match[1] as 'boot' | 'start'] = match[2];
  }
  return owner;
}

/** Private `<lock>.<pid>` files left by processes killed while taking the lock. */
async function removeStalePrivateFiles(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) continue;
    const file = join(dirname(path), name);
    // Killed before it wrote anything, the file still names its owner by its own name.
    const owner = parseOwner(await readFile(file, 'utf8').catch(() => '')) ?? { pid };
    if (owner.pid !== pid || !isRunning(owner)) await rm(file, { force: true });
  }
}

export async function acquireLock(output: string): Promise<OutputLock> {
  const path = lockPath(output);
  await removeStalePrivateFiles(path);
  const me = ownIdentity();
  for (let attempt = 0; attempt < 3; attempt++) {
    // The owner goes into a private file first, then link() publishes it atomically:
    // nobody ever sees an empty lock, and link fails if anything (also a symlink) is there.
    const mine = `${path}.${process.pid}`;
    const file = await open(mine, 'w', 0o600);
    try {
      await file.writeFile(formatOwner(me));
    } finally {
      await file.close();
    }
    try {
      await link(mine, path);
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(mine, { force: true });
    }
    const owner = parseOwner(await readFile(path, 'utf8').catch(() => ''));
    if (owner !== undefined && isRunning(owner)) {
      throw new DownloadError(
        'ERR_LOCKED',
        owner.pid === process.pid ? `${output} is already being downloaded by this process` : `${output} is being downloaded by another process (pid ${owner.pid})`,
      );
    }
    // The owner is gone (killed without cleaning up, a zombie, another boot, a reused pid): take the lock over.
    await rm(path, { force: true });
  }
  throw new DownloadError('ERR_LOCKED', `could not take the lock ${path}`);
}
