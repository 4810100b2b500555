/**
 * Catalogue case 42: a byte flipped inside a segment the manifest calls done (bit rot, another
 * program, a torn write) is caught on resume by the recorded xxh64 of the block piece that holds
 * it. Only that piece (at most the 1 MiB block around the byte) is fetched again (warning
 * ERR_INTEGRITY), the rest is kept, and the final file is right.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { SEAM_BYTES } from '../../src/transfer/fetch-job.js';
import { startCli } from '../helpers/cli.js';
import { claimedRanges, flipByte, interruptAt, jsonEvents, KiB, listDir, MiB, readManifest, runDownload, totalLength, uncovered } from '../helpers/crash.js';
import { startServer, type TestServer } from '../helpers/server.js';

let out: string;
let server: TestServer | undefined;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'segdl-crash-tamper-'));
});
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
  await rm(out, { recursive: true, force: true });
});

const SIZE = 8 * MiB + 999;
/**
 * Request overhead on top of the bytes needed: each fresh segment re-reads 16 bytes of its left
 * neighbour (the seam check: 64 B measured for these runs), and a piece stolen from a running
 * segment costs what its connection had in flight when it was cut (a pacing slice or two).
 */
const SLACK = 128 * KiB;

/** The part of `claim` in the hash block that holds `byte`: at most what a flipped byte there costs. */
function blockPart(claim: { start: number; end: number }, byte: number): { start: number; end: number } {
  const blockStart = Math.floor(byte / MiB) * MiB;
  return { start: Math.max(claim.start, blockStart), end: Math.min(claim.end, blockStart + MiB) };
}

describe('a flipped byte in a done segment is re-fetched, and only the block piece around it (case 42)', () => {
  it.each([
    ['first', (r: { start: number; end: number }) => r.start],
    ['middle', (r: { start: number; end: number }) => Math.floor((r.start + r.end) / 2)],
    ['last', (r: { start: number; end: number }) => r.end - 1],
  ] as const)('the %s byte of the largest done piece', async (_where, pick) => {
    server = await startServer(SIZE, { rateBytesPerSec: 4 * MiB });
    const output = join(out, 'file.bin');
    const saved = await interruptAt(server.server.url, output, SIZE, 0.5);
    const claimed = claimedRanges(saved);
    const largest = [...claimed].sort((a, b) => b.end - b.start - (a.end - a.start))[0]!;
    const byte = pick(largest);
    const piece = blockPart(largest, byte);
    const missing = SIZE - totalLength(claimed);
    await flipByte(`${output}.part`, byte);

    const sentBefore = server.server.stats.bytesSent;
    const firstRequest = server.server.requests.length;
    const run = await runDownload(server.server.url, { output, connections: 4 });
    const sent = server.server.stats.bytesSent - sentBefore;
    expect(run.error).toBeUndefined();
    expect(run.warnings.map((w) => w.code)).toEqual(['ERR_INTEGRITY']);
    expect(run.restarts).toEqual([]);
    const dropped = totalLength(claimed) - run.resumes[0]!;
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThanOrEqual(piece.end - piece.start);
    expect(run.result?.bytesFetched).toBe(missing + dropped);
    expect(sent).toBeLessThanOrEqual(missing + dropped + SLACK);
    // The other done pieces were never asked for again.
    // The other done pieces were never asked for again (a fresh segment's request starts SEAM_BYTES
    // early, to compare its seam with the left neighbour: those bytes are read, never written).
    const asked = server.server.requests
      .slice(firstRequest)
      .filter((r) => r.method === 'GET' && r.range !== undefined)
      .map((r) => ({ start: r.range!.start === 0 ? 0 : r.range!.start + SEAM_BYTES, end: r.range!.end + 1 }));
    for (const kept of uncovered(claimed, [piece])) {
      expect(uncovered([kept], asked), `piece ${kept.start}-${kept.end} was fetched again`).toEqual([kept]);
    }
    expect(uncovered([{ start: byte, end: byte + 1 }], asked)).toEqual([]);
    expect(await sha256File(output)).toBe(server.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });

  it('a flipped byte outside the done pieces is simply overwritten: no warning, nothing extra fetched', async () => {
    server = await startServer(SIZE, { rateBytesPerSec: 4 * MiB });
    const output = join(out, 'file.bin');
    const saved = await interruptAt(server.server.url, output, SIZE, 0.5);
    const claimed = claimedRanges(saved);
    const hole = uncovered([{ start: 0, end: SIZE }], claimed)[0]!;
    await flipByte(`${output}.part`, Math.floor((hole.start + hole.end) / 2));
    const run = await runDownload(server.server.url, { output, connections: 4 });
    expect(run.warnings).toEqual([]);
    expect(run.result?.bytesFetched).toBe(SIZE - totalLength(claimed));
    expect(await sha256File(output)).toBe(server.sha256);
  });

  it('killed after verification, then a byte flipped: the next run re-verifies and re-fetches that block piece before the rename', async () => {
    server = await startServer(SIZE, { rateBytesPerSec: 4 * MiB });
    const args = [server.server.url, '-o', 'file.bin', '-c', '4', '--json'];
    const killed = await startCli(args, { cwd: out, env: { SEGDL_TEST_CRASH_AT: 'verified' } }).exited;
    expect(killed.signal).toBe('SIGKILL');
    expect(await listDir(out)).not.toContain('file.bin');
    const saved = await readManifest(join(out, 'file.bin.segdl.json'));
    expect(totalLength(claimedRanges(saved))).toBe(SIZE); // everything done and claimed
    const target = Math.floor(SIZE / 2);
    const piece = blockPart(claimedRanges(saved).find((c) => c.start <= target && target < c.end)!, target);
    await flipByte(join(out, 'file.bin.part'), target);

    const sentBefore = server.server.stats.bytesSent;
    const run = await startCli(args, { cwd: out }).exited;
    const sent = server.server.stats.bytesSent - sentBefore;
    expect(run.code, run.stderr).toBe(0);
    const events = jsonEvents(run.stdout);
    expect(events.filter((e) => e['event'] === 'warning').map((e) => e['code'])).toEqual(['ERR_INTEGRITY']);
    const dropped = SIZE - (events.find((e) => e['event'] === 'resume')?.['resumedBytes'] as number);
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThanOrEqual(piece.end - piece.start);
    expect(events.find((e) => e['event'] === 'result')?.['bytesFetched']).toBe(dropped);
    expect(sent).toBeLessThanOrEqual(dropped + SLACK);
    expect(await sha256File(join(out, 'file.bin'))).toBe(server.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });
});
