/**
 * The batch buffers every writer of the process fills and writes: one block (1 MiB) each, reused
 * instead of allocated per chunk. Fresh allocations are bounded (a few more than there are live
 * writers), so memory stays near one buffer per connection whatever the file size; a writer that
 * finds none free waits (its connection pauses) until a write completes and gives one back.
 */
import { BLOCK_BYTES } from '../verify/blocks.js';

/** Buffers beyond one per live writer: enough for the writes in flight. */
const SPARE = 4;

export class BufferPool {
  readonly #free: Buffer[] = [];
  #allocated = 0;
  #writers = 0;
  readonly #waiting: Array<() => void> = [];

  /** A writer starts or stops (each may hold a buffer while it fills it). */
  join(): void {
    this.#writers++;
  }

  leave(): void {
    this.#writers--;
    // Beyond the bound for the writers still here, a returned buffer is dropped, not kept.
    while (this.#free.length > 0 && this.#allocated > this.#writers + SPARE) {
      this.#free.pop();
      this.#allocated--;
    }
  }

  /**
   * A buffer, or undefined when the bound is reached and none is free (call `wait`). A writer
   * that holds none always gets one: whatever the others hold (a stream's writers ahead of the
   * output each keep theirs until the output reaches them), the one at the front keeps going.
   */
  take(heldByWriter: number): Buffer | undefined {
    const buffer = this.#free.pop();
    if (buffer !== undefined) return buffer;
    if (heldByWriter > 0 && this.#allocated >= this.#writers + SPARE) return undefined;
    this.#allocated++;
    return Buffer.allocUnsafe(BLOCK_BYTES);
  }

  give(buffer: Buffer): void {
    if (this.#allocated > this.#writers + SPARE) {
      this.#allocated--;
    } else {
      this.#free.push(buffer);
    }
    // Every waiter looks again (one that no longer needs a buffer would otherwise swallow the wake-up).
    for (const waiter of this.#waiting.splice(0)) waiter();
  }

  /** Calls `then` once when a buffer may be free. */
  wait(then: () => void): void {
    this.#waiting.push(then);
  }
}

/** One pool per process: downloads running side by side share it. */
export const sharedPool = new BufferPool();
