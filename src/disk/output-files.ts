/**
 * The files a download owns next to its output, opened and replaced without following a
 * symlink anyone planted there (catalogue case 54), created 0600 (case 55), and published
 * with a rename that never clobbers a file the user has (case 38, 46).
 */
import { constants } from 'node:fs';
import { link, lstat, open, rename, rm, statfs, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DownloadError } from '../errors.js';
import { syncDirectory } from './manifest.js';
import { formatBytes } from '../units.js';

const { O_RDWR, O_CREAT, O_TRUNC, O_NOFOLLOW } = constants;

/** Opens `<output>.part` for positional reads and writes; `fresh` truncates it. */
export async function openPart(path: string, fresh: boolean): Promise<FileHandle> {
  let file: FileHandle;
  try {
    file = await open(path, fresh ? O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW : O_RDWR | O_NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new DownloadError('ERR_IO', `${path} is a symbolic link: refusing to write through it`, { cause: error });
    throw error;
  }
  const info = await file.stat();
  if (!info.isFile()) {
    await file.close();
    throw new DownloadError('ERR_IO', `${path} is not a regular file`);
  }
  return file;
}

export async function isSymlink(path: string): Promise<boolean> {
  return lstat(path).then(
    (s) => s.isSymbolicLink(),
    () => false,
  );
}

export async function checkFreeSpace(output: string, needed: number, url: string): Promise<void> {
  const fs = await statfs(dirname(output));
  const free = fs.bavail * fs.bsize;
  if (needed > free) {
    throw new DownloadError('ERR_DISK_FULL', `disk full: ${formatBytes(needed)} needed, ${formatBytes(free)} free in ${dirname(output)}`, { url });
  }
}

/** Size of a regular file at `path` (not through a symlink), undefined otherwise. */
export async function regularFileSize(path: string): Promise<number | undefined> {
  return lstat(path).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
}

/** Moves the verified .part to its final name, never clobbering a file that appeared meanwhile. */
export async function publish(part: string, output: string, force: boolean, durable: boolean): Promise<void> {
  if (force) {
    // rename() replaces a symlink at `output` itself; it never writes through it.
    await rename(part, output);
  } else {
    try {
      await link(part, output);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new DownloadError('ERR_TARGET_EXISTS', `${output} appeared during the download; the verified file is kept at ${part}`);
      }
      throw error;
    }
    await rm(part);
  }
  if (durable) await syncDirectory(dirname(output));
}

