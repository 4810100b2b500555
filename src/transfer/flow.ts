/**
 * Flow control for one request's connection: the disk (a writer with too much unwritten) and the
 * bandwidth limits can each hold the socket; it reads again only when nothing holds it. `drive`
 * also watches the request for stalls until it settles.
 */
import type { RateLimiter } from './rate-limit.js';
import { watchStall, type StallPolicy } from './stall.js';
import type { RequestHandle } from '../http/transport.js';
import type { BackPressure } from '../disk/writer.js';

export class ConnectionFlow {
  readonly #limiters: readonly RateLimiter[];
  readonly #holds = new Set<string>();
  #target: { pause(): void; resume(): void } | undefined;
  #rateTimer: NodeJS.Timeout | undefined;

  constructor(limiters: readonly RateLimiter[]) {
    this.#limiters = limiters;
  }

  /** Counts received bytes against the limits; an overdraw holds the socket until the bucket refills. */
  take(bytes: number): void {
    let wait = 0;
    for (const limiter of this.#limiters) wait = Math.max(wait, limiter.consume(bytes));
    if (wait <= 0) return;
    if (this.#rateTimer !== undefined) clearTimeout(this.#rateTimer);
    this.#hold('rate');
    this.#rateTimer = setTimeout(() => {
      this.#rateTimer = undefined;
      this.#release('rate');
    }, wait);
  }

  /** Runs `handle` to its end with `writer`'s back-pressure and the stall watch; rejects as the request does. */
  async drive(handle: RequestHandle, writer: { attach(flow: BackPressure): void }, stall: StallPolicy, progress: () => number, url: string): Promise<void> {
    this.#target = handle;
    if (this.#holds.size > 0) handle.pause();
    writer.attach({ pause: () => this.#hold('disk'), resume: () => this.#release('disk') });
    const stopWatching = watchStall(stall, progress, (error) => handle.abort(error), url);
    try {
      await handle.done;
    } finally {
      stopWatching();
      if (this.#rateTimer !== undefined) clearTimeout(this.#rateTimer);
      this.#rateTimer = undefined;
    }
  }

  #hold(reason: string): void {
    if (this.#holds.size === 0) this.#target?.pause();
    this.#holds.add(reason);
  }

  #release(reason: string): void {
    if (!this.#holds.delete(reason)) return;
    if (this.#holds.size === 0) this.#target?.resume();
  }
}
