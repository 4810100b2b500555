/**
 * How many connections one download may use right now. It starts where the scheduler says (the
 * connections worth opening, or the maximum) and does not ramp: `open` sets a new target at once.
 * A host that pushes back (429/503, refused or reset connections) brings it down to the
 * connections that work; after a quiet second it probes one more, so a transient refusal does
 * not cost the rest of the download.
 *
 * In adaptive mode a doubling must also pay: once the new connections have settled, the
 * aggregate throughput has to have risen by a margin, or growth stops there (more connections
 * to a server that is already saturated, or a client that is CPU-bound, only add overhead).
 * Pure: the scheduler reports what happened, this answers with a limit.
 */
/** Adaptive mode starts with few and lets measurements justify every step. */
const ADAPTIVE_INITIAL = 2;
/** Time without refusals before trying one more connection than the host last accepted. */
const PROBE_AFTER_MS = 1000;
/** Time for new connections to show what they add before the next step is judged. */
const SETTLE_MS = 300;
/** A step pays if throughput rose by at least this fraction. */
const GAIN = 0.15;

export class ConcurrencyControl {
  #max: number;
  readonly #adaptive: boolean;
  #limit: number;
  #ceiling: number;
  #lastOverload = Number.NEGATIVE_INFINITY;
  #lastGrowth: { rateBefore: number } | undefined;
  /** Adaptive: since when (and from which byte count) every allowed connection has streamed at this limit. */
  #full: { since: number; bytes: number } | undefined;

  constructor(max: number, options: { initial?: number; adaptive?: boolean } = {}) {
    this.#max = max;
    this.#ceiling = max;
    this.#adaptive = options.adaptive ?? false;
    this.#limit = Math.min(max, options.initial ?? (this.#adaptive ? ADAPTIVE_INITIAL : max));
  }

  /** Raises the limit to `target` now (within the maximum and what the host last accepted); adaptive mode keeps its own pace. */
  open(target: number): number {
    if (!this.#adaptive) this.#limit = Math.max(this.#limit, Math.min(target, this.#ceiling));
    return this.#limit;
  }

  get limit(): number {
    return this.#limit;
  }

  /**
   * `streaming` connections are receiving body bytes, `received` is the download's byte count so
   * far. Adaptive: grows when all allowed connections stream and the last step paid (the average
   * rate over this level's settled period beats the previous level's by GAIN). Both modes probe
   * one more connection a quiet second after the host last refused one.
   */
  evaluate(streaming: number, now: number, received: number): number {
    if (streaming < this.#limit) {
      this.#full = undefined;
      return this.#limit;
    }
    if (this.#adaptive && this.#limit < this.#ceiling) {
      // Judge a level only once all its connections stream, by its average over a settled period.
      this.#full ??= { since: now, bytes: received };
      const elapsed = now - this.#full.since;
      if (elapsed < SETTLE_MS) return this.#limit;
      const rate = ((received - this.#full.bytes) * 1000) / elapsed;
      if (rate <= 0) return this.#limit;
      if (this.#lastGrowth !== undefined && rate < this.#lastGrowth.rateBefore * (1 + GAIN)) {
        this.#ceiling = this.#limit; // the last step did not pay: stay here
        return this.#limit;
      }
      this.#full = undefined;
      this.#lastGrowth = { rateBefore: rate };
      this.#limit = Math.min(this.#ceiling, this.#limit * 2);
    } else if (this.#ceiling < this.#max && now - this.#lastOverload >= PROBE_AFTER_MS && this.#lastOverload > Number.NEGATIVE_INFINITY) {
      this.#ceiling++;
      this.#limit++;
    }
    return this.#limit;
  }

  /**
   * A new maximum chosen by the caller while the download runs (a live `connections` change).
   * The limit goes straight to it; adaptive mode keeps earning every step up to it.
   */
  setMax(max: number): number {
    this.#max = max;
    this.#ceiling = max;
    this.#limit = this.#adaptive ? Math.min(this.#limit, max) : max;
    this.#full = undefined;
    return this.#limit;
  }

  /** The host refused a request (429/503, a refused or reset connection): keep the connections that work, and no more for now. */
  onOverload(working: number, now: number): number {
    this.#lastOverload = now;
    // Refusals come in bursts, some before the accepted connections stream: what works when the
    // last of them lands is what the host takes (never the lower count seen earlier).
    this.#limit = working > 0 ? Math.min(this.#max, working) : Math.max(1, Math.floor(this.#limit / 2));
    this.#ceiling = this.#limit;
    return this.#limit;
  }
}
