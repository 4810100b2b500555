/**
 * The request that starts a download is the download: a ranged GET from the first byte wanted.
 * Its head tells the size, range support, validators and a name (no HEAD round trip); its body is
 * kept for the job that starts there. It is retried, timed and gated like any other request.
 */
import type { Dispatcher } from 'undici';
import { DownloadError, isRetryable, toDownloadError } from '../errors.js';
import { retryDelay, type RetryOptions } from '../schedule/retry.js';
import { sleep } from '../sleep.js';
import { parseContentRange, rangeHeader } from './content-range.js';
import { PendingResponse } from './pending-response.js';
import { checkBodyForm, checkRangeResponse, checkStatus, checkWholeResponse } from './response-gate.js';
import { sendRequest, type ResponseHead } from './transport.js';

export interface RemoteInfo {
  /** The URL after redirects: every range request goes here. */
  url: URL;
  size: number | undefined;
  acceptsRanges: boolean;
  /** Strong ETag only: a weak one cannot guard a byte range (RFC 9110 §13.1.5). */
  etag: string | undefined;
  lastModified: string | undefined;
  /** The name the server suggests (raw; sanitise before use). */
  contentDisposition: string | undefined;
}

/**
 * What the first request asks for when nothing is on disk yet. Big enough that most files come
 * in this one request (no second round trip when one connection is all that pays), bounded so
 * that servers which answer an open-ended `bytes=0-` with a 200 still answer with a 206, and so
 * that little of a large file comes through undici: its 64 KiB chunks are garbage V8 frees only
 * every 64 MiB, while later requests read straight into the write buffers (src/http/direct).
 */
export const FIRST_WINDOW = 16 * 1024 * 1024;

export interface FirstRequestParams {
  dispatcher: Dispatcher;
  url: URL;
  headers: Record<string, string>;
  signal: AbortSignal;
  /** The inclusive byte range to ask for. */
  first: number;
  last: number;
  /** A strong validator of the bytes already on disk: a changed file then answers 200, never a spliced 206. */
  ifRange?: string | undefined;
  /** The output already exists with this mtime: a 304 (with the same Last-Modified) proves it current. */
  ifModifiedSince?: string | undefined;
  retry: RetryOptions;
  /** Longest wait for the response head (the first-byte timeout). */
  headersTimeoutMs: number;
  onRetry?: (attempt: number, delayMs: number, error: DownloadError) => void;
}

export type FirstResponse =
  /** A 206 from `first`, or a 200 (the whole file from byte 0): `body` waits for a job to adopt it. */
  | { kind: 'body'; remote: RemoteInfo; body: PendingResponse; firstByteMs: number }
  /** No body to keep: a 416 (its Content-Range total is the size: `*\/0` is an empty file), a 304, or a probe. */
  | { kind: 'unsatisfied' | 'not-modified'; remote: RemoteInfo; firstByteMs: number }
  /** No request at all: a complete manifest already says what the file is. */
  | { kind: 'known'; remote: RemoteInfo; firstByteMs: undefined };

/** Sends the first request, retrying what a segment would retry (not a 404: a missing file fails at once). */
export async function requestFirst(params: FirstRequestParams): Promise<FirstResponse> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await sendFirst(params);
    } catch (raw) {
      if (params.signal.aborted) throw params.signal.reason;
      const error = toDownloadError(raw, params.url.href);
      // With no retry allowed at all, the failure itself is the clearest message.
      if (!isRetryable(error) || error.status === 404 || params.retry.attempts === 0) throw error;
      if (attempt >= params.retry.attempts) {
        throw new DownloadError('ERR_RETRIES_EXHAUSTED', `gave up after ${attempt + 1} attempts: ${error.message}`, {
          url: error.url,
          status: error.status,
          cause: error,
        });
      }
      const delayMs = retryDelay(attempt + 1, params.retry, error.retryAfterMs);
      params.onRetry?.(attempt + 1, delayMs, error);
      await sleep(delayMs, params.signal);
    }
  }
}

/** What a source (a mirror, a renewed link) serves, from one small ranged GET whose body is dropped. */
export async function probeSource(params: Omit<FirstRequestParams, 'first' | 'last' | 'ifRange' | 'ifModifiedSince'>): Promise<RemoteInfo> {
  const answer = await requestFirst({ ...params, first: 0, last: 0 });
  if (answer.kind === 'body') answer.body.discard();
  return answer.remote;
}

