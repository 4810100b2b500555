/**
 * Positional writes into the `.part` file. Each connection owns a SegmentWriter that gathers
 * chunks into large `writev` calls at the segment's own offset, keeps at most one write in
 * flight, and asks the network to pause while too much is buffered, so memory per connection
 * is bounded whatever the file size.
 */
import type { FileHandle } from 'node:fs/promises';
import { journal } from '../test-hooks.js';

/*
 * Write-through when idle, gather while a write is in flight: a slow connection's bytes reach the
 * disk (and the next checkpoint) at once, a fast one's coalesce into large writes by themselves.
 */
/** Pause the socket beyond this many unwritten bytes. */
const HIGH_WATER_BYTES = 256 * 1024;

export interface BackPressure {
  pause(): void;
  resume(): void;
}

export class SegmentWriter {
  readonly #file: FileHandle;
  #position: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #writing: Promise<void> | undefined;
  #failure: unknown;
  #paused = false;
  #flow: BackPressure | undefined;
  readonly #onWritten: (bytes: number, chunks: readonly Buffer[]) => void;

  /** `onWritten` is told of bytes (in file order) only after the write that holds them has completed. */
  constructor(file: FileHandle, position: number, onWritten: (bytes: number, chunks: readonly Buffer[]) => void) {
    this.#file = file;
    this.#position = position;
    this.#onWritten = onWritten;
  }

  /** Where the next byte goes. */
  get position(): number {
    return this.#position + this.#buffered;
  }

  attach(flow: BackPressure): void {
    this.#flow = flow;
  }

  /** Queues a chunk (taking ownership of it). Throws a previous write failure. */
  push(chunk: Buffer): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#writing === undefined) this.#startWrite();
    if (this.#buffered >= HIGH_WATER_BYTES && !this.#paused) {
      this.#paused = true;
      this.#flow?.pause();
    }
  }

  /** Writes everything queued and resolves when it is on disk (in the page cache). */
  async flush(): Promise<void> {
    for (;;) {
      // A completed write may start the next one from its callback: wait until none is in flight.
      while (this.#writing !== undefined) await this.#writing;
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#buffered === 0) return;
      this.#startWrite();
    }
  }

  #startWrite(): void {
    const chunks = this.#chunks;
    const bytes = this.#buffered;
    const position = this.#position;
    this.#chunks = [];
    this.#buffered = 0;
    this.#position += bytes;
    this.#writing = writeFully(this.#file, chunks, bytes, position).then(
      () => {
        this.#writing = undefined;
        journal(`W ${position} ${bytes}`);
        this.#onWritten(bytes, chunks);
        if (this.#buffered > 0) this.#startWrite();
        if (this.#paused && this.#buffered < HIGH_WATER_BYTES) {
          this.#paused = false;
          this.#flow?.resume();
        }
      },
      (error: unknown) => {
        this.#writing = undefined;
        this.#failure = error;
        if (this.#paused) this.#flow?.resume();
      },
    );
  }
}

/** writev may write less than asked (large writes, signals): loop until every byte is down. */
async function writeFully(file: FileHandle, chunks: Buffer[], bytes: number, position: number): Promise<void> {
  let pending = chunks;
  let written = 0;
  while (written < bytes) {
    const { bytesWritten } = await file.writev(pending, position + written);
    written += bytesWritten;
    if (written < bytes) pending = dropBytes(pending, bytesWritten);
  }
}

function dropBytes(chunks: Buffer[], count: number): Buffer[] {
  let skip = count;
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    out.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return out;
}
