import { describe, expect, it } from 'vitest';
import { DownloadError } from '../../src/errors.js';
import { HASH_ALGORITHMS, parseChecksum, resolveOptions, type DownloadOptions } from '../../src/options.js';
import { DEFAULT_RETRY } from '../../src/schedule/retry.js';

function invalidOption(fn: () => unknown): DownloadError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).code).toBe('ERR_INVALID_OPTION');
    return error as DownloadError;
  }
  throw new Error('expected ERR_INVALID_OPTION, nothing was thrown');
}

/** Bypasses the types to feed what a JavaScript caller or a CLI could pass. */
const loose = (options: Record<string, unknown>) => options as unknown as DownloadOptions;

const HEX_LENGTH = { sha256: 64, sha512: 128, sha1: 40, md5: 32, xxh64: 16 } as const;

describe('resolveOptions defaults', () => {
  it('fills every documented default', () => {
    expect(resolveOptions()).toEqual({
      output: undefined,
      directory: undefined,
      connections: 8,
      checksum: undefined,
      headers: {},
      retry: DEFAULT_RETRY,
      stallTimeoutMs: 10_000,
      minSpeed: 1024,
      ifRemoteChanged: 'restart',
      ca: undefined,
      blockPrivateAddresses: false,
      maxSpeed: Number.POSITIVE_INFINITY,
      adaptiveConnections: false,
      mirrors: [],
      refreshUrl: undefined,
      signal: undefined,
      dispatcher: undefined,
      proxy: undefined, // no proxy variables in the test environment
      connectTimeoutMs: 10_000,
      directReceive: process.env['SEGDL_RECEIVE'] !== 'undici',
      onProgress: undefined,
      force: false,
      minSplitSize: 256 * 1024,
      durability: 'process',
      maxSize: Number.MAX_SAFE_INTEGER,
      progressIntervalMs: 100,
    });
  });

  it('resolveOptions({}) equals resolveOptions()', () => {
    expect(resolveOptions({})).toEqual(resolveOptions());
  });

  it('returns a retry object that is not DEFAULT_RETRY itself', () => {
    const resolved = resolveOptions();
    expect(resolved.retry).not.toBe(DEFAULT_RETRY);
  });

  it('keeps explicit values', () => {
    const signal = new AbortController().signal;
    const onProgress = () => undefined;
    const resolved = resolveOptions({
      output: 'out.bin',
      connections: 3,
      checksum: `md5:${'A'.repeat(32)}`,
      headers: { Authorization: 'Bearer x', 'X-Trace': 'a b' },
      retry: { attempts: 2 },
      stallTimeoutMs: 100,
      signal,
      onProgress,
      force: true,
      minSplitSize: 4096,
      durability: 'power',
      maxSize: 0,
      progressIntervalMs: 0,
    });
    expect(resolved).toMatchObject({
      output: 'out.bin',
      connections: 3,
      checksum: { algorithm: 'md5', hex: 'a'.repeat(32) },
      headers: { authorization: 'Bearer x', 'x-trace': 'a b' },
      retry: { ...DEFAULT_RETRY, attempts: 2 },
      stallTimeoutMs: 100,
      force: true,
      minSplitSize: 4096,
      durability: 'power',
      maxSize: 0,
      progressIntervalMs: 0,
    });
    expect(resolved.signal).toBe(signal);
    expect(resolved.onProgress).toBe(onProgress);
  });
});

