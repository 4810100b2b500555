/**
 * The direct receive path: one ranged GET over a plain-TCP keep-alive connection whose body is
 * read by the kernel straight into the writer's batch buffer (see connections.ts). It takes only
 * what it can frame exactly, a response with one Content-Length and no Transfer-Encoding, and
 * hands every head to the same sink (so the same response gate judges it) as undici's path does.
 * Anything else (a redirect, a chunked or close-delimited body) is declined before the sink sees
 * it: the request is sent again through undici, which then serves that origin for good.
 */
import { DownloadError } from '../../errors.js';
import { RequestRelay } from '../request-relay.js';
import { drainable, REDIRECT_STATUSES, type RequestHandle, type RequestSpec, type ResponseSink } from '../transport.js';
import type { DirectConnection, DirectPool } from './connections.js';
import { bodyLength, headEnd, keepsAlive, MAX_HEAD_BYTES, parseHead, type ParsedHead } from './response-head.js';

/** The sink's in-place interface (fetch-job's ranged sink has it). */
export interface DirectSink extends ResponseSink {
  /** Where the next body bytes may land in place, or undefined (they then go to `data`, copied). */
  region(): Buffer | undefined;
  /** `bytes` landed at the start of the last region; the same answer as `data`. */
  landed(bytes: number): boolean;
}

/** Thrown inside to send the request through undici instead. */
export class Declined extends Error {}

type State =
  /** `pending`: the start of a head that came in an earlier read (a copy: reads reuse their buffer). */
  | { kind: 'head'; pending: Buffer | undefined }
  | { kind: 'body'; left: number; reusable: boolean }
  | { kind: 'drain'; left: number; refusal: unknown; reusable: boolean }
  | { kind: 'done' };

/**
 * Sends `spec` directly, or declines: `done` then rejects with Declined before anything reached
 * the sink (the caller sends it through undici).
 */
export function sendDirect(pool: DirectPool, spec: RequestSpec, sink: DirectSink): RequestHandle {
  const relay = new RequestRelay();
  const handle: RequestHandle = {
    done: (async () => {
      for (let fresh = false; ; fresh = true) {
        const reused = fresh ? undefined : pool.reuse(spec.url);
        const connection = reused ?? (await pool.open(spec.url, spec.signal));
        const request = new DirectRequest(pool, connection, spec, sink);
        relay.attach(request);
        try {
          return await request.done;
        } catch (error) {
          // A parked connection the server had closed meanwhile: nothing was answered, ask on a new one.
          if (reused !== undefined && request.silent && !spec.signal.aborted && relay.aborted === undefined) continue;
          throw error;
        }
      }
    })(),
    pause: () => relay.pause(),
    resume: () => relay.resume(),
    abort: (reason) => relay.abort(reason),
    cut: () => relay.cut(),
  };
  return handle;
}

class DirectRequest {
  readonly done: Promise<{ url: URL }>;
  readonly #pool: DirectPool;
  readonly #connection: DirectConnection;
  readonly #spec: RequestSpec;
  readonly #sink: DirectSink;
  #state: State = { kind: 'head', pending: undefined };
  /** The region last handed to a read: a read into it landed in place. */
  #handed: Buffer | undefined;
  #settle!: (error: unknown) => void;
  #headTimer: NodeJS.Timeout | undefined;
  #bytesRead = 0;
  #paused = false;

