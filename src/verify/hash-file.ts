/**
 * The digests of a file on disk, in one sequential pass: `xxh64blocks` (segdl's digest, the one a
 * download reports) and, if asked, a standard one. The library's `hashFile` and `segdl hash FILE`.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { HashAlgorithm } from '../options.js';
import { BLOCK_BYTES, blockCount, digestOfBlocks } from './blocks.js';
import { orderedHash, xxhashApi, type Digest } from './verify.js';

/** Blocks read per call: large reads, whole blocks. */
const READ_BLOCKS = 4;

export async function hashFile(path: string, options: { algorithm?: HashAlgorithm } = {}): Promise<Digest> {
  const api = await xxhashApi();
  const extra = options.algorithm === undefined ? undefined : await orderedHash(options.algorithm);
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = (await file.stat()).size;
    const hashes = new BigUint64Array(blockCount(size));
    const buffer = Buffer.allocUnsafe(READ_BLOCKS * BLOCK_BYTES);
    for (let at = 0; at < size; ) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, size - at), at);
      if (bytesRead === 0) throw new Error(`${path} ended at ${at} of ${size} bytes while being hashed`);
      // Reads end on block boundaries unless the file does, so every block is hashed whole.
      const whole = at + bytesRead === size ? bytesRead : bytesRead - (bytesRead % BLOCK_BYTES);
      for (let offset = 0; offset < whole; offset += BLOCK_BYTES) {
        hashes[(at + offset) / BLOCK_BYTES] = api.h64Raw(buffer.subarray(offset, Math.min(offset + BLOCK_BYTES, whole)));
      }
      extra?.update(buffer.subarray(0, whole));
      at += whole;
    }
    const digest: Digest = { xxh64blocks: digestOfBlocks(api, hashes, size) };
    if (options.algorithm !== undefined) digest[options.algorithm] = extra!.digest();
    return digest;
  } finally {
    await file.close();
  }
}
