/**
 * Positional writes of one connection's bytes, in batches. The bytes land in a pooled 1 MiB
 * buffer (copied from undici's chunk, or read there straight from the socket by the direct
 * receive path); a batch is sealed when it reaches a block boundary (or after a short while, so a
 * slow connection's bytes still reach the disk and the next checkpoint), hashed once, and written
 * with one positional write while the next batch fills. At most two buffers per connection; when
 * none is free the connection pauses, so memory is bounded whatever the file size.
 */
import { write } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { BLOCK_BYTES, blockOf } from '../verify/blocks.js';
import { journal } from '../test-hooks.js';
import { sharedPool, type BufferPool } from './buffer-pool.js';

/**
 * A batch older than this is sealed even if its block is not full yet: bytes still in memory are
 * lost to a kill, so a slow connection writes (and can checkpoint) what it has every 20 ms
 * (160 KB at 8 MB/s); a fast one fills its block first. At 200 ms, scenario E re-sent 3 % of the
 * file after a SIGKILL, at 20 ms 0.5-1 % (`npm run bench -- --only E --tools segdl`).
 */
const BATCH_AGE_MS = 20;

export interface BackPressure {
  pause(): void;
  resume(): void;
}

/** Where sealed batches go: the .part file at their position, or an in-order window (stdout). */
export interface WriteTarget {
  write(buffer: Buffer, length: number, position: number): Promise<void>;
}

export interface WriterHooks<T> {
  /** A batch is complete and about to be written (hash it here: once, in memory). */
  sealed(bytes: Buffer, position: number): T;
  /** That batch's write completed (batches complete in file order). */
  written(bytes: number, token: T): void;
}

interface Batch<T> {
  buffer: Buffer;
  length: number;
  position: number;
  token?: T;
}

export class SegmentWriter<T = void> {
  readonly #target: WriteTarget;
  readonly #hooks: WriterHooks<T>;
  readonly #pool: BufferPool;
  #fill: Batch<T> | undefined;
  #fillSince = 0;
  /** Where the fill batch starts when it gets a buffer. */
  #position: number;
  #queued: Batch<T> | undefined;
  #writing: Promise<void> | undefined;
  /** Chunks received while no buffer was free (the undici path cannot stop mid-chunk). */
  #overflow: Buffer[] = [];
  #failure: unknown;
  #paused = false;
  #waitingForBuffer = false;
  #flow: BackPressure | undefined;
  #closed = false;

  constructor(target: WriteTarget, position: number, hooks: WriterHooks<T>, pool: BufferPool = sharedPool) {
    this.#target = target;
    this.#position = position;
    this.#hooks = hooks;
    this.#pool = pool;
    pool.join();
  }


  attach(flow: BackPressure): void {
    this.#flow = flow;
  }

