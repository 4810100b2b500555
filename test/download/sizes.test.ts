import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { download } from '../../src/index.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-out-');

const MiB = 1024 * 1024;
const cases: Array<[number, number]> = [];
for (const size of [0, 1, 1_000_003, 64 * MiB]) for (const connections of [1, 4, 16]) cases.push([size, connections]);

describe('normal downloads (catalogue case 1)', () => {
  it.each(cases)('size %i with %i connections gives the exact file', async (size, connections) => {
    const server = await scratch.server(size);
    const output = join(scratch.dir, 'file.bin');
    const result = await download(server.server.url, { output, connections, checksum: `sha256:${server.sha256}` });
    expect(await sha256File(output)).toBe(server.sha256);
    expect(result).toMatchObject({ path: output, size, resumed: false, bytesFetched: size });
    expect(result.digest.sha256).toBe(server.sha256);
    expect(result.connectionsUsed).toBeLessThanOrEqual(connections);
    // Only the final file is left: no .part, manifest or lock.
    expect(await readdir(scratch.dir)).toEqual(['file.bin']);
    const gets = server.server.requests.filter((r) => r.method === 'GET');
    for (const request of gets) {
      expect(request.headers['range']).toMatch(/^bytes=\d+-\d+$/);
      expect(request.headers['accept-encoding']).toBe('identity');
      // An empty file: the first request's range cannot be satisfied, and that answer is the download.
      expect(request.status).toBe(size === 0 ? 416 : 206);
    }
    if (size === 0) expect(gets).toHaveLength(1);
    // Closed ranges that never overlap: the server sent no byte twice unless a split cut a response short.
    const asked = size === 0 ? 0 : gets.reduce((sum, r) => sum + (r.range ? r.range.end - r.range.start + 1 : 0), 0);
    expect(asked).toBeGreaterThanOrEqual(size);
    // No piece below the minimum split size (256 KiB) unless the whole file is smaller.
    if (gets.length > 1) for (const r of gets) expect(r.range!.end - r.range!.start + 1).toBeGreaterThanOrEqual(256 * 1024);
    if (size > 0 && size < 512 * 1024) expect(gets.length).toBe(1);
  });

  it('uses several connections at once for a large file', async () => {
    const server = await scratch.server(16 * MiB, { rateBytesPerSec: 8 * MiB });
    const result = await download(server.server.url, { output: join(scratch.dir, 'f'), connections: 4 });
    expect(result.connectionsUsed).toBe(4);
    expect(server.server.stats.maxConcurrentConnections).toBeGreaterThanOrEqual(4);
    expect(server.server.stats.bytesSent).toBeLessThanOrEqual(16 * MiB * 1.01);
  });
});
