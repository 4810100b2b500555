/**
 * Per-connection pacing: a token bucket that may go into debt, so timer overshoot is paid
 * back on the next slice and the long-run rate stays exact even with 1 ms timer granularity.
 */
import { setTimeout as sleep } from 'node:timers/promises';

const MAX_SLICE = 64 * 1024;
/** Allowed burst, in seconds of rate: absorbs timer lateness without losing throughput. */
const BURST_SECONDS = 0.05;

/** Bytes to send per paced write: ~20 ms worth, between 1 byte (slowloris) and 64 KiB. */
export function sliceSize(rate: number): number {
  return Math.max(1, Math.min(MAX_SLICE, Math.floor(rate / 50)));
}

export class TokenBucket {
  #tokens: number | undefined;
  #last = 0;
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /**
   * Takes `n` bytes of allowance at `rate` bytes/s and returns how long (ms) the caller must
   * wait before sending them. The rate is passed per call because a per-request fault plan
   * may change it on a kept-alive connection.
   */
  reserve(n: number, rate: number): number {
    const now = this.#now();
    const capacity = Math.max(sliceSize(rate), rate * BURST_SECONDS);
    // A fresh bucket starts full: the first slice of a connection is not delayed.
    const refilled = this.#tokens === undefined ? capacity : this.#tokens + ((now - this.#last) * rate) / 1000;
    this.#tokens = Math.min(capacity, refilled) - n;
    this.#last = now;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / rate) * 1000;
  }

  /** `reserve`, then wait; rejects with an AbortError when `signal` aborts. */
  async take(n: number, rate: number, signal: AbortSignal): Promise<void> {
    const wait = this.reserve(n, rate);
    if (wait > 0) await sleep(wait, undefined, { signal });
  }
}
