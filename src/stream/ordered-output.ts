/**
 * Streaming a download to a Writable (`segdl URL -o -`, or a Writable as the library's `output`):
 * the connections' batches arrive out of order, and each waits, in its own pooled buffer, until
 * every byte before it has been written out. A batch's write resolves only once the Writable has
 * taken its bytes, so a connection ahead of the output holds at most its two buffers and then
 * pauses, and a slow reader slows the whole download: memory stays near two 1 MiB buffers per
 * connection whatever the file size. The digests are computed here, in order, as bytes pass.
 */
import type { Writable } from 'node:stream';
import { DownloadError } from '../errors.js';
import type { WriteTarget } from '../disk/writer.js';
import { SEAM_BYTES } from '../transfer/fetch-job.js';
import type { InOrderDigest } from '../verify/in-order-digest.js';

/** Pieces may start at most this far past the bytes already written out (the scheduler's window). */
export const STREAM_WINDOW_BYTES = 64 * 1024 * 1024;

interface Waiting {
  buffer: Buffer;
  length: number;
  resolve(): void;
  reject(error: unknown): void;
}

export class OrderedOutput implements WriteTarget {
  readonly #writable: Writable;
  readonly #digest: InOrderDigest;
  readonly #waiting = new Map<number, Waiting>();
  #emitted = 0;
  /** Bytes handed to the Writable (written out, or queued in it). */
  #handed = 0;
  /** Handed over, their write not yet called back (a destroyed Writable may never call back). */
  readonly #inWritable = new Set<Waiting>();
  #failure: unknown;
  /** The last bytes written out: a fresh segment's seam is compared with them. */
  #tail = Buffer.alloc(0);
  readonly #url: string;
  /** The seam a segment starting at `offset` fetched (the bytes just before it, as its server sent them). */
  seamAt: (offset: number) => Buffer | undefined = () => undefined;
  /** The output moved on (the scheduler may hand out the next pieces). */
  onAdvance: () => void = () => {};
  /** The Writable failed or closed before the end: the download must stop. */
  onClosed: (error: DownloadError) => void = () => {};
  readonly #closeListener: () => void;
  readonly #errorListener: (error: Error) => void;

  constructor(writable: Writable, digest: InOrderDigest, url: string) {
    this.#writable = writable;
    this.#digest = digest;
    this.#url = url;
    this.#errorListener = (error) => this.#fail(new DownloadError('ERR_OUTPUT_CLOSED', `the output failed after ${this.#emitted} bytes: ${error.message}`, { url, cause: error }));
    this.#closeListener = () => this.#fail(new DownloadError('ERR_OUTPUT_CLOSED', `the output closed after ${this.#emitted} bytes`, { url }));
    writable.on('error', this.#errorListener);
    writable.on('close', this.#closeListener);
  }

  /** Bytes written out so far: the file's prefix the reader has. */
  get emitted(): number {
    return this.#emitted;
  }

  write(buffer: Buffer, length: number, position: number): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (position < this.#handed) {
      return Promise.reject(new DownloadError('ERR_STREAM_BROKEN', `bytes from ${position} would have to be written again, but ${this.#emitted} are already out`, { url: this.#url }));
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(position, { buffer, length, resolve, reject });
      this.#pump();
    });
  }

  /** Resolves once every byte up to `size` is written out. */
  async finish(size: number): Promise<void> {
    while (this.#emitted < size || this.#inWritable.size > 0) {
      if (this.#failure !== undefined) throw this.#failure;
      await new Promise<void>((resolve) => {
        const previous = this.onAdvance;
        this.onAdvance = () => {
          this.onAdvance = previous;
          previous();
          resolve();
        };
      });
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Stops listening to the Writable (the download is over; the Writable stays the caller's). */
  release(): void {
    this.#writable.off('error', this.#errorListener);
    this.#writable.off('close', this.#closeListener);
  }

  /**
   * Hands every batch that is next in order to the Writable at once (it queues them and writes
   * back to back); each batch's write resolves when the Writable has written it, so its buffer
   * stays untouched until then.
   */
  #pump(): void {
    for (;;) {
      if (this.#failure !== undefined) return;
      const next = this.#waiting.get(this.#handed);
      if (next === undefined) return;
      this.#waiting.delete(this.#handed);
      const view = next.buffer.subarray(0, next.length);
      const seam = this.#handed > 0 ? this.seamAt(this.#handed) : undefined;
      if (seam !== undefined && !seam.equals(this.#tail.subarray(this.#tail.length - seam.length))) {
        const error = new DownloadError('ERR_STREAM_BROKEN', `bytes before ${this.#handed} differ between the two responses that carried them (a server shifted a body); they are already written out`, { url: this.#url });
        next.reject(error);
        return this.#fail(error);
      }
      this.#digest.update(view);
      this.#tail = view.length >= SEAM_BYTES ? Buffer.from(view.subarray(view.length - SEAM_BYTES)) : Buffer.concat([this.#tail, view]).subarray(-SEAM_BYTES);
      this.#handed += next.length;
      this.#inWritable.add(next);
      this.#writable.write(view, (error) => {
        this.#inWritable.delete(next);
        if (error) {
          next.reject(error);
          return this.#errorListener(error);
        }
        this.#emitted += next.length;
        next.resolve();
        this.onAdvance();
      });
    }
  }

  #fail(error: DownloadError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    for (const waiting of [...this.#waiting.values(), ...this.#inWritable]) waiting.reject(error);
    this.#waiting.clear();
    this.#inWritable.clear();
    this.onClosed(error);
    this.onAdvance();
  }
}
