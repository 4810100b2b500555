/**
 * How many connections one download may use right now. It starts small and doubles while every
 * connection it opened is streaming (so a host that limits connections sees few refusals). A
 * 429/503 brings it down to the connections that work; after a quiet second it probes one more,
 * so a transient refusal does not cost the rest of the download. Pure: the scheduler reports
 * what happened, this answers with a limit.
 */
/** Time without refusals before trying one more connection than the host last accepted. */
const PROBE_AFTER_MS = 1000;

export class ConcurrencyControl {
  readonly #max: number;
  #limit: number;
  #ceiling: number;
  #lastOverload = Number.NEGATIVE_INFINITY;

  constructor(max: number, initial = 4) {
    this.#max = max;
    this.#ceiling = max;
    this.#limit = Math.min(max, initial);
  }

  get limit(): number {
    return this.#limit;
  }

  /** `streaming` connections are receiving body bytes; grow when all allowed ones are. */
  onStreaming(streaming: number, now: number): number {
    if (streaming < this.#limit) return this.#limit;
    if (this.#limit < this.#ceiling) {
      this.#limit = Math.min(this.#ceiling, this.#limit * 2);
    } else if (this.#ceiling < this.#max && now - this.#lastOverload >= PROBE_AFTER_MS) {
      this.#ceiling++;
      this.#limit++;
    }
    return this.#limit;
  }

  /** The host refused a request (429/503): keep the connections that work, and no more for now. */
  onOverload(streaming: number, now: number): number {
    this.#lastOverload = now;
    this.#limit = streaming > 0 ? Math.min(this.#limit, streaming) : Math.max(1, Math.floor(this.#limit / 2));
    this.#ceiling = this.#limit;
    return this.#limit;
  }
}
