/**
 * A request handle whose request may be carried by one thing after another: undici's dispatch
 * controller hop after hop of a redirect chain, a direct connection and then a fresh one, the
 * direct path and then undici after a decline. What the handle was asked (pause, abort, cut)
 * before or while a carrier takes over is remembered and replayed on it, in one place.
 */
export interface RequestCarrier {
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
  /** Absent where a cut is an abort (undici's controller: the handle turns it into one). */
  cut?(): void;
}

export class RequestRelay {
  #carrier: RequestCarrier | undefined;
  #paused = false;
  #cut = false;
  #aborted: Error | undefined;

  /** The abort asked for, if any (the first reason wins). */
  get aborted(): Error | undefined {
    return this.#aborted;
  }

  /** `carrier` carries the request from now on: it is told what was asked so far. */
  attach(carrier: RequestCarrier): void {
    this.#carrier = carrier;
    if (this.#aborted !== undefined) carrier.abort(this.#aborted);
    else if (this.#cut) carrier.cut?.();
    else if (this.#paused) carrier.pause();
  }

  pause(): void {
    this.#paused = true;
    this.#carrier?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#carrier?.resume();
  }

  abort(reason: Error): void {
    this.#aborted ??= reason;
    this.#carrier?.abort(reason);
  }

  cut(): void {
    this.#cut = true;
    this.#carrier?.cut?.();
  }
}
