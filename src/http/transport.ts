/**
 * One HTTP request through undici's low-level dispatch API: no stream objects, chunks go
 * straight to a sink, pause/resume gives back-pressure. Redirects are followed here so that
 * `Range` is re-sent and only http(s) targets are accepted.
 */
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { DownloadError, toDownloadError } from '../errors.js';
import { parseContentLength } from './content-range.js';
import { locationText } from './location.js';
import { RequestRelay } from './request-relay.js';

export interface ResponseHead {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered (after redirects). */
  url: URL;
}

/** Receives one response. `head` may throw to refuse it before any byte is accepted. */
export interface ResponseSink {
  head(response: ResponseHead): void;
  /**
   * Returns false once the sink has every byte it wants: the request is then cut short. A chunk
   * marked `reused` lives in a buffer the caller reads into again: copy whatever is kept.
   */
  data(chunk: Buffer, reused?: boolean): boolean;
}

export interface RequestSpec {
  url: URL;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Longest wait for response headers. */
  headersTimeoutMs: number;
}

/** Controls for a request in flight. */
export interface RequestHandle {
  /** Settles when the response ended (or was cut short because the sink had all it wanted). */
  done: Promise<{ url: URL }>;
  pause(): void;
  resume(): void;
  abort(reason: Error): void;
  /** Ends the request now as if the sink had all it wanted: `done` resolves (the connection is not reused). */
  cut(): void;
}

const MAX_REDIRECTS = 20;
export const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Headers that must not follow a redirect to another origin (catalogue case 49). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** Refused answers with a body up to this long are read to their end rather than cut. */
const DRAIN_LIMIT = 64 * 1024;

/** Whether a refused answer is short enough to read to its end: it says how long it is, and that is little. */
export function drainable(headers: IncomingHttpHeaders): boolean {
  const length = parseContentLength(headers['content-length']);
  return length !== undefined && !Number.isNaN(length) && length <= DRAIN_LIMIT;
}

/** Thrown into undici to cut a response short once the sink has what it needs. */
class SinkSatisfied extends Error {}

export function sendRequest(dispatcher: Dispatcher, spec: RequestSpec, sink: ResponseSink): RequestHandle {
  const relay = new RequestRelay();
  const handle: RequestHandle = {
    done: undefined as unknown as RequestHandle['done'],
    pause: () => relay.pause(),
    resume: () => relay.resume(),
    abort: (reason) => relay.abort(reason),
    cut: () => relay.abort(new SinkSatisfied('cut short')),
  };
  handle.done = (async () => {
    let url = spec.url;
    let headers = spec.headers;
    for (let hop = 0; ; hop++) {
      const outcome = await dispatchOnce(dispatcher, { ...spec, url, headers }, sink, (c) => relay.attach(c));
      if (outcome.redirect === undefined) return { url };
      if (hop >= MAX_REDIRECTS) throw new DownloadError('ERR_PROTOCOL', `too many redirects (more than ${MAX_REDIRECTS})`, { url: spec.url.href });
      const next = resolveRedirect(url, outcome.redirect);
      if (url.origin !== next.origin) headers = withoutCredentials(headers);
      url = next;
    }
  })();
  return handle;
}

function resolveRedirect(from: URL, location: string | string[]): URL {
  if (Array.isArray(location)) {
    throw new DownloadError('ERR_PROTOCOL', 'redirect with more than one Location header', { url: from.href });
  }
  let next: URL;
  try {
    next = new URL(locationText(location), from);
  } catch (cause) {
    throw new DownloadError('ERR_PROTOCOL', `redirect to an invalid URL: ${location}`, { url: from.href, cause });
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new DownloadError('ERR_PROTOCOL', `redirect to a ${next.protocol} URL refused`, { url: from.href });
  }
  if (from.protocol === 'https:' && next.protocol === 'http:') {
    throw new DownloadError('ERR_PROTOCOL', 'redirect from https to http refused', { url: from.href });
  }
  return next;
}

