import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { DownloadError, type ErrorCode } from '../../src/errors.js';
import { checkRangeResponse, checkStatus, checkWholeResponse, type Expected } from '../../src/http/response-gate.js';

const URL_ = 'http://127.0.0.1:1/file.bin';
const SIZE = 1000;
const expected: Expected = { url: URL_, size: SIZE, etag: '"v1"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' };

type Outcome = 'body' | 'already-complete' | ErrorCode;

function thrown(fn: () => unknown): DownloadError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DownloadError);
    return error as DownloadError;
  }
  throw new Error('expected a DownloadError, nothing was thrown');
}

function rangeOutcome(status: number, headers: IncomingHttpHeaders, first: number, last: number, exp: Expected = expected): Outcome {
  try {
    return checkRangeResponse(status, headers, first, last, exp).kind;
  } catch (error) {
    expect(error).toBeInstanceOf(DownloadError);
    const e = error as DownloadError;
    expect(e.url).toBe(exp.url);
    return e.code;
  }
}

describe('checkRangeResponse', () => {
  const ok = (first: number, last: number): IncomingHttpHeaders => ({
    'content-range': `bytes ${first}-${last}/${SIZE}`,
    'content-length': String(last - first + 1),
    etag: '"v1"',
  });

  it.each<{ name: string; status: number; headers: IncomingHttpHeaders; first: number; last: number; outcome: Outcome }>([
    // Catalogue 1
    { name: '206 exact', status: 206, headers: ok(0, 499), first: 0, last: 499, outcome: 'body' },
    { name: '206 exact, middle segment', status: 206, headers: ok(500, 749), first: 500, last: 749, outcome: 'body' },
    { name: '206 exact, last byte', status: 206, headers: ok(999, 999), first: 999, last: 999, outcome: 'body' },
    { name: '206 without Content-Length', status: 206, headers: { 'content-range': 'bytes 0-499/1000' }, first: 0, last: 499, outcome: 'body' },
    { name: '206 with unknown total', status: 206, headers: { 'content-range': 'bytes 0-499/*', 'content-length': '500' }, first: 0, last: 499, outcome: 'body' },
    { name: '206 with Content-Encoding identity', status: 206, headers: { ...ok(0, 9), 'content-encoding': 'Identity ' }, first: 0, last: 9, outcome: 'body' },
    { name: '206 with a plain content type', status: 206, headers: { ...ok(0, 9), 'content-type': 'application/octet-stream' }, first: 0, last: 9, outcome: 'body' },
    { name: '206 with equal duplicate Content-Length', status: 206, headers: { ...ok(0, 9), 'content-length': ['10', '10'] as unknown as string }, first: 0, last: 9, outcome: 'body' },
    // Catalogue 2/3: a 200 to a ranged request
    { name: '200 instead of 206', status: 200, headers: { 'content-length': '1000', etag: '"v1"' }, first: 0, last: 499, outcome: 'ERR_RANGE_UNSUPPORTED' },
    { name: '200 at offset > 0', status: 200, headers: { 'content-length': '1000' }, first: 500, last: 999, outcome: 'ERR_RANGE_UNSUPPORTED' },
    // Catalogue 12: If-Range answered with 200 because the file changed
    { name: '200 with a new ETag', status: 200, headers: { 'content-length': '1000', etag: '"v2"' }, first: 500, last: 999, outcome: 'ERR_REMOTE_CHANGED' },
    // Catalogue 4
    { name: 'start differs (later)', status: 206, headers: ok(1, 499), first: 0, last: 499, outcome: 'ERR_RANGE_MISMATCH' },
    { name: 'start differs (earlier)', status: 206, headers: ok(0, 999), first: 500, last: 999, outcome: 'ERR_RANGE_MISMATCH' },
    // Catalogue 5: the caller clamps
    { name: 'end beyond requested', status: 206, headers: ok(0, 599), first: 0, last: 499, outcome: 'body' },
    { name: 'end beyond requested, up to EOF', status: 206, headers: ok(0, 999), first: 0, last: 499, outcome: 'body' },
    // Catalogue 8
    { name: 'short 206 ending at size-1 (asked past EOF)', status: 206, headers: ok(900, 999), first: 900, last: 1099, outcome: 'body' },
    { name: 'short 206 not at EOF', status: 206, headers: ok(0, 399), first: 0, last: 499, outcome: 'ERR_RANGE_MISMATCH' },
    { name: 'short 206 one byte before EOF when asked past EOF', status: 206, headers: ok(900, 998), first: 900, last: 1099, outcome: 'ERR_RANGE_MISMATCH' },
    // Catalogue 6
    { name: 'total larger than probed', status: 206, headers: { 'content-range': 'bytes 0-499/2000' }, first: 0, last: 499, outcome: 'ERR_REMOTE_CHANGED' },
    { name: 'total smaller than probed', status: 206, headers: { 'content-range': 'bytes 0-499/999' }, first: 0, last: 499, outcome: 'ERR_REMOTE_CHANGED' },
    // Catalogue 7
    { name: 'Content-Range last < first', status: 206, headers: { 'content-range': 'bytes 499-0/1000' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Range total ≤ last', status: 206, headers: { 'content-range': 'bytes 0-499/499' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Range unit items', status: 206, headers: { 'content-range': 'items 0-499/1000' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Range garbage', status: 206, headers: { 'content-range': 'garbage' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Range missing', status: 206, headers: { 'content-length': '500' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Range unsatisfied form on a 206', status: 206, headers: { 'content-range': 'bytes */1000' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    {
      name: 'Content-Range duplicated',
      status: 206,
      headers: { 'content-range': ['bytes 0-499/1000', 'bytes 0-499/1000'] as unknown as string },
      first: 0,
      last: 499,
      outcome: 'ERR_PROTOCOL',
    },
    // Catalogue 9
    {
      name: 'multipart/byteranges',
      status: 206,
      headers: { 'content-type': 'multipart/byteranges; boundary=THIS_STRING_SEPARATES' },
      first: 0,
      last: 499,
      outcome: 'ERR_PROTOCOL',
    },
    { name: 'multipart/byteranges, odd case, with a valid Content-Range', status: 206, headers: { ...ok(0, 499), 'content-type': 'Multipart/ByteRanges; boundary=x' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    // Catalogue 10
    { name: 'Content-Length one short', status: 206, headers: { ...ok(0, 499), 'content-length': '499' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Length one long', status: 206, headers: { ...ok(0, 499), 'content-length': '501' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Length non-numeric', status: 206, headers: { ...ok(0, 499), 'content-length': 'abc' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Length conflicting duplicates', status: 206, headers: { ...ok(0, 499), 'content-length': '500, 501' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Length of the whole file', status: 206, headers: { ...ok(0, 499), 'content-length': '1000' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    // Catalogue 14
    { name: 'Content-Encoding gzip', status: 206, headers: { ...ok(0, 499), 'content-encoding': 'gzip' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Encoding br', status: 206, headers: { ...ok(0, 499), 'content-encoding': 'br' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Encoding gzip, identity', status: 206, headers: { ...ok(0, 499), 'content-encoding': 'gzip, identity' }, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    // Validators (catalogue 39)
    { name: 'ETag changed', status: 206, headers: { ...ok(0, 499), etag: '"v2"' }, first: 0, last: 499, outcome: 'ERR_REMOTE_CHANGED' },
    { name: 'ETag now weak', status: 206, headers: { ...ok(0, 499), etag: 'W/"v1"' }, first: 0, last: 499, outcome: 'ERR_REMOTE_CHANGED' },
    { name: 'ETag absent from the response', status: 206, headers: { 'content-range': 'bytes 0-499/1000' }, first: 0, last: 499, outcome: 'body' },
    {
      name: 'Last-Modified differs but the ETag matches (ETag wins)',
      status: 206,
      headers: { ...ok(0, 499), 'last-modified': 'Thu, 22 Oct 2015 07:28:00 GMT' },
      first: 0,
      last: 499,
      outcome: 'body',
    },
    // Catalogue 11
    { name: '416 */N when resuming at N', status: 416, headers: { 'content-range': 'bytes */1000' }, first: 1000, last: 1999, outcome: 'already-complete' },
    { name: '416 */N past N', status: 416, headers: { 'content-range': 'bytes */1000' }, first: 1500, last: 1999, outcome: 'already-complete' },
    { name: '416 */M with M < N', status: 416, headers: { 'content-range': 'bytes */800' }, first: 1000, last: 1999, outcome: 'ERR_REMOTE_CHANGED' },
    { name: '416 */M with M > N', status: 416, headers: { 'content-range': 'bytes */1200' }, first: 1000, last: 1999, outcome: 'ERR_REMOTE_CHANGED' },
    { name: '416 */N for a range inside the file', status: 416, headers: { 'content-range': 'bytes */1000' }, first: 500, last: 999, outcome: 'ERR_RANGE_MISMATCH' },
    { name: '416 without Content-Range', status: 416, headers: {}, first: 1000, last: 1999, outcome: 'ERR_PROTOCOL' },
    { name: '416 with a satisfied Content-Range', status: 416, headers: { 'content-range': 'bytes 0-1/1000' }, first: 1000, last: 1999, outcome: 'ERR_PROTOCOL' },
    { name: '416 with garbage Content-Range', status: 416, headers: { 'content-range': 'bytes */x' }, first: 1000, last: 1999, outcome: 'ERR_PROTOCOL' },
    // Other statuses
    { name: '503', status: 503, headers: {}, first: 0, last: 499, outcome: 'ERR_HTTP_STATUS' },
    { name: '404', status: 404, headers: {}, first: 0, last: 499, outcome: 'ERR_HTTP_STATUS' },
    { name: '304', status: 304, headers: {}, first: 0, last: 499, outcome: 'ERR_HTTP_STATUS' },
    { name: '204 (2xx but not 206)', status: 204, headers: {}, first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
    { name: '203 with a valid Content-Range', status: 203, headers: ok(0, 499), first: 0, last: 499, outcome: 'ERR_PROTOCOL' },
  ])('$name → $outcome', ({ status, headers, first, last, outcome }) => {
    expect(rangeOutcome(status, headers, first, last)).toBe(outcome);
  });

  it.each<{ name: string; exp: Expected; headers: IncomingHttpHeaders; outcome: Outcome }>([
    {
      name: 'no ETag held: a changed Last-Modified means the remote changed',
      exp: { ...expected, etag: undefined },
      headers: { ...ok(0, 9), etag: undefined, 'last-modified': 'Thu, 22 Oct 2015 07:28:00 GMT' },
      outcome: 'ERR_REMOTE_CHANGED',
    },
    {
      name: 'no ETag held: the same Last-Modified is fine',
      exp: { ...expected, etag: undefined },
      headers: { ...ok(0, 9), 'last-modified': expected.lastModified },
      outcome: 'body',
    },
    {
      name: 'no validators held: any response validators are fine',
      exp: { ...expected, etag: undefined, lastModified: undefined },
      headers: { ...ok(0, 9), etag: '"new"', 'last-modified': 'Thu, 22 Oct 2015 07:28:00 GMT' },
      outcome: 'body',
    },
    {
      name: 'a different size in Expected turns the same total into a change',
      exp: { ...expected, size: 2000 },
      headers: ok(0, 9),
      outcome: 'ERR_REMOTE_CHANGED',
    },
  ])('$name', ({ exp, headers, outcome }) => {
    expect(rangeOutcome(206, headers, 0, 9, exp)).toBe(outcome);
  });

  it('503 with Retry-After carries status and retryAfterMs', () => {
    const error = thrown(() => checkRangeResponse(503, { 'retry-after': '7' }, 0, 499, expected));
    expect(error.code).toBe('ERR_HTTP_STATUS');
    expect(error.status).toBe(503);
    expect(error.retryAfterMs).toBe(7000);
    expect(error.url).toBe(URL_);
  });

  it('429 with an HTTP-date Retry-After in the past waits 0', () => {
    const error = thrown(() => checkRangeResponse(429, { 'retry-after': 'Fri, 31 Dec 1999 23:59:59 GMT' }, 0, 499, expected));
    expect(error.code).toBe('ERR_HTTP_STATUS');
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(0);
  });

  it('503 without Retry-After has no retryAfterMs', () => {
    const error = thrown(() => checkRangeResponse(503, {}, 0, 499, expected));
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('range errors carry the status', () => {
    expect(thrown(() => checkRangeResponse(206, ok(1, 499), 0, 499, expected)).status).toBe(206);
    expect(thrown(() => checkRangeResponse(200, {}, 0, 499, expected)).status).toBe(200);
    expect(thrown(() => checkRangeResponse(416, {}, 1000, 1999, expected)).status).toBe(416);
  });
});

describe('checkStatus', () => {
  it.each([200, 201, 204, 206, 299])('%i passes', (status) => {
    expect(() => checkStatus(status, {}, URL_)).not.toThrow();
  });
  it.each([100, 199, 301, 304, 400, 404, 416, 429, 500, 503])('%i throws ERR_HTTP_STATUS', (status) => {
    const error = thrown(() => checkStatus(status, {}, URL_));
    expect(error.code).toBe('ERR_HTTP_STATUS');
    expect(error.status).toBe(status);
  });
});

describe('checkWholeResponse', () => {
  const whole = { url: URL_, size: 1000 as number | undefined, etag: undefined, lastModified: undefined };
  function wholeOutcome(status: number, headers: IncomingHttpHeaders, size: number | undefined): number | undefined | ErrorCode {
    try {
      return checkWholeResponse(status, headers, { ...whole, size });
    } catch (error) {
      expect(error).toBeInstanceOf(DownloadError);
      return (error as DownloadError).code;
    }
  }

  it.each<{ name: string; status: number; headers: IncomingHttpHeaders; size?: number | undefined; outcome: number | undefined | ErrorCode }>([
    { name: '200 with the expected length', status: 200, headers: { 'content-length': '1000' }, outcome: 1000 },
    { name: '200 without Content-Length', status: 200, headers: {}, outcome: undefined },
    { name: '200, unknown size: length is returned', status: 200, headers: { 'content-length': '1234' }, size: undefined, outcome: 1234 },
    { name: '200, unknown size, no length', status: 200, headers: {}, size: undefined, outcome: undefined },
    { name: '200 with an empty body', status: 200, headers: { 'content-length': '0' }, size: 0, outcome: 0 },
    { name: 'equal duplicate Content-Length', status: 200, headers: { 'content-length': '1000, 1000' }, outcome: 1000 },
    { name: 'identity encoding', status: 200, headers: { 'content-length': '1000', 'content-encoding': 'identity' }, outcome: 1000 },
    { name: 'length differs from the probe', status: 200, headers: { 'content-length': '999' }, outcome: 'ERR_REMOTE_CHANGED' },
    { name: 'Content-Length non-numeric', status: 200, headers: { 'content-length': 'abc' }, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Length negative', status: 200, headers: { 'content-length': '-1' }, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Length conflicting', status: 200, headers: { 'content-length': '1000, 1001' }, outcome: 'ERR_PROTOCOL' },
    { name: 'Content-Length beyond 2^53-1', status: 200, headers: { 'content-length': '9007199254740992' }, size: undefined, outcome: 'ERR_PROTOCOL' },
    { name: 'gzip', status: 200, headers: { 'content-length': '1000', 'content-encoding': 'gzip' }, outcome: 'ERR_PROTOCOL' },
    { name: '206 to a plain GET', status: 206, headers: { 'content-range': 'bytes 0-999/1000' }, outcome: 'ERR_PROTOCOL' },
    { name: '204', status: 204, headers: {}, outcome: 'ERR_PROTOCOL' },
    { name: '404', status: 404, headers: {}, outcome: 'ERR_HTTP_STATUS' },
    { name: '503', status: 503, headers: { 'retry-after': '3' }, outcome: 'ERR_HTTP_STATUS' },
  ])('$name → $outcome', (row) => {
    // Rows without a `size` key check against the probed size of 1000; `size: undefined` means no probed size.
    const size = 'size' in row ? row.size : 1000;
    expect(wholeOutcome(row.status, row.headers, size)).toBe(row.outcome);
  });

  it('503 with Retry-After carries retryAfterMs', () => {
    const error = thrown(() => checkWholeResponse(503, { 'retry-after': '3' }, whole));
    expect(error.code).toBe('ERR_HTTP_STATUS');
    expect(error.status).toBe(503);
    expect(error.retryAfterMs).toBe(3000);
    expect(error.url).toBe(URL_);
  });
});
