import { describe, expect, it } from 'vitest';
import { DownloadError, isRetryable, toDownloadError, type ErrorCode } from '../../src/errors.js';

const ALL_CODES: ErrorCode[] = [
  'ERR_HTTP_STATUS',
  'ERR_RANGE_MISMATCH',
  'ERR_PROTOCOL',
  'ERR_RANGE_UNSUPPORTED',
  'ERR_REMOTE_CHANGED',
  'ERR_INCOMPLETE',
  'ERR_NETWORK',
  'ERR_PROXY',
  'ERR_STALLED',
  'ERR_RETRIES_EXHAUSTED',
  'ERR_CHECKSUM_MISMATCH',
  'ERR_LOCKED',
  'ERR_TARGET_EXISTS',
  'ERR_DISK_FULL',
  'ERR_IO',
  'ERR_TOO_LARGE',
  'ERR_INVALID_OPTION',
  'ERR_UNSAFE_FILENAME',
  'ERR_ABORTED',
];
const RETRYABLE: ErrorCode[] = ['ERR_NETWORK', 'ERR_INCOMPLETE', 'ERR_STALLED', 'ERR_RANGE_MISMATCH'];

function osError(code: string, message = `${code}: simulated`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe('DownloadError', () => {
  it('carries code, context and cause', () => {
    const cause = new Error('low level');
    const error = new DownloadError('ERR_HTTP_STATUS', 'server answered 503', {
      url: 'http://h/f',
      segment: { start: 0, end: 10 },
      status: 503,
      retryAfterMs: 1000,
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DownloadError');
    expect(error.message).toBe('server answered 503');
    expect(error).toMatchObject({ code: 'ERR_HTTP_STATUS', url: 'http://h/f', segment: { start: 0, end: 10 }, status: 503, retryAfterMs: 1000 });
    expect(error.cause).toBe(cause);
  });

  it('has no cause property when none is given', () => {
    const error = new DownloadError('ERR_IO', 'x');
    expect('cause' in error).toBe(false);
    expect(error.url).toBeUndefined();
    expect(error.status).toBeUndefined();
  });
});

describe('isRetryable', () => {
  it.each(ALL_CODES.filter((c) => c !== 'ERR_HTTP_STATUS'))('%s', (code) => {
    expect(isRetryable(new DownloadError(code, 'x'))).toBe(RETRYABLE.includes(code));
  });

  it.each([
    [408, true],
    [425, true],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [403, false],
    [404, true], // mid-download only: a missing file fails at the probe (curl t3035)
    [410, false],
    [416, false],
    [501, false],
    [505, false],
    [304, false],
  ])('ERR_HTTP_STATUS %i → %s', (status, retryable) => {
    expect(isRetryable(new DownloadError('ERR_HTTP_STATUS', 'x', { status }))).toBe(retryable);
  });

  it('ERR_HTTP_STATUS without a status is not retryable', () => {
    expect(isRetryable(new DownloadError('ERR_HTTP_STATUS', 'x'))).toBe(false);
  });

  it('a status on a non-HTTP code does not matter', () => {
    expect(isRetryable(new DownloadError('ERR_PROTOCOL', 'x', { status: 503 }))).toBe(false);
    expect(isRetryable(new DownloadError('ERR_NETWORK', 'x', { status: 404 }))).toBe(true);
  });

  it.each([
    ['a plain Error', new Error('ECONNRESET')],
    ['an errno error', osError('ECONNRESET')],
    ['a string', 'ERR_NETWORK'],
    ['null', null],
    ['undefined', undefined],
    ['a look-alike object', { code: 'ERR_NETWORK', name: 'DownloadError' }],
  ])('%s is not retryable (only DownloadErrors are judged)', (_name, value) => {
    expect(isRetryable(value)).toBe(false);
  });
});

describe('toDownloadError', () => {
  it.each<[string, unknown, ErrorCode]>([
    ['ENOSPC', osError('ENOSPC'), 'ERR_DISK_FULL'],
    ['EFBIG', osError('EFBIG'), 'ERR_DISK_FULL'],
    ['ENOSPC on a plain object', { code: 'ENOSPC' }, 'ERR_DISK_FULL'],
    ...(['EACCES', 'EPERM', 'EIO', 'EROFS', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOENT', 'EBADF', 'EMFILE', 'ENFILE', 'ELOOP'] as const).map(
      (code): [string, unknown, ErrorCode] => [code, osError(code), 'ERR_IO'],
    ),
    ['ECONNRESET', osError('ECONNRESET'), 'ERR_NETWORK'],
    ['ECONNREFUSED', osError('ECONNREFUSED'), 'ERR_NETWORK'],
    ['ETIMEDOUT', osError('ETIMEDOUT'), 'ERR_NETWORK'],
    ['ENOTFOUND', osError('ENOTFOUND'), 'ERR_NETWORK'],
    ['EPIPE', osError('EPIPE'), 'ERR_NETWORK'],
    ['EHOSTUNREACH', osError('EHOSTUNREACH'), 'ERR_NETWORK'],
    ['EAI_AGAIN', osError('EAI_AGAIN'), 'ERR_NETWORK'],
    ['undici socket error', osError('UND_ERR_SOCKET'), 'ERR_NETWORK'],
    ['undici headers timeout', osError('UND_ERR_HEADERS_TIMEOUT'), 'ERR_NETWORK'],
    ['TLS certificate error', osError('CERT_HAS_EXPIRED'), 'ERR_TLS'],
    ['self-signed certificate', osError('DEPTH_ZERO_SELF_SIGNED_CERT'), 'ERR_TLS'],
    ['wrong host', osError('ERR_TLS_CERT_ALTNAME_INVALID'), 'ERR_TLS'],
    ['lower-case fs-like code is not trusted as fs', { code: 'eacces' }, 'ERR_NETWORK'],
    ['numeric code', { code: 13 }, 'ERR_NETWORK'],
    ['Error without code', new Error('socket hang up'), 'ERR_NETWORK'],
    ['string', 'boom', 'ERR_NETWORK'],
    ['null', null, 'ERR_NETWORK'],
    ['undefined', undefined, 'ERR_NETWORK'],
  ])('%s → %s', (_name, input, code) => {
    const error = toDownloadError(input, 'http://h/f');
    expect(error).toBeInstanceOf(DownloadError);
    expect(error.code).toBe(code);
    expect(error.url).toBe('http://h/f');
    expect(error.cause).toBe(input);
  });

  it('passes a DownloadError through unchanged (same object, url not overwritten)', () => {
    const original = new DownloadError('ERR_STALLED', 'stalled', { url: 'http://a/' });
    expect(toDownloadError(original, 'http://b/')).toBe(original);
    expect(original.url).toBe('http://a/');
  });

  it('keeps the low-level message in a network error', () => {
    expect(toDownloadError(new Error('socket hang up')).message).toContain('socket hang up');
    expect(toDownloadError('boom').message).toContain('boom');
    expect(toDownloadError(osError('ENOENT')).message).toContain('ENOENT');
  });

  it('url is optional', () => {
    expect(toDownloadError(osError('ECONNRESET')).url).toBeUndefined();
  });

  it.each<[string, unknown, boolean]>([
    ['reset is retried', osError('ECONNRESET'), true],
    ['refused is retried', osError('ECONNREFUSED'), true],
    ['disk full is not retried', osError('ENOSPC'), false],
    ['permission denied is not retried', osError('EACCES'), false],
    ['EIO is not retried (no retry-then-trust)', osError('EIO'), false],
  ])('retry decision after mapping: %s', (_name, input, retryable) => {
    expect(isRetryable(toDownloadError(input))).toBe(retryable);
  });
});
