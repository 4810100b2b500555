import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { Download } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/server.js';

let out: string;
let server: TestServer | undefined;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'segdl-out-'));
});
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
  await rm(out, { recursive: true, force: true });
});

const SIZE = 3 * 1024 * 1024 + 17;

async function run(faults: Parameters<typeof startServer>[1]) {
  server = await startServer(SIZE, faults);
  const output = join(out, 'file.bin');
  const dl = new Download(server.server.url, { output, connections: 8 });
  const warnings: string[] = [];
  dl.on('warning', (w) => warnings.push(w.message));
  const result = await dl.start();
  return { result, warnings, output, gets: server.server.requests.filter((r) => r.method === 'GET') };
}

describe('single-stream fallback', () => {
  it('server ignores ranges: one plain GET, exact file (catalogue case 2)', async () => {
    const { result, warnings, output, gets } = await run({ ignoreRanges: true });
    expect(await sha256File(output)).toBe(server!.sha256);
    expect(result.connectionsUsed).toBe(1);
    expect(warnings).toContain('server ignores ranges: downloading with one connection');
    // The probe's GET (bytes=0-0) got a 200 and was cut short; the download itself is one GET without Range.
    const plain = gets.filter((r) => r.headers['range'] === undefined);
    expect(plain).toHaveLength(1);
    expect(server!.server.stats.bytesSent).toBeLessThan(2 * SIZE);
  });

  it('no length (chunked): one stream, complete on a clean end (catalogue case 29)', async () => {
    const { result, warnings, output } = await run({ noLength: true });
    expect(await sha256File(output)).toBe(server!.sha256);
    expect(result.size).toBe(SIZE);
    expect(warnings).toContain('server sent no length: downloading with one connection');
    expect(await readdir(out)).toEqual(['file.bin']);
  });

  it('a 200 to a ranged request at an offset is never written there (catalogue case 3)', async () => {
    const { result, warnings, output } = await run({ ignoreRangesAfterZero: true });
    expect(await sha256File(output)).toBe(server!.sha256);
    expect(result.size).toBe(SIZE);
    expect(warnings).toContain('server ignores ranges mid-way: downloading with one connection');
  });
});
