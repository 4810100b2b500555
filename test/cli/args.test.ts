import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from '../../src/cli/args.js';
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
      url: 'http://h/f',
      quiet: false,
      json: true,
      debug: false,
      options: {
        output: 'out',
        connections: 12,
        checksum: 'md5:' + '0'.repeat(32),
        headers: { 'X-A': '1', Cookie: 'c=d' },
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

  it.each([['-c', 'x'], ['--max-speed', 'fast'], ['--durability', 'disk'], ['-H', 'no-colon']])('%s %s is a usage error', (flag, value) => {
    expect(() => parseCommand(['http://h/f', flag, value])).toThrow(UsageError);
  });
});
