/**
 * How many connections one download may use right now. It starts small and doubles while every
 * connection it opened is streaming (so a host that limits connections sees few refusals);
 * a 429/503 brings it down to what the host has shown it accepts, and it stays there.
 * Pure: the scheduler reports what happened, this answers with a limit.
 */
export class ConcurrencyControl {
  readonly #max: number;
  #limit: number;
  #ceiling: number;

  constructor(max: number, initial = 4) {
    this.#max = max;
    this.#ceiling = max;
    this.#limit = Math.min(max, initial);
  }

  get limit(): number {
    return this.#limit;
  }

  /** Whether the host has pushed back at least once. */
  get constrained(): boolean {
    return this.#ceiling < this.#max;
  }

  /** `streaming` connections are receiving body bytes; grow when all allowed ones are. */
  onStreaming(streaming: number): number {
    if (streaming >= this.#limit && this.#limit < this.#ceiling) this.#limit = Math.min(this.#ceiling, this.#limit * 2);
    return this.#limit;
  }

  /** The host refused a connection (429/503): keep only what is working, never grow past it again. */
  onOverload(streaming: number): number {
    this.#limit = Math.max(1, Math.min(this.#limit - 1, streaming));
    this.#ceiling = this.#limit;
    return this.#limit;
  }
}
