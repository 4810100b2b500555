/**
 * One writer per output: `<output>.segdl.lock` is created exclusively and holds the owner's pid.
 * A lock whose pid is no longer alive (a killed process) is taken over.
 */
import { link, open, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DownloadError } from '../errors.js';

export interface OutputLock {
  release(): Promise<void>;
}

function lockPath(output: string): string {
  return `${output}.segdl.lock`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Private `<lock>.<pid>` files left by processes killed while taking the lock. */
async function removeStalePrivateFiles(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid)) await rm(join(dirname(path), name), { force: true });
  }
}

export async function acquireLock(output: string): Promise<OutputLock> {
  const path = lockPath(output);
  await removeStalePrivateFiles(path);
  for (let attempt = 0; attempt < 3; attempt++) {
    // The pid goes into a private file first, then link() publishes it atomically:
    // nobody ever sees an empty lock, and link fails if anything (also a symlink) is there.
    const mine = `${path}.${process.pid}`;
    const file = await open(mine, 'w', 0o600);
    try {
      await file.writeFile(`${process.pid}\n`);
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
    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new DownloadError('ERR_LOCKED', `${output} is being downloaded by another process (pid ${owner})`);
    }
    if (owner === process.pid) {
      throw new DownloadError('ERR_LOCKED', `${output} is already being downloaded by this process`);
    }
    // The owner is dead (killed without cleaning up): take the lock over.
    await rm(path, { force: true });
  }
  throw new DownloadError('ERR_LOCKED', `could not take the lock ${path}`);
}
