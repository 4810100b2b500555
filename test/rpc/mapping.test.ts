/** Pure pieces of the aria2 adapter: piece maps, paging, error codes, option mapping. */
import { describe, expect, it } from 'vitest';
import { DownloadError } from '../../src/errors.js';
import { pieceLengthFor, pieceMap } from '../../src/rpc/bitfield.js';
import { aria2ErrorCode } from '../../src/rpc/error-codes.js';
import { checkOptions, connectionsFor, toItemOptions } from '../../src/rpc/options-map.js';
import { DownloadRoots } from '../../src/rpc/paths.js';
import { page } from '../../src/rpc/registry.js';

const MiB = 1024 * 1024;

describe('pieceMap (aria2 bitfield from segments)', () => {
  it.each([
    ['nothing done', 3 * MiB, [], '00'],
    ['one whole piece at the start', 3 * MiB, [{ start: 0, done: MiB }], '80'],
    ['a piece split across two segments counts when both halves are there', 2 * MiB, [{ start: 0, done: 1.5 * MiB }, { start: 1.5 * MiB, done: 0.5 * MiB }], 'c0'],
    ['a partial piece does not count', 2 * MiB, [{ start: 0, done: MiB - 1 }], '00'],
    ['the short last piece counts once the file end is reached', 2.5 * MiB, [{ start: 2 * MiB, done: 0.5 * MiB }], '20'],
    ['nine pieces need two bytes', 9 * MiB, [{ start: 8 * MiB, done: MiB }], '0080'],
  ])('%s', (_name, size, segments, hex) => {
    expect(pieceMap(size, segments).bitfield).toBe(hex);
  });

  it('an unknown or empty size has no bitfield (aria2 omits it)', () => {
    expect(pieceMap(undefined, [])).toEqual({ pieceLength: MiB, numPieces: 0, bitfield: undefined });
    expect(pieceMap(0, []).bitfield).toBeUndefined();
  });

  it('huge files get longer pieces, so a status stays small', () => {
    expect(pieceLengthFor(100 * MiB)).toBe(MiB);
    const length = pieceLengthFor(100 * 1024 * MiB);
    expect(Math.ceil((100 * 1024 * MiB) / length)).toBeLessThanOrEqual(4096);
    expect(pieceMap(100 * 1024 * MiB, []).bitfield).toHaveLength((3200 / 8) * 2); // 32 MiB pieces
  });
});

describe('page (tellWaiting / tellStopped offsets)', () => {
  const list = ['a', 'b', 'c', 'd'];
  it.each([
    [0, 2, ['a', 'b']],
    [3, 5, ['d']],
    [9, 1, []],
    [-1, 2, ['d', 'c']],
    [-2, 10, ['c', 'b', 'a']],
    [-5, 1, []],
    [0, 0, []],
  ])('offset %d, num %d', (offset, num, expected) => {
    expect(page(list, offset, num)).toEqual(expected);
  });
});

describe('aria2ErrorCode', () => {
  const http = (status: number) => new DownloadError('ERR_HTTP_STATUS', `server answered ${status}`, { status });
  it.each([
    [http(404), 3],
    [http(403), 24],
    [http(503), 29],
    [http(400), 22],
    [new DownloadError('ERR_NETWORK', 'reset'), 6],
    [new DownloadError('ERR_NETWORK', 'dns', { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) }), 19],
    [new DownloadError('ERR_DISK_FULL', 'full'), 9],
    [new DownloadError('ERR_TARGET_EXISTS', 'exists'), 13],
    [new DownloadError('ERR_CHECKSUM_MISMATCH', 'bad'), 32],
    [new DownloadError('ERR_RETRIES_EXHAUSTED', 'gave up', { cause: http(503) }), 29],
    [new Error('not ours'), 1],
  ])('%s -> %d', (error, code) => {
    expect(aria2ErrorCode(error)).toBe(code);
  });
});

describe('aria2 options', () => {
  const roots = new DownloadRoots(['/srv/dl']);

  it('values are checked and kept as aria2 reports them; unknown and BitTorrent options are dropped quietly', () => {
    const checked = checkOptions(
      { split: 100, 'max-download-limit': '1M', 'min-split-size': '1M', 'allow-overwrite': true, header: ['X-A: 1', 'X-B: 2'], 'bt-max-peers': '55', 'seed-ratio': '1.0', nonsense: 'x', dir: 'sub' },
      roots,
      'download',
    );
    expect(checked).toEqual({ split: '64', 'max-download-limit': String(MiB), 'min-split-size': String(MiB), 'allow-overwrite': 'true', header: 'X-A: 1\nX-B: 2', dir: '/srv/dl/sub' });
  });

  it("bad values get aria2's sentence", () => {
    expect(() => checkOptions({ split: '0' }, roots, 'download')).toThrow("We encountered a problem while processing the option '--split'.");
    expect(() => checkOptions({ checksum: 'sha-224=ab' }, roots, 'download')).toThrow(/--checksum/);
    expect(() => checkOptions({ 'user-agent': 'a\r\nX-Evil: 1' }, roots, 'download')).toThrow(/--user-agent/);
    expect(() => checkOptions({ 'all-proxy': 'socks5://127.0.0.1:1' }, roots, 'download')).toThrow(/--all-proxy/);
    expect(() => checkOptions('split=4', roots, 'download')).toThrow('The parameter at 1 has wrong type.');
  });

  it('global scope takes the queue options and refuses none of the download ones it ignores', () => {
    expect(checkOptions({ 'max-concurrent-downloads': '2', out: 'x', gid: '0123456789abcdef', split: '3' }, roots, 'global')).toEqual({ 'max-concurrent-downloads': '2', split: '3' });
  });

  it('map to segdl: mirrors, headers, referer *, checksum, limits, connections = min(split, per-server x servers)', () => {
    const uris = ['http://a/f', 'http://b/f'];
    const options = toItemOptions(uris, {
      dir: '/srv/dl',
      out: 'f.iso',
      header: 'Authorization: Bearer t',
      'user-agent': 'ua',
      referer: '*',
      split: '16',
      'max-connection-per-server': '3',
      'max-download-limit': '0',
      checksum: 'sha-256=' + 'ab'.repeat(32),
      'allow-overwrite': 'true',
      pause: 'true',
    });
    expect(options).toEqual({
      directory: '/srv/dl',
      output: 'f.iso',
      mirrors: ['http://b/f'],
      headers: { Authorization: 'Bearer t', 'user-agent': 'ua', referer: 'http://a/f' },
      connections: 6,
      checksum: `sha256:${'ab'.repeat(32)}`,
      force: true,
      paused: true,
    });
    expect(connectionsFor(['http://a/f'], { split: '5', 'max-connection-per-server': '1' })).toBe(1);
    expect(connectionsFor(['http://a/f'], {})).toBe(8);
  });
});
