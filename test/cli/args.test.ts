import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from '../../src/cli/args.js';
import { version } from '../../src/cli/version.js';
import { parseSize } from '../../src/units.js';

describe('command line', () => {
  it('maps every long option onto the library options', () => {
    const command = parseCommand([
      'http://h/f', '-o', 'out', '-c', '12', '--checksum', 'md5:' + '0'.repeat(32), '-H', 'X-A: 1', '-H', 'Cookie: c=d',
      '--retries', '7', '--stall-timeout', '3000', '--min-speed', '2K', '--max-speed', '1.5M', '--mirror', 'http://m1/f', '--mirror', 'http://m2/f',
      '--adaptive', '--block-private', '--min-split', '512K', '--durability', 'power', '--max-size', '2G', '--fail-if-changed', '--force', '--json',
    ]);
    expect(command).toEqual({
      kind: 'download',
      urls: ['http://h/f'],
      inputFile: undefined,
      batch: false,
      dir: undefined,
      jobs: 5,
      maxConnections: 16,
      checksumFile: undefined,
      netrcFile: undefined,
      quiet: false,
      json: true,
      debug: false,
      options: {
        output: 'out',
        connections: 12,
        checksum: 'md5:' + '0'.repeat(32),
        headers: { 'user-agent': `segdl/${version()}`, 'X-A': '1', Cookie: 'c=d' },
        retry: { attempts: 7 },
        stallTimeoutMs: 3000,
        minSpeed: 2048,
        maxSpeed: 1.5 * 1024 * 1024,
        mirrors: ['http://m1/f', 'http://m2/f'],
        adaptiveConnections: true,
        blockPrivateAddresses: true,
        ifRemoteChanged: 'fail',
        minSplitSize: 512 * 1024,
        maxSize: 2 * 1024 ** 3,
        durability: 'power',
        force: true,
      },
    });
  });

  it.each([
    ['500K', 500 * 1024],
    ['10M', 10 * 1024 ** 2],
    ['1.5G', 1.5 * 1024 ** 3],
    ['2T', 2 * 1024 ** 4],
    ['123', 123],
    ['8MiB', 8 * 1024 ** 2],
    ['8M/s', 8 * 1024 ** 2],
  ])('size %s = %i bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([['-c', 'x'], ['--max-speed', 'fast'], ['--durability', 'disk'], ['-H', 'no-colon'], ['-j', '0'], ['--connect-timeout', 'soon'], ['--max-connections', '0']])(
    '%s %s is a usage error',
    (flag, value) => {
      expect(() => parseCommand(['http://h/f', flag, value])).toThrow(UsageError);
    },
  );

  it('the new options: dir, jobs, proxy, connect timeout, user agent, netrc, checksum file', () => {
    const command = parseCommand(['-i', 'list.txt', '-d', 'out', '-j', '3', '--max-connections', '32', '--proxy', 'socks5h://p:1', '--connect-timeout', '2.5', '-U', 'agent/1', '--netrc-file', 'n', '--checksum-file', 'SUMS']);
    expect(command).toMatchObject({ inputFile: 'list.txt', batch: true, dir: 'out', jobs: 3, maxConnections: 32, netrcFile: 'n', checksumFile: 'SUMS' });
    expect(command.kind === 'download' && command.options).toEqual({ directory: 'out', headers: { 'user-agent': 'agent/1' }, proxy: 'socks5h://p:1', connectTimeoutMs: 2500 });
    expect(parseCommand(['u', '--no-proxy'])).toMatchObject({ options: { proxy: false } });
    expect(parseCommand(['u', '--netrc'])).toMatchObject({ netrcFile: expect.stringMatching(/\.netrc$/) });
    // An explicit -H User-Agent wins over -U and the default.
    expect(parseCommand(['u', '-U', 'a', '-H', 'User-Agent: b'])).toMatchObject({ options: { headers: { 'User-Agent': 'b' } } });
  });

  it.each([
    [['-o', '-', '--durability', 'power', 'u'], /--durability power needs a file/],
    [['-o', 'x', 'u1', 'u2'], /-o names one file/],
    [['--checksum', `sha256:${'0'.repeat(64)}`, 'u1', 'u2'], /--checksum is for one file/],
    [['--checksum', `sha256:${'0'.repeat(64)}`, '--checksum-file', 'S', 'u'], /not both/],
    [['--proxy', 'http://p:1', '--no-proxy', 'u'], /not both/],
    [['--mirror', 'm', '-i', 'l'], /--mirror is for one file/],
    [[], /missing URL/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(message);
  });
});
