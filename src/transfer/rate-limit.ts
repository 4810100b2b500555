/**
 * A token bucket shared by every connection it governs (one download, or a whole queue): each
 * received chunk takes tokens, and a connection that overdraws pauses until the bucket has
 * refilled. The rate can change at any time.
 */
export class RateLimiter {
  #rate: number;
  #tokens: number;
  #last: number;
  readonly #now: () => number;

  /** `bytesPerSecond` of Infinity (or 0) means no limit. */
  constructor(bytesPerSecond: number, now: () => number = () => performance.now()) {
    this.#now = now;
    this.#rate = normalise(bytesPerSecond);
    this.#tokens = this.#burst();
    this.#last = now();
  }

  get bytesPerSecond(): number {
    return this.#rate;
  }

  set bytesPerSecond(value: number) {
    this.#refill();
    this.#rate = normalise(value);
    this.#tokens = Math.min(this.#tokens, this.#burst());
  }

  /** Takes `bytes`; returns how long (ms) the caller should pause before reading more. */
  consume(bytes: number): number {
    if (this.#rate === Number.POSITIVE_INFINITY) return 0;
    this.#refill();
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#rate) * 1000;
  }

  /** A tenth of a second's worth: enough to absorb one socket read, small enough to hold the rate. */
  #burst(): number {
    return this.#rate === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.max(64 * 1024, this.#rate / 10);
  }

  #refill(): void {
    const now = this.#now();
    if (this.#rate !== Number.POSITIVE_INFINITY) this.#tokens = Math.min(this.#burst(), this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
  }
}

function normalise(bytesPerSecond: number): number {
  return bytesPerSecond > 0 && Number.isFinite(bytesPerSecond) ? bytesPerSecond : Number.POSITIVE_INFINITY;
}
