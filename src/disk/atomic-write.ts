/** Replaces a small file atomically: a private temp file next to it, then rename. */
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';

/**
 * Writes `text` to `path` so that a reader (or a process killed at any instant) sees either the
 * old file or the new one. Mode 0600: the contents (URLs) stay private to the user. The temp file
 * is never written through a symlink planted at its name (catalogue case 54).
 */
export async function writeAtomic(path: string, text: string, options: { fsync: boolean; onTempWritten?: () => void }): Promise<void> {
  const temp = `${path}.tmp`;
  await unlink(temp).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  const file = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await file.writeFile(text);
    if (options.fsync) await file.sync();
  } finally {
    await file.close();
  }
  options.onTempWritten?.();
  await rename(temp, path);
}
