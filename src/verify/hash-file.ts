/**
 * The digests of a file on disk, in one sequential pass: `xxh64blocks` (segdl's digest, the one a
 * download reports) and, if asked, a standard one. The library's `hashFile` and `segdl hash FILE`.
 * The bytes are read in file order, so they go through the same InOrderDigest as a stream's do.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { HashAlgorithm } from '../options.js';
import { BLOCK_BYTES } from './blocks.js';
import { InOrderDigest } from './in-order-digest.js';
import type { Digest } from './verify.js';

/** Reads of whole blocks: each block is hashed in one call. */
const READ_BYTES = 4 * BLOCK_BYTES;

export async function hashFile(path: string, options: { algorithm?: HashAlgorithm } = {}): Promise<Digest> {
  const digest = await InOrderDigest.create(options.algorithm);
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = (await file.stat()).size;
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, size - at), at);
      if (bytesRead === 0) throw new Error(`${path} ended at ${at} of ${size} bytes while being hashed`);
      digest.update(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
    return digest.finish();
  } finally {
    await file.close();
  }
}