describe('resolveOptions numeric ranges', () => {
  it.each<[string, Record<string, unknown>]>([
    ['connections 1', { connections: 1 }],
    ['connections 64', { connections: 64 }],
    ['retry.attempts 0', { retry: { attempts: 0 } }],
    ['retry.attempts 1000', { retry: { attempts: 1000 } }],
    ['retry.minDelayMs 0', { retry: { minDelayMs: 0 } }],
    ['retry.maxDelayMs == minDelayMs', { retry: { minDelayMs: 500, maxDelayMs: 500 } }],
    ['stallTimeoutMs 100', { stallTimeoutMs: 100 }],
    ['minSplitSize 4096', { minSplitSize: 4096 }],
    ['minSplitSize 2^40', { minSplitSize: 2 ** 40 }],
    ['maxSize 0', { maxSize: 0 }],
    ['progressIntervalMs 60000', { progressIntervalMs: 60_000 }],
  ])('accepts %s', (_name, options) => {
    expect(() => resolveOptions(loose(options))).not.toThrow();
  });

  it.each<[string, Record<string, unknown>]>([
    ['connections 0', { connections: 0 }],
    ['connections 65', { connections: 65 }],
    ['connections 1.5', { connections: 1.5 }],
    ['connections -1', { connections: -1 }],
    ['connections NaN', { connections: Number.NaN }],
    ['connections Infinity', { connections: Number.POSITIVE_INFINITY }],
    ['connections as a string', { connections: '8' }],
    ['retry.attempts -1', { retry: { attempts: -1 } }],
    ['retry.attempts 1001', { retry: { attempts: 1001 } }],
    ['retry.attempts 2.5', { retry: { attempts: 2.5 } }],
    ['retry.minDelayMs -1', { retry: { minDelayMs: -1 } }],
    ['retry.maxDelayMs below minDelayMs', { retry: { minDelayMs: 500, maxDelayMs: 499 } }],
    ['retry.maxDelayMs above an hour', { retry: { maxDelayMs: 3_600_001 } }],
    ['stallTimeoutMs 99', { stallTimeoutMs: 99 }],
    ['minSplitSize 4095', { minSplitSize: 4095 }],
    ['minSplitSize 2^40 + 1', { minSplitSize: 2 ** 40 + 1 }],
    ['maxSize -1', { maxSize: -1 }],
    ['maxSize 2^53', { maxSize: 2 ** 53 }],
    ['progressIntervalMs 60001', { progressIntervalMs: 60_001 }],
    ['progressIntervalMs -1', { progressIntervalMs: -1 }],
  ])('rejects %s', (_name, options) => {
    invalidOption(() => resolveOptions(loose(options)));
  });

  it('names the option in the message', () => {
    expect(invalidOption(() => resolveOptions({ connections: 65 })).message).toContain('connections');
    expect(invalidOption(() => resolveOptions({ minSplitSize: 1 })).message).toContain('minSplitSize');
  });
});

describe('resolveOptions other fields', () => {
  it.each<[string, Record<string, unknown>]>([
    ['durability "disk"', { durability: 'disk' }],
    ['empty output', { output: '' }],
    ['non-string output', { output: 42 }],
  ])('rejects %s', (_name, options) => {
    invalidOption(() => resolveOptions(loose(options)));
  });
});

describe('resolveOptions headers', () => {
  it('lower-cases names and keeps values', () => {
    expect(resolveOptions({ headers: { 'User-Agent': 'segdl/1', Cookie: 'a=b; c=d', 'x-empty': '' } }).headers).toEqual({
      'user-agent': 'segdl/1',
      cookie: 'a=b; c=d',
      'x-empty': '',
    });
  });

  it.each<[string, Record<string, unknown>]>([
    ['CR in a value', { 'X-A': 'a\rb' }],
    ['LF in a value', { 'X-A': 'a\nb' }],
    ['CRLF smuggling a second header', { 'X-A': 'a\r\nHost: evil' }],
    ['NUL in a value', { 'X-A': 'a\0b' }],
    ['CRLF in a name', { 'X-A\r\nHost': 'x' }],
    ['space in a name', { 'X A': 'x' }],
    ['colon in a name', { 'X-A:': 'x' }],
    ['empty name', { '': 'x' }],
    ['non-ASCII name', { 'X-É': 'x' }],
    ['non-string value', { 'X-A': 5 }],
    ['Range (managed)', { Range: 'bytes=0-1' }],
    ['range (managed, lower case)', { range: 'bytes=0-1' }],
    ['If-Range (managed)', { 'If-Range': '"v1"' }],
    ['Accept-Encoding (managed)', { 'ACCEPT-ENCODING': 'gzip' }],
  ])('rejects %s', (_name, headers) => {
    invalidOption(() => resolveOptions(loose({ headers })));
  });
});

