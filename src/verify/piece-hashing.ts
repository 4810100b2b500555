/**
 * Hashing as bytes are written: each connection's sealed batches (src/disk/writer.ts) feed the
 * running xxh64 of the block piece its job is filling; when the piece reaches its block's end (or
 * the job's end), its hash goes to the ledger once the write is done. Every byte of this run is
 * hashed exactly once, in memory, in batches of up to a block.
 */
import type { XXHashAPI } from 'xxhash-wasm';
import type { Job } from '../schedule/scheduler.js';
import { crashPoint } from '../test-hooks.js';
import { blockEndAfter, type BlockLedger, type Piece } from './blocks.js';

/** What a sealed batch leaves for the moment its write completes. */
export interface SealedHash {
  /** The job's piece hash after this batch (the manifest's record of its trailing bytes). */
  digest: bigint;
  /** Set when this batch completes the piece. */
  piece: Piece | undefined;
}

export class PieceHashing {
  readonly #api: XXHashAPI;
  readonly #ledger: BlockLedger;

  constructor(api: XXHashAPI, ledger: BlockLedger) {
    this.#api = api;
    this.#ledger = ledger;
  }

  /** `bytes` at `position` of `job` are about to be written. */
  sealed(job: Job, bytes: Buffer, position: number): SealedHash {
    let piece = job.piece;
    // Batches follow each other; one that does not continue the piece starts a new one.
    if (piece === undefined || piece.end !== position) piece = job.piece = { start: position, end: position, hash: this.#api.create64() };
    piece.hash.update(bytes);
    piece.end += bytes.length;
    crashPoint('hashing');
    const digest = piece.hash.digest();
    if (piece.end < blockEndAfter(piece.start, this.#ledger.size) && piece.end < job.end) return { digest, piece: undefined };
    job.piece = undefined;
    return { digest, piece: { offset: piece.start, length: piece.end - piece.start, hash: digest } };
  }

  /** The batch's write completed: its bytes count as done. */
  written(job: Job, bytes: number, sealed: SealedHash): void {
    job.done += bytes;
    if (sealed.piece !== undefined) {
      job.pieceDigest = undefined;
      this.#ledger.add(sealed.piece);
    } else {
      job.pieceDigest = sealed.digest;
      this.settle(job);
    }
  }

  /**
   * A job whose end moved back onto the end of its written bytes (a steal cut it right there) has
   * a finished piece that no batch completed: it is recorded now.
   */
  settle(job: Job): void {
    const piece = job.piece;
    if (piece === undefined || job.pieceDigest === undefined || job.start + job.done !== job.end || piece.end !== job.end) return;
    job.piece = undefined;
    this.#ledger.add({ offset: piece.start, length: piece.end - piece.start, hash: job.pieceDigest });
    job.pieceDigest = undefined;
  }
}
