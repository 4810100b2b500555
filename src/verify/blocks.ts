/**
 * segdl's own whole-file digest, `xxh64blocks`, defined so that it needs no second pass over the
 * bytes and no particular order of arrival:
 *
 *   1. cut the file into blocks of BLOCK_BYTES (1 MiB; the last one may be shorter; an empty file
 *      has no blocks);
 *   2. take the XXH64 (seed 0) of every block;
 *   3. the digest is the XXH64 (seed 0) of those block hashes, each as 8 bytes big-endian, in file
 *      order, followed by the file size as 8 bytes big-endian; written as 16 lowercase hex digits.
 *
 * Each block is hashed in memory as its bytes are written, by whichever connection wrote them, and
 * the block hashes double as the repair map in the manifest. `hashFile` (and `segdl hash FILE`)
 * computes the same digest for any file on disk.
 */
import type { XXHashAPI } from 'xxhash-wasm';

export const BLOCK_BYTES = 1024 * 1024;

export function blockCount(size: number): number {
  return Math.ceil(size / BLOCK_BYTES);
}

/** The block that holds byte `offset`. */
export function blockOf(offset: number): number {
  return Math.floor(offset / BLOCK_BYTES);
}

/** Where the block holding `offset` ends (exclusive), clipped to the file. */
export function blockEndAfter(offset: number, size: number): number {
  return Math.min(size, (blockOf(offset) + 1) * BLOCK_BYTES);
}

/** The digest of a file of `size` bytes whose blocks hash to `hashes` (in file order). */
export function digestOfBlocks(api: XXHashAPI, hashes: ArrayLike<bigint>, size: number): string {
  const list = Buffer.allocUnsafe(hashes.length * 8 + 8);
  for (let i = 0; i < hashes.length; i++) list.writeBigUInt64BE(hashes[i]!, i * 8);
  list.writeBigUInt64BE(BigInt(size), hashes.length * 8);
  return hex64(api.h64Raw(list));
}

/** 16 lowercase hex digits. */
export function hex64(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}

/** A piece of one block whose hash is known: a whole block, or the part of it one segment wrote. */
export interface Piece {
  offset: number;
  length: number;
  hash: bigint;
}

/**
 * What is known of a download's blocks: the hash of every complete one, and the hashed pieces of
 * blocks two segments share (a split point inside a block). A shared block's hash is read back
 * from disk once all of its bytes are there (at most one block per split that missed a block
 * boundary); every other byte is hashed once, in memory.
 */
export class BlockLedger {
  readonly size: number;
  readonly #hashes: BigUint64Array;
  readonly #known: Uint8Array;
  /** Pieces of blocks not hashed whole, by block. */
  readonly #partial = new Map<number, Piece[]>();
  /** Pieces recorded since the manifest last took them. */
  #fresh: Piece[] = [];
  readonly #readBlock: (offset: number, length: number) => Promise<bigint>;
  readonly #pending = new Set<Promise<void>>();
  #failure: unknown;

  /** `readBlock` hashes bytes from disk (a shared block once complete). */
  constructor(size: number, readBlock: (offset: number, length: number) => Promise<bigint>) {
    this.size = size;
    this.#hashes = new BigUint64Array(blockCount(size));
    this.#known = new Uint8Array(blockCount(size));
    this.#readBlock = readBlock;
  }

  /** A hashed piece of bytes now on disk. */
  add(piece: Piece): void {
    this.#fresh.push(piece);
    this.#absorb(piece);
  }

  /** Pieces an earlier run recorded and this one checked against the disk (not saved again). */
  restore(piece: Piece): void {
    this.#absorb(piece);
  }

  #absorb(piece: Piece): void {
    const index = blockOf(piece.offset);
    if (this.#known[index] === 1) return;
    const blockStart = index * BLOCK_BYTES;
    const blockLength = Math.min(BLOCK_BYTES, this.size - blockStart);
    if (piece.offset === blockStart && piece.length === blockLength) return this.#set(index, piece.hash);
    const pieces = this.#partial.get(index) ?? [];
    pieces.push(piece);
    this.#partial.set(index, pieces);
    if (pieces.reduce((sum, p) => sum + p.length, 0) < blockLength) return;
    const reading = this.#readBlock(blockStart, blockLength).then(
      (hash) => {
        this.#set(index, hash);
        // Recorded too: a later run checks this block whole, whichever segments it is split between then.
        this.#fresh.push({ offset: blockStart, length: blockLength, hash });
      },
      (error: unknown) => {
        this.#failure ??= error;
      },
    );
    this.#pending.add(reading);
    void reading.finally(() => this.#pending.delete(reading));
  }

  #set(index: number, hash: bigint): void {
    this.#known[index] = 1;
    this.#hashes[index] = hash;
    this.#partial.delete(index);
  }

  /** Forgets every block that overlaps [start, end): its bytes are about to be fetched again. */
  forget(start: number, end: number): void {
    for (let index = blockOf(start); index * BLOCK_BYTES < end; index++) {
      this.#known[index] = 0;
      this.#partial.delete(index);
    }
  }

  /** Pieces recorded since the last call (for the manifest), and every piece when `all`. */
  take(all = false): Piece[] {
    const fresh = this.#fresh;
    this.#fresh = [];
    if (!all) return fresh;
    const pieces: Piece[] = [];
    for (let index = 0; index < this.#known.length; index++) {
      if (this.#known[index] === 1) pieces.push({ offset: index * BLOCK_BYTES, length: Math.min(BLOCK_BYTES, this.size - index * BLOCK_BYTES), hash: this.#hashes[index]! });
      else pieces.push(...(this.#partial.get(index) ?? []));
    }
    return pieces;
  }

  /**
   * The whole-file digest (waits for the last read-backs). A block still without a hash (its
   * pieces were dropped by a repair, or a write failed after its hash was taken) is read back.
   */
  async digest(api: XXHashAPI): Promise<string> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
    if (this.#failure !== undefined) throw this.#failure;
    for (let index = 0; index < this.#known.length; index++) {
      if (this.#known[index] === 1) continue;
      const start = index * BLOCK_BYTES;
      this.#set(index, await this.#readBlock(start, Math.min(BLOCK_BYTES, this.size - start)));
    }
    return digestOfBlocks(api, this.#hashes, this.size);
  }
}