describe('parseChecksum', () => {
  it.each(HASH_ALGORITHMS.map((algorithm) => [algorithm, HEX_LENGTH[algorithm]] as const))('%s with %i hex digits', (algorithm, length) => {
    const hex = '0123456789abcdef'.repeat(8).slice(0, length);
    expect(parseChecksum(`${algorithm}:${hex}`)).toEqual({ algorithm, hex });
  });

  it.each<[string, string, { algorithm: string; hex: string }]>([
    ['upper-case hex is lower-cased', `sha1:${'ABCDEF0123'.repeat(4)}`, { algorithm: 'sha1', hex: 'abcdef0123'.repeat(4) }],
    ['= separator', `md5=${'0'.repeat(32)}`, { algorithm: 'md5', hex: '0'.repeat(32) }],
    ['surrounding whitespace', `  xxh64:${'f'.repeat(16)}\n`, { algorithm: 'xxh64', hex: 'f'.repeat(16) }],
  ])('%s', (_name, text, expected) => {
    expect(parseChecksum(text)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['no separator', `sha256${'0'.repeat(64)}`],
    ['no digest', 'sha256:'],
    ['no algorithm', `:${'0'.repeat(64)}`],
    ['unknown algorithm', 'crc32:deadbeef'],
    ['unknown algorithm with a plausible length', `sha384:${'0'.repeat(96)}`],
    ['non-hex digest', `sha256:${'g'.repeat(64)}`],
    ['digest one digit short', `sha256:${'0'.repeat(63)}`],
    ['digest one digit long', `sha256:${'0'.repeat(65)}`],
    ['sha256 length for md5', `md5:${'0'.repeat(64)}`],
    ['md5 length for sha256', `sha256:${'0'.repeat(32)}`],
    ['space before the separator', `sha256 :${'0'.repeat(64)}`],
    ['base64 digest', 'sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='],
    ['0x prefix', `md5:0x${'0'.repeat(32)}`],
  ])('rejects %s', (_name, text) => {
    invalidOption(() => parseChecksum(text));
  });

  it('resolveOptions validates checksum through parseChecksum', () => {
    invalidOption(() => resolveOptions({ checksum: `sha256:${'0'.repeat(63)}` }));
    invalidOption(() => resolveOptions({ checksum: 'whirlpool:00' }));
    expect(resolveOptions({ checksum: `sha512:${'A'.repeat(128)}` }).checksum).toEqual({ algorithm: 'sha512', hex: 'a'.repeat(128) });
  });
});

// Bugs these tests found in src, fixed; kept as regression tests.
describe('regressions found by these tests', () => {
  it.each<[string, unknown]>([
    ['NaN (retryDelay then returns NaN)', Number.NaN],
    ['negative (Retry-After silently ignored)', -1],
    ['a string', '60000'],
  ])('retry.maxRetryAfterMs %s is rejected', (_name, value) => {
    invalidOption(() => resolveOptions(loose({ retry: { maxRetryAfterMs: value } })));
  });
});

describe('directory, proxy and connectTimeoutMs', () => {
  it('output must stay inside directory', () => {
    expect(resolveOptions({ directory: 'dl', output: 'sub/f.bin' }).directory).toBe('dl');
    for (const output of ['../f.bin', 'sub/../../f.bin', '/etc/f.bin', '.', 'sub/..']) {
      expect(invalidOption(() => resolveOptions({ directory: 'dl', output })).message).toMatch(/inside `directory`/);
    }
    invalidOption(() => resolveOptions({ directory: '' }));
    // Without a directory, output is any path, as before.
    expect(resolveOptions({ output: '../f.bin' }).output).toBe('../f.bin');
  });

  it('proxy: a URL with a scheme, or false; never together with a dispatcher', () => {
    expect(resolveOptions({ proxy: 'socks5h://127.0.0.1:1080' }).proxy?.https?.href).toBe('socks5h://127.0.0.1:1080');
    expect(resolveOptions({ proxy: false }).proxy).toBeUndefined();
    invalidOption(() => resolveOptions({ proxy: '127.0.0.1:3128' }));
    invalidOption(() => resolveOptions(loose({ proxy: 3128 })));
  });

  it('connectTimeoutMs is a positive whole number of ms', () => {
    expect(resolveOptions({ connectTimeoutMs: 2500 }).connectTimeoutMs).toBe(2500);
    for (const value of [0, -1, 1.5, Number.NaN]) invalidOption(() => resolveOptions({ connectTimeoutMs: value }));
  });
});
