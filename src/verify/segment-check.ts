/**
 * Per-segment xxh64: each segment hashes its bytes as their writes complete, the manifest keeps
 * the digest, and the disk is checked against it on resume and before the final rename. A torn
 * or tampered .part is repaired (only the failing segments are fetched again), never shipped.
 */
import type { FileHandle } from 'node:fs/promises';
import type { XXHashAPI } from 'xxhash-wasm';
import type { Job, SegmentHash } from '../schedule/scheduler.js';

const READ_BYTES = 4 * 1024 * 1024;

export function hashHex(hash: SegmentHash): string {
  return hash.digest().toString(16).padStart(16, '0');
}

/**
 * Re-hashes the done part of resumed segments from disk. A match keeps the bytes and leaves the
 * hash running for the rest of the segment; a mismatch (or no recorded hash) sets the segment
 * back to zero. Returns how many bytes were dropped.
 */
export async function verifyResumed(file: FileHandle, jobs: readonly Job[], saved: ReadonlyMap<Job, string | undefined>, api: XXHashAPI): Promise<number> {
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  let dropped = 0;
  for (const job of jobs) {
    if (job.done === 0) continue;
    const hash = api.create64();
    for (let pos = job.start; pos < job.start + job.done; ) {
      const want = Math.min(READ_BYTES, job.start + job.done - pos);
      const { bytesRead } = await file.read(buffer, 0, want, pos);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      pos += bytesRead;
    }
    if (saved.get(job) === hashHex(hash)) {
      job.hash = hash;
    } else {
      dropped += job.done;
      job.done = 0;
      job.received = 0;
      job.attemptStartBytes = 0;
      job.hash = undefined;
    }
  }
  return dropped;
}

/**
 * Follows the whole-file hasher's sequential reads and hashes each segment's bytes as read back
 * from disk; a segment whose disk hash differs from the hash of the bytes it received is bad.
 */
export class DiskCheck {
  readonly #jobs: readonly Job[];
  readonly #api: XXHashAPI;
  #current: { job: Job; hash: SegmentHash; pos: number } | undefined;
  readonly bad: Job[] = [];

  constructor(jobs: readonly Job[], api: XXHashAPI) {
    this.#jobs = jobs;
    this.#api = api;
  }

  /** Bytes at `offset` as read from disk, in file order. */
  observe(offset: number, bytes: Buffer): void {
    let pos = offset;
    let view = bytes;
    while (view.length > 0) {
      if (this.#current === undefined || this.#current.pos !== pos) {
        const job = this.#jobs.find((j) => j.start === pos);
        if (job === undefined) return; // not a segment boundary: nothing to check from here
        this.#current = { job, hash: this.#api.create64(), pos };
      }
      const current = this.#current;
      const take = Math.min(view.length, current.job.end - pos);
      current.hash.update(view.subarray(0, take));
      pos += take;
      current.pos = pos;
      view = view.subarray(take);
      if (pos === current.job.end) {
        // Reached only once the segment is complete, so its own hash covers exactly these bytes.
        if (current.job.hash !== undefined && hashHex(current.job.hash) !== hashHex(current.hash)) this.bad.push(current.job);
        this.#current = undefined;
      }
    }
  }
}