/** Drops the headers that must not reach another origin. */
export function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  const out = { ...headers };
  for (const name of CREDENTIAL_HEADERS) delete out[name];
  return out;
}

interface Outcome {
  redirect: string | string[] | undefined;
}

function dispatchOnce(
  dispatcher: Dispatcher,
  spec: RequestSpec,
  sink: ResponseSink,
  onController: (controller: Dispatcher.DispatchController) => void,
): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    let redirect: string | string[] | undefined;
    let headReceived = false;
    /** The sink refused the response: its (short) body is read and dropped, then this is the outcome. */
    let refusal: unknown;
    let drained = 0;
    let settled = false;
    const url = spec.url;
    const settle = (error: unknown) => {
      if (settled) return;
      settled = true;
      spec.signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve({ redirect });
      else reject(error);
    };
    let controllerRef: Dispatcher.DispatchController | undefined;
    const onAbort = () => controllerRef?.abort(spec.signal.reason as Error);
    spec.signal.addEventListener('abort', onAbort, { once: true });

    dispatcher.dispatch(
      {
        origin: url.origin,
        path: url.pathname + url.search,
        method: spec.method,
        headers: { ...spec.headers, host: url.host },
        headersTimeout: spec.headersTimeoutMs,
        // Stalls are detected by the scheduler within seconds; this is only a backstop.
        bodyTimeout: 0,
      },
      {
        onRequestStart(controller) {
          controllerRef = controller;
          if (spec.signal.aborted) controller.abort(spec.signal.reason as Error);
          else onController(controller);
        },
        onResponseStart(controller, statusCode, headers) {
          // Informational heads (103 Early Hints, an unsolicited 100) are not the answer and their
          // headers never apply to the body (RFC 9110 §15.2): undici parses on to the final one.
          if (statusCode < 200) return;
          headReceived = true;
          if (REDIRECT_STATUSES.has(statusCode) && headers.location !== undefined) {
            redirect = headers.location;
            return;
          }
          try {
            sink.head({ status: statusCode, headers, url });
          } catch (error) {
            // A short answer that says no (503, 404, a 416) is read to its end: aborting it would
            // make undici open a fresh socket at once, an idle connection the host may count.
            if (drainable(headers)) refusal = error;
            else {
              settle(error);
              controller.abort(error as Error);
            }
          }
        },
        onResponseData(controller, chunk) {
          if (refusal !== undefined) {
            drained += chunk.length;
            if (drained > DRAIN_LIMIT) {
              settle(refusal);
              controller.abort(refusal as Error);
            }
            return;
          }
          if (settled || redirect !== undefined) return;
          try {
            if (!sink.data(chunk)) {
              settle(undefined);
              controller.abort(new SinkSatisfied('segment complete'));
            }
          } catch (error) {
            settle(error);
            controller.abort(error as Error);
          }
        },
        onResponseEnd() {
          settle(refusal);
        },
        onResponseError(_controller, error) {
          if (settled) return;
          if (error instanceof SinkSatisfied) return settle(undefined);
          if (spec.signal.aborted) settle(spec.signal.reason);
          else settle(error instanceof DownloadError ? error : classify(error, headReceived, url.href));
        },
      },
    );
  });
}

/**
 * A connection that fails after the server started answering (headers received, or any byte
 * read on a fresh socket) cut a response short: Incomplete. Before that it is a network failure.
 */
function classify(error: Error, headReceived: boolean, url: string): DownloadError {
  // undici checks Content-Length before handing over the headers: refused there, the header itself is bad.
  if ((error as { code?: string }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' && !headReceived) {
    return new DownloadError('ERR_PROTOCOL', `malformed Content-Length: ${error.message}`, { url, cause: error });
  }
  const mapped = toDownloadError(error, url);
  if (mapped.code !== 'ERR_NETWORK') return mapped;
  const bytesRead = (error as { socket?: { bytesRead?: number } }).socket?.bytesRead ?? 0;
  if (!headReceived && bytesRead === 0) return mapped;
  return new DownloadError('ERR_INCOMPLETE', `connection closed before the response was complete: ${error.message}`, { url, cause: error });
}
