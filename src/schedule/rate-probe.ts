/**
 * The rate of the first response, read so that a burst does not pass for the link: whatever
 * piled up while the body waited (socket buffers, a server's token bucket, a proxy) arrives at
 * once when it starts flowing. The counter is sampled every few milliseconds and the rate is the
 * slowest stretch of at least SPAN_MS: a burst lifts the early stretches only, a steady link looks
 * the same in all of them, and TCP's slow start (which only speeds up) errs toward more connections.
 */
const SAMPLE_MS = 5;
const SPAN_MS = 15;

export class RateProbe {
  readonly #samples: Array<{ at: number; bytes: number }> = [];
  readonly #timer: NodeJS.Timeout;
  readonly #now: () => number;
  readonly #count: () => number;

  constructor(count: () => number, now: () => number = () => performance.now()) {
    this.#count = count;
    this.#now = now;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  #sample(): void {
    this.#samples.push({ at: this.#now(), bytes: this.#count() });
  }

  /** Bytes per second since sampling began, burst included: an upper bound of the link's rate (0 before the first byte). */
  ceiling(): number {
    const first = this.#samples[0]!;
    const elapsed = this.#now() - first.at;
    return elapsed > 0 ? ((this.#count() - first.bytes) * 1000) / elapsed : 0;
  }

  /** Stops sampling and returns the slowest stretch's bytes per second (0 when nothing was measured). */
  finish(): number {
    clearInterval(this.#timer);
    this.#sample();
    return slowestRate(this.#samples, SPAN_MS);
  }
}

/** Pure: the lowest rate over any stretch of consecutive samples spanning at least `span` ms. */
export function slowestRate(samples: ReadonlyArray<{ at: number; bytes: number }>, span: number): number {
  let slowest = Number.POSITIVE_INFINITY;
  for (let i = 0, j = 0; i < samples.length; i++) {
    j = Math.max(j, i + 1);
    while (j < samples.length && samples[j]!.at - samples[i]!.at < span) j++;
    if (j >= samples.length) break;
    const a = samples[i]!;
    const b = samples[j]!;
    slowest = Math.min(slowest, ((b.bytes - a.bytes) * 1000) / (b.at - a.at));
  }
  if (slowest !== Number.POSITIVE_INFINITY) return slowest;
  const first = samples[0];
  const last = samples[samples.length - 1];
  return first !== undefined && last !== undefined && last.at > first.at ? ((last.bytes - first.bytes) * 1000) / (last.at - first.at) : 0;
}
