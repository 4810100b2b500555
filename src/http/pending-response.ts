/**
 * The first response of a download, held between its head and the job that takes its body. The
 * head says what the download is (size, validators, a name); deciding where the bytes go takes a
 * few milliseconds (output name, lock, resume), so the body waits paused, its first chunk kept,
 * until a job adopts it as its own request. Nothing is fetched twice.
 */
import type { RequestHandle, ResponseHead, ResponseSink } from './transport.js';

export class PendingResponse {
  readonly head: ResponseHead;
  /** File offset of the body's first byte. */
  readonly start: number;
  /** One past the body's last byte, when the response says (a 200 without Content-Length does not). */
  readonly end: number | undefined;
  /** A 200: the whole file from byte 0, not a range. */
  readonly whole: boolean;
  readonly #handle: RequestHandle;
  readonly #buffered: Buffer[] = [];
  #sink: ResponseSink | undefined;
  #taken = false;
  /** The shared-budget slot its connection counts against, until a job takes it over. */
  #slot: (() => void) | undefined;

  constructor(head: ResponseHead, handle: RequestHandle, body: { start: number; end: number | undefined; whole: boolean }) {
    this.head = head;
    this.#handle = handle;
    this.start = body.start;
    this.end = body.end;
    this.whole = body.whole;
    // A failure before anyone adopts the body is seen by the adopter (or by nobody, if it is discarded).
    handle.done.catch(() => {});
  }

  /** Keeps `release` (a connection slot) with the response until a job takes it or it is discarded. */
  holdSlot(release: () => void): void {
    this.#slot = release;
  }

  /** The held slot, once: whoever takes it must release it. */
  takeSlot(): (() => void) | undefined {
    const slot = this.#slot;
    this.#slot = undefined;
    return slot;
  }

  /** Whether a job may still take it. */
  get available(): boolean {
    return !this.#taken;
  }

  /** Body bytes from the transport: kept (and the socket paused) until a sink takes over. */
  push(chunk: Buffer): boolean {
    if (this.#sink !== undefined) return this.#sink.data(chunk);
    this.#buffered.push(chunk);
    this.#handle.pause();
    return true;
  }

  /**
   * Hands the response to `sink` as if it had sent the request: its `head` judges the response
   * (a throw refuses it), the kept bytes are replayed, and the body flows on to it.
   */
  adopt(sink: ResponseSink, signal: AbortSignal): RequestHandle {
    if (this.#taken) throw new Error('the first response was already taken');
    this.#taken = true;
    // The request was sent under the download's signal; from now on the adopter's also stops it.
    const onAbort = () => this.#handle.abort(signal.reason as Error);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void this.#handle.done.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {});
    try {
      sink.head(this.head);
    } catch (error) {
      this.#handle.abort(error as Error);
      throw error;
    }
    for (const chunk of this.#buffered.splice(0)) {
      if (!sink.data(chunk)) {
        this.#handle.cut();
        return this.#handle;
      }
    }
    this.#sink = sink;
    this.#handle.resume();
    return this.#handle;
  }

  /** Nobody wants it (the output exists, a resume starts elsewhere): stop it. */
  discard(): void {
    this.takeSlot()?.();
    if (this.#taken) return;
    this.#taken = true;
    this.#buffered.length = 0;
    this.#handle.cut();
  }
}
