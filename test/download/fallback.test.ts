import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { Download, type FaultOptions } from '../../src/index.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-out-');

const SIZE = 3 * 1024 * 1024 + 17;

async function run(faults: FaultOptions) {
  const server = await scratch.server(SIZE, faults);
  const output = join(scratch.dir, 'file.bin');
  const dl = new Download(server.server.url, { output, connections: 8 });
  const warnings: string[] = [];
  dl.on('warning', (w) => warnings.push(w.message));
  const result = await dl.start();
  return { result, warnings, output, server, gets: server.server.requests.filter((r) => r.method === 'GET') };
}

describe('single-stream fallback', () => {
  it('server ignores ranges: one plain GET, exact file (catalogue case 2)', async () => {
    const { result, warnings, output, gets, server } = await run({ ignoreRanges: true });
    expect(await sha256File(output)).toBe(server.sha256);
    expect(result.connectionsUsed).toBe(1);
    expect(warnings).toContain('server ignores ranges: downloading with one connection');
    // The first request's 200 is the whole file: it is the download, nothing is asked twice.
    expect(gets).toHaveLength(1);
    expect(gets[0]!.status).toBe(200);
    expect(server.server.stats.bytesSent).toBe(SIZE);
  });

  it('no length (chunked): one stream, complete on a clean end (catalogue case 29)', async () => {
    const { result, warnings, output, server } = await run({ noLength: true });
    expect(await sha256File(output)).toBe(server.sha256);
    expect(result.size).toBe(SIZE);
    expect(warnings).toContain('server sent no length: downloading with one connection');
    expect(await readdir(scratch.dir)).toEqual(['file.bin']);
  });

  it('a 200 to a ranged request at an offset is never written there (catalogue case 3)', async () => {
    // Paced, so that more connections are worth it and segments at offsets are asked for.
    const { result, warnings, output, server } = await run({ ignoreRangesAfterZero: true, rateBytesPerSec: 4 * 1024 * 1024 });
    expect(await sha256File(output)).toBe(server.sha256);
    expect(result.size).toBe(SIZE);
    expect(warnings).toContain('server ignores ranges mid-way: downloading with one connection');
  });
});