  constructor(pool: DirectPool, connection: DirectConnection, spec: RequestSpec, sink: DirectSink) {
    this.#pool = pool;
    this.#connection = connection;
    this.#spec = spec;
    this.#sink = sink;
    this.done = new Promise<{ url: URL }>((resolve, reject) => {
      let settled = false;
      this.#settle = (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(this.#headTimer);
        spec.signal.removeEventListener('abort', onAbort);
        connection.unclaim();
        if (error === undefined) resolve({ url: spec.url });
        else reject(error);
      };
    });
    const onAbort = () => this.abort(spec.signal.reason as Error);
    spec.signal.addEventListener('abort', onAbort, { once: true });
    this.#headTimer = setTimeout(
      () => this.#fail(new DownloadError('ERR_NETWORK', `network error: no response head within ${spec.headersTimeoutMs} ms`, { url: spec.url.href })),
      spec.headersTimeoutMs,
    );
    connection.claim({
      nextBuffer: () => this.#nextBuffer(),
      onRead: (bytes, buffer) => this.#onRead(bytes, buffer as Buffer),
      onClose: (error) => this.#onClose(error),
    });
    connection.socket.write(requestText(spec));
  }

  /** Nothing at all came back (a kept-alive connection the server had already closed). */
  get silent(): boolean {
    return this.#bytesRead === 0;
  }

  // Once done, the connection may already carry another request: a late pause or resume from
  // this one's writer must not reach it.
  pause(): void {
    if (this.#paused || this.#state.kind === 'done') return;
    this.#paused = true;
    this.#connection.socket.pause();
  }

  resume(): void {
    if (!this.#paused || this.#state.kind === 'done') return;
    this.#paused = false;
    this.#connection.socket.resume();
  }

  abort(reason: Error): void {
    if (this.#state.kind === 'done') return;
    this.#fail(reason);
  }

  /** The sink has what it wants: end now (the connection is kept only if its response is complete). */
  cut(): void {
    if (this.#state.kind === 'done') return;
    this.#finish(false);
  }

  #nextBuffer(): Uint8Array {
    const state = this.#state;
    this.#handed = undefined;
    if (state.kind === 'body' && state.left > 0) {
      const region = this.#sink.region();
      if (region !== undefined && region.length > 0) {
        this.#handed = region.length > state.left ? region.subarray(0, state.left) : region;
        return this.#handed;
      }
      return this.#connection.scratch.subarray(0, Math.min(this.#connection.scratch.length, state.left));
    }
    if (state.kind === 'drain' && state.left > 0) return this.#connection.scratch.subarray(0, Math.min(this.#connection.scratch.length, state.left));
    return this.#connection.scratch;
  }

  #onRead(bytes: number, buffer: Buffer): boolean {
    this.#bytesRead += bytes;
    const inPlace = buffer === this.#handed;
    this.#handed = undefined;
    try {
      if (inPlace) return this.#inPlace(bytes);
      this.#bytes(buffer.subarray(0, bytes));
    } catch (error) {
      this.#fail(error);
      return false;
    }
    return !this.#paused;
  }

  /** Body bytes read straight into the sink's region. */
  #inPlace(bytes: number): boolean {
    const state = this.#state as Extract<State, { kind: 'body' }>;
    state.left -= bytes;
    const more = this.#sink.landed(bytes);
    if (state.left === 0) this.#finish(state.reusable);
    else if (!more) this.#finish(false);
    return !this.#paused;
  }

  /** Bytes read into scratch (or a buffer the socket started with): the head, or body bytes to copy. */
  #bytes(view: Buffer): void {
    let rest = view;
    while (rest.length > 0) {
      const state = this.#state;
      if (state.kind === 'done') {
        // More than the response announced: the connection is out of step. What was needed is in.
        this.#connection.socket.destroy();
        return;
      }
      if (state.kind === 'head') {
        rest = this.#head(state, rest);
        continue;
      }
      const take = Math.min(rest.length, state.left);
      const piece = rest.subarray(0, take);
      rest = rest.subarray(take);
      state.left -= take;
      if (state.kind === 'drain') {
        if (state.left === 0) this.#refuse(state);
        continue;
      }
      // The read buffer is used again for the next read: the sink copies what it keeps.
      const more = this.#sink.data(piece, true);
      if (state.left === 0) this.#finish(state.reusable);
      else if (!more) this.#finish(false);
    }
  }

  /** Collects the head; once complete, judges it and returns the bytes after it. */
  #head(state: Extract<State, { kind: 'head' }>, view: Buffer): Buffer {
    // A head that fits in one read (the usual case) is parsed where it was read, never copied.
    const all = state.pending === undefined ? view : Buffer.concat([state.pending, view]);
    const end = headEnd(all);
    if (end < 0) {
      if (all.length > MAX_HEAD_BYTES) throw new DownloadError('ERR_PROTOCOL', 'malformed response: response head too large', { url: this.#spec.url.href });
      state.pending = all === view ? Buffer.from(view) : all;
      return Buffer.alloc(0);
    }
    const head = parseHead(all.subarray(0, end), this.#spec.url.href);
    const after = all.subarray(end);
    // Informational answers (100 Continue, 103 Early Hints) come before the real one: skip them.
    if (head.status < 200) {
      this.#state = { kind: 'head', pending: undefined };
      return after;
    }
    clearTimeout(this.#headTimer);
    this.#judge(head);
    return after;
  }

  #judge(head: ParsedHead): void {
    const url = this.#spec.url;
    if (REDIRECT_STATUSES.has(head.status) && head.headers.location !== undefined) throw this.#decline();
    const transferCoded = head.headers['transfer-encoding'] !== undefined;
    const length = transferCoded ? 'none' : bodyLength(head.headers, url.href);
    const reusable = keepsAlive(head);
    if (length === 'none' && head.status >= 200 && head.status < 300) throw this.#decline();
    try {
      this.#sink.head({ status: head.status, headers: head.headers, url });
    } catch (refusal) {
      // A short answer that says no is read to its end, so the connection can be used again.
      if (length !== 'none' && drainable(head.headers)) {
        this.#state = { kind: 'drain', left: length, refusal, reusable };
        if (length === 0) this.#refuse(this.#state);
        return;
      }
      throw refusal;
    }
    if (length === 'none') throw new DownloadError('ERR_PROTOCOL', `status ${head.status} without a length accepted`, { url: url.href });
    this.#state = { kind: 'body', left: length, reusable };
    if (length === 0) this.#finish(reusable);
  }

  #decline(): Declined {
    this.#pool.decline(this.#spec.url.origin);
    return new Declined(`${this.#spec.url.origin}: answer needs undici`);
  }

  #refuse(state: Extract<State, { kind: 'drain' }>): void {
    this.#state = { kind: 'done' };
    this.#release(state.reusable);
    this.#settle(state.refusal);
  }

  #finish(reusable: boolean): void {
    const state = this.#state;
    const complete = state.kind === 'body' && state.left === 0;
    this.#state = { kind: 'done' };
    this.#release(reusable && complete);
    this.#settle(undefined);
  }

  #fail(error: unknown): void {
    this.#state = { kind: 'done' };
    this.#release(false);
    this.#settle(error);
  }

  #release(reusable: boolean): void {
    const connection = this.#connection;
    connection.unclaim();
    if (reusable && !connection.closed) {
      // Parked connections keep reading, so a close by the server is seen at once.
      connection.socket.resume();
      this.#pool.park(this.#spec.url, connection);
    } else {
      connection.socket.destroy();
    }
  }

  #onClose(error: Error | undefined): void {
    const state = this.#state;
    if (state.kind === 'done') return;
    const url = this.#spec.url.href;
    if (state.kind === 'body' || (state.kind === 'head' && this.#bytesRead > 0)) {
      this.#fail(new DownloadError('ERR_INCOMPLETE', `connection closed before the response was complete${error ? `: ${error.message}` : ''}`, { url, cause: error }));
      return;
    }
    if (state.kind === 'drain') return this.#refuse(state);
    // Closed before answering: the same classification undici gives it (a host turning a connection away).
    const cause = error ?? Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    this.#fail(new DownloadError('ERR_NETWORK', `network error: ${cause.message}`, { url, cause }));
  }
}

/** The request head: the spec's headers (already validated by the options) plus Host. */
function requestText(spec: RequestSpec): string {
  let text = `${spec.method} ${spec.url.pathname}${spec.url.search} HTTP/1.1\r\nhost: ${spec.url.host}\r\n`;
  for (const [name, value] of Object.entries(spec.headers)) {
    if (name.toLowerCase() === 'host') continue;
    text += `${name}: ${value}\r\n`;
  }
  return `${text}\r\n`;
}