function sendFirst(p: FirstRequestParams): Promise<FirstResponse> {
  const headers: Record<string, string> = { ...p.headers, range: rangeHeader(p.first, p.last), 'accept-encoding': 'identity' };
  if (p.ifRange !== undefined) headers['if-range'] = p.ifRange;
  if (p.ifModifiedSince !== undefined) headers['if-modified-since'] = p.ifModifiedSince;
  const sentAt = performance.now();
  return new Promise<FirstResponse>((resolve, reject) => {
    let pending: PendingResponse | undefined;
    let answered = false;
    const handle = sendRequest(p.dispatcher, { url: p.url, method: 'GET', headers, signal: p.signal, headersTimeoutMs: p.headersTimeoutMs }, {
      head(response) {
        const firstByteMs = performance.now() - sentAt;
        const answer = judge(response, p);
        answered = true;
        if (answer.body === undefined) {
          // Nothing to read: stop now, whatever framing (or lack of it) the server chose.
          handle.cut();
          resolve({ kind: answer.kind, remote: answer.remote, firstByteMs });
          return;
        }
        pending = new PendingResponse(response, handle, answer.body);
        resolve({ kind: 'body', remote: answer.remote, body: pending, firstByteMs });
      },
      data: (chunk) => pending?.push(chunk) ?? false,
    });
    handle.done.then(
      () => {
        if (!answered) reject(new DownloadError('ERR_PROTOCOL', 'no response headers', { url: p.url.href }));
      },
      (error: unknown) => {
        if (!answered) reject(error);
      },
    );
  });
}

type Judged =
  | { kind: 'body'; remote: RemoteInfo; body: { start: number; end: number | undefined; whole: boolean } }
  | { kind: 'unsatisfied' | 'not-modified'; remote: RemoteInfo; body?: undefined };

/** Reads the first response's head; throws for anything a download cannot start from. */
function judge(head: ResponseHead, p: FirstRequestParams): Judged {
  const url = head.url.href;
  const info = (size: number | undefined, acceptsRanges: boolean): RemoteInfo => remoteInfo(head, size, acceptsRanges);
  if (head.status === 304 && p.ifModifiedSince !== undefined) return { kind: 'not-modified', remote: info(undefined, true) };
  if (head.status === 416) {
    const range = parseContentRange(single(head.headers['content-range']));
    if (range?.kind !== 'unsatisfied') throw new DownloadError('ERR_PROTOCOL', '416 without a valid Content-Range', { url, status: 416 });
    // Only an empty file or a resume past the end explains a 416 to a range that starts at `first`.
    if (range.total > p.first) throw new DownloadError('ERR_PROTOCOL', `416 for bytes ${p.first}-${p.last} of a ${range.total}-byte file`, { url, status: 416 });
    return { kind: 'unsatisfied', remote: info(range.total, true) };
  }
  checkStatus(head.status, head.headers, url);
  checkBodyForm(head.status, head.headers, url);
  if (head.status === 206) {
    const range = parseContentRange(single(head.headers['content-range']));
    if (range?.kind !== 'range') throw new DownloadError('ERR_PROTOCOL', `invalid Content-Range: ${String(head.headers['content-range'])}`, { url, status: 206 });
    if (range.total === undefined) {
      // A range of a file of unknown length: nothing to plan with. One plain stream instead.
      return { kind: 'body', remote: info(undefined, false), body: { start: range.start, end: range.end + 1, whole: false } };
    }
    // The gate every later response passes, with the size this one reveals.
    checkRangeResponse(206, head.headers, p.first, p.last, { url, size: range.total, etag: undefined, lastModified: undefined });
    return { kind: 'body', remote: info(range.total, true), body: { start: p.first, end: range.end + 1, whole: false } };
  }
  if (head.status !== 200) throw new DownloadError('ERR_PROTOCOL', `unexpected status ${head.status} to a range request`, { url, status: head.status });
  const length = checkWholeResponse(200, head.headers, { url, size: undefined, etag: undefined, lastModified: undefined });
  // A 200 is the whole file from byte 0. One that still says Accept-Ranges deserves a second look:
  // ranged requests may work where this one was not honoured (or its If-Range failed).
  const advertised = /\bbytes\b/i.test(single(head.headers['accept-ranges']) ?? '');
  return { kind: 'body', remote: info(length, advertised && length !== undefined), body: { start: 0, end: length, whole: true } };
}

function remoteInfo(head: ResponseHead, size: number | undefined, acceptsRanges: boolean): RemoteInfo {
  const etag = single(head.headers.etag);
  return {
    url: head.url,
    size,
    acceptsRanges,
    etag: etag !== undefined && !etag.startsWith('W/') ? etag : undefined,
    lastModified: single(head.headers['last-modified']),
    contentDisposition: single(head.headers['content-disposition']),
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

