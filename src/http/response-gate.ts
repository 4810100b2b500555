/**
 * The checks every response passes before a byte of it is written (DESIGN §1 transport):
 * status, exact Content-Range, consistent Content-Length, no content coding, no multipart,
 * validators unchanged. Pure: headers in, verdict (or a thrown DownloadError) out.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { parseContentLength, parseContentRange } from './content-range.js';
import { DownloadError } from '../errors.js';
import { parseRetryAfter } from '../schedule/retry.js';

export interface Expected {
  url: string;
  size: number;
  etag: string | undefined;
  lastModified: string | undefined;
}

export type RangeVerdict = { kind: 'body' } | { kind: 'already-complete' };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Throws for an HTTP status that carries no usable body. */
export function checkStatus(status: number, headers: IncomingHttpHeaders, url: string): void {
  if (status >= 200 && status < 300) return;
  throw new DownloadError('ERR_HTTP_STATUS', `server answered ${status}`, {
    url,
    status,
    retryAfterMs: parseRetryAfter(headers['retry-after']),
  });
}

/** The remote changed if a strong validator we hold differs from the response's. */
function checkValidators(headers: IncomingHttpHeaders, expected: Expected): void {
  const etag = header(headers, 'etag');
  if (expected.etag !== undefined && etag !== undefined && etag !== expected.etag) {
    throw new DownloadError('ERR_REMOTE_CHANGED', `remote file changed (ETag ${expected.etag} → ${etag})`, { url: expected.url });
  }
  const lastModified = header(headers, 'last-modified');
  if (expected.etag === undefined && expected.lastModified !== undefined && lastModified !== undefined && lastModified !== expected.lastModified) {
    throw new DownloadError('ERR_REMOTE_CHANGED', `remote file changed (Last-Modified ${expected.lastModified} → ${lastModified})`, {
      url: expected.url,
    });
  }
}

/** No content or transfer coding and no multipart body: checks a response needs before its range is even read. */
export function checkBodyForm(status: number, headers: IncomingHttpHeaders, url: string): void {
  checkEncoding(headers, url);
  if (status === 206 && /multipart\/byteranges/i.test(header(headers, 'content-type') ?? '')) {
    throw new DownloadError('ERR_PROTOCOL', 'multipart/byteranges answer to a single range', { url, status });
  }
}

function checkEncoding(headers: IncomingHttpHeaders, url: string): void {
  const encoding = header(headers, 'content-encoding');
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new DownloadError('ERR_PROTOCOL', `server applied Content-Encoding ${encoding} despite Accept-Encoding: identity`, { url });
  }
  // undici removes chunked framing and nothing else: a body under any other transfer coding would
  // be saved still coded. A client that did not ask for one cannot trust it (RFC 9112 §6.1).
  const transfer = header(headers, 'transfer-encoding');
  const codings = transfer?.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '') ?? [];
  if (codings.some((c) => c !== 'chunked')) {
    throw new DownloadError('ERR_PROTOCOL', `server applied Transfer-Encoding ${transfer} (only chunked is accepted)`, { url });
  }
}

/**
 * Gate for a response to `Range: bytes=first-last`. Returns whether a body follows; a 416
 * that says the file is exactly `first` long means there is nothing left to fetch.
 */
export function checkRangeResponse(status: number, headers: IncomingHttpHeaders, first: number, last: number, expected: Expected): RangeVerdict {
  const url = expected.url;
  if (status === 416) {
    const range = parseContentRange(header(headers, 'content-range'));
    if (range?.kind !== 'unsatisfied') throw new DownloadError('ERR_PROTOCOL', '416 without a valid Content-Range', { url, status });
    if (range.total !== expected.size) {
      throw new DownloadError('ERR_REMOTE_CHANGED', `remote size is now ${range.total}, expected ${expected.size}`, { url, status });
    }
    if (first >= range.total) return { kind: 'already-complete' };
    throw new DownloadError('ERR_RANGE_MISMATCH', `416 for bytes ${first}-${last} of a ${range.total}-byte file`, { url, status });
  }
  checkStatus(status, headers, url);
  checkValidators(headers, expected);
  if (status === 200) {
    throw new DownloadError('ERR_RANGE_UNSUPPORTED', 'server ignored the Range header (200 instead of 206)', { url, status });
  }
  if (status !== 206) throw new DownloadError('ERR_PROTOCOL', `unexpected status ${status} to a range request`, { url, status });
  checkBodyForm(status, headers, url);
  const raw = header(headers, 'content-range');
  const range = parseContentRange(raw);
  if (range?.kind !== 'range') throw new DownloadError('ERR_PROTOCOL', `invalid Content-Range: ${String(raw)}`, { url, status });
  if (range.total !== undefined && range.total !== expected.size) {
    throw new DownloadError('ERR_REMOTE_CHANGED', `remote size is now ${range.total}, expected ${expected.size}`, { url, status });
  }
  // A shorter answer is fine only when it ends at the last byte of the file (RFC 9110 §14.1.2).
  const expectedLast = Math.min(last, expected.size - 1);
  if (range.start !== first || range.end < expectedLast) {
    throw new DownloadError('ERR_RANGE_MISMATCH', `asked for bytes ${first}-${last}, got ${range.start}-${range.end}`, {
      url,
      status,
    });
  }
  const length = parseContentLength(headers['content-length']);
  if (length !== undefined && length !== range.end - range.start + 1) {
    throw new DownloadError('ERR_PROTOCOL', `Content-Length ${String(headers['content-length'])} does not match Content-Range ${String(raw)}`, {
      url,
      status,
    });
  }
  return { kind: 'body' };
}

/** Gate for a whole-file GET (single-stream mode). */
export function checkWholeResponse(status: number, headers: IncomingHttpHeaders, expected: Omit<Expected, 'size'> & { size: number | undefined }): number | undefined {
  checkStatus(status, headers, expected.url);
  if (status !== 200) throw new DownloadError('ERR_PROTOCOL', `unexpected status ${status} to a plain GET`, { url: expected.url, status });
  checkEncoding(headers, expected.url);
  const length = parseContentLength(headers['content-length']);
  if (length !== undefined && Number.isNaN(length)) {
    throw new DownloadError('ERR_PROTOCOL', `invalid Content-Length: ${String(headers['content-length'])}`, { url: expected.url, status });
  }
  if (expected.size !== undefined && length !== undefined && length !== expected.size) {
    throw new DownloadError('ERR_REMOTE_CHANGED', `remote size is now ${length}, expected ${expected.size}`, { url: expected.url, status });
  }
  return length;
}