  /**
   * Queues a copy of `chunk`. The chunk itself is kept only if no buffer is free, and then copied
   * first if it is `reused` (its memory is read into again). Throws a previous write failure.
   */
  push(chunk: Buffer, reused = false): void {
    if (this.#failure !== undefined) throw this.#failure;
    const keep = (bytes: Buffer) => this.#overflow.push(reused ? Buffer.from(bytes) : bytes);
    if (this.#overflow.length > 0) {
      keep(chunk);
      return;
    }
    let offset = 0;
    while (offset < chunk.length) {
      const room = this.region();
      if (room === undefined) {
        keep(offset === 0 ? chunk : chunk.subarray(offset));
        return;
      }
      const take = Math.min(room.length, chunk.length - offset);
      chunk.copy(room, 0, offset, offset + take);
      offset += take;
      this.landed(take);
    }
  }

  /**
   * Where the next bytes may land directly (up to the next block boundary), or undefined when no
   * buffer is free (the connection is paused until one is; bytes that come anyway go to `push`).
   */
  region(): Buffer | undefined {
    // Bytes that overflowed come first: nothing may land in place before them.
    if (this.#failure !== undefined || this.#closed || this.#overflow.length > 0) return undefined;
    if (this.#fill === undefined && !this.#startBatch()) return undefined;
    const fill = this.#fill!;
    const blockEnd = (blockOf(fill.position) + 1) * BLOCK_BYTES;
    const capacity = blockEnd - fill.position;
    return fill.buffer.subarray(fill.length, capacity);
  }

  /** `bytes` bytes landed at the start of the last `region()`. */
  landed(bytes: number): void {
    const fill = this.#fill!;
    fill.length += bytes;
    if (fill.position + fill.length === (blockOf(fill.position) + 1) * BLOCK_BYTES) this.#seal();
    else if (performance.now() - this.#fillSince >= BATCH_AGE_MS) this.#seal();
  }

  /** Writes everything received and resolves when it is on disk (in the page cache). */
  async flush(): Promise<void> {
    for (;;) {
      while (this.#writing !== undefined) await this.#writing;
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#overflow.length > 0) {
        await new Promise<void>((resolve) => this.#pool.wait(resolve));
        this.#drainOverflow();
        continue;
      }
      if (this.#fill !== undefined && this.#fill.length > 0) {
        this.#seal();
        continue;
      }
      if (this.#queued === undefined) return;
    }
  }

  /** Gives the buffers back; the writer is not used again. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#fill !== undefined && this.#fill.length === 0) {
      this.#pool.give(this.#fill.buffer);
      this.#fill = undefined;
    }
    this.#pool.leave();
  }

  /** Takes a buffer for the next batch; false (and pauses) when none may be had now. */
  #startBatch(): boolean {
    // One batch being written and one waiting is as far as a connection may run ahead of the disk.
    const held = this.#writing === undefined ? 0 : 1;
    const buffer = this.#queued === undefined ? this.#pool.take(held) : undefined;
    if (buffer === undefined) {
      this.#pause();
      if (this.#queued === undefined && !this.#waitingForBuffer) {
        this.#waitingForBuffer = true;
        this.#pool.wait(() => {
          this.#waitingForBuffer = false;
          this.#unblocked();
        });
      }
      return false;
    }
    this.#fill = { buffer, length: 0, position: this.#position };
    this.#fillSince = performance.now();
    return true;
  }

  #seal(): void {
    const batch = this.#fill!;
    this.#fill = undefined;
    this.#position = batch.position + batch.length;
    if (batch.length === 0) {
      this.#pool.give(batch.buffer);
      return;
    }
    batch.token = this.#hooks.sealed(batch.buffer.subarray(0, batch.length), batch.position);
    this.#queued = batch;
    if (this.#writing === undefined) this.#writeNext();
  }

  #writeNext(): void {
    const batch = this.#queued;
    if (batch === undefined) return;
    this.#queued = undefined;
    this.#writing = this.#target.write(batch.buffer, batch.length, batch.position).then(
      () => {
        this.#writing = undefined;
        journal(`W ${batch.position} ${batch.length}`);
        this.#pool.give(batch.buffer);
        this.#hooks.written(batch.length, batch.token as T);
        this.#writeNext();
        this.#unblocked();
      },
      (error: unknown) => {
        this.#writing = undefined;
        this.#failure ??= error;
        this.#pool.give(batch.buffer);
        this.#resume();
      },
    );
  }

  /** A write completed or a buffer came free: copy what overflowed, and let the connection read again. */
  #unblocked(): void {
    if (this.#failure !== undefined || this.#closed) return;
    this.#drainOverflow();
    if (this.#overflow.length === 0 && this.#queued === undefined && (this.#fill !== undefined || this.#startBatch())) this.#resume();
  }

  #drainOverflow(): void {
    const chunks = this.#overflow;
    if (chunks.length === 0) return;
    this.#overflow = [];
    for (let i = 0; i < chunks.length; i++) {
      this.push(chunks[i]!);
      if (this.#overflow.length > 0) {
        this.#overflow.push(...chunks.slice(i + 1));
        return;
      }
    }
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#flow?.pause();
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#flow?.resume();
  }
}

/** Positional writes into an open file (the callback API: no promise per write). */
export function fileTarget(file: FileHandle): WriteTarget {
  const fd = file.fd;
  return {
    write(buffer, length, position) {
      return new Promise<void>((resolve, reject) => {
        const next = (offset: number) =>
          write(fd, buffer, offset, length - offset, position + offset, (error, written) => {
            if (error !== null) return reject(error);
            // A positional write may write less than asked (large writes, signals): go on from there.
            if (offset + written < length) next(offset + written);
            else resolve();
          });
        next(0);
      });
    },
  };
}
