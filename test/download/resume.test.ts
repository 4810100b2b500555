import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { Download, DownloadError, download } from '../../src/index.js';
import { SEAM_BYTES } from '../../src/transfer/fetch-job.js';
import { loadManifest, manifestPath } from '../../src/disk/manifest.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-out-');

const MiB = 1024 * 1024;

describe('abort and resume through the API', () => {
  it('aborts half way, keeps state, and the next run fetches only what is missing', async () => {
    const size = 16 * MiB;
    const server = await scratch.server(size, { rateBytesPerSec: 4 * MiB });
    const output = join(scratch.dir, 'file.bin');
    const controller = new AbortController();
    let sawPartWithoutFinal = false;
    const first = new Download(server.server.url, {
      output,
      connections: 4,
      signal: controller.signal,
      progressIntervalMs: 10,
      onProgress: (p) => {
        if (p.transferredBytes >= size / 2 && !controller.signal.aborted) controller.abort(new Error('stop here'));
      },
    });
    first.on('progress', () => {
      // The final name must not exist while the download runs.
      stat(output).then(
        () => (sawPartWithoutFinal = false),
        () => (sawPartWithoutFinal = true),
      );
    });
    await expect(first.start()).rejects.toThrow('stop here');
    expect(sawPartWithoutFinal).toBe(true);
    expect((await readdir(scratch.dir)).sort()).toEqual(['file.bin.part', 'file.bin.segdl.json']);
    const sentBefore = server.server.stats.bytesSent;
    expect(sentBefore).toBeLessThan(size);

    const resumes: number[] = [];
    const second = new Download(server.server.url, { output, connections: 4 });
    second.on('resume', (r) => resumes.push(r.resumedBytes));
    const result = await second.start();
    expect(await sha256File(output)).toBe(server.sha256);
    expect(result.resumed).toBe(true);
    expect(resumes).toHaveLength(1);
    expect(resumes[0]).toBeGreaterThanOrEqual(size / 2 - 4 * 1.5 * MiB);
    expect(result.bytesFetched).toBe(size - resumes[0]!);
    // Everything the server sent over both runs: the file once, plus what was in flight at the abort.
    expect(server.server.stats.bytesSent).toBeLessThanOrEqual(size + 4 * 2 * MiB);
    expect(await readdir(scratch.dir)).toEqual(['file.bin']);
  });

  it('resumes with a different connection count without gaps or overlaps (catalogue case 40)', async () => {
    const size = 8 * MiB + 12345;
    const server = await scratch.server(size, { rateBytesPerSec: 4 * MiB });
    const output = join(scratch.dir, 'file.bin');
    const controller = new AbortController();
    await expect(
      download(server.server.url, {
        output,
        connections: 3,
        signal: controller.signal,
        progressIntervalMs: 10,
        onProgress: (p) => p.transferredBytes > size / 3 && controller.abort(new Error('pause')),
      }),
    ).rejects.toThrow('pause');
    const saved = await loadManifest(manifestPath(output));
    if (saved.state !== 'ok') throw new Error(`manifest not saved: ${saved.state}`);
    const firstRunRequests = server.server.requests.length;
    const result = await download(server.server.url, { output, connections: 7 });
    expect(result.resumed).toBe(true);
    expect(await sha256File(output)).toBe(server.sha256);
    // Second-run requests never ask for bytes the first run had recorded; together they cover
    // exactly the missing bytes (a request may overlap a later one only where work was stolen from it).
    const ranges = server.server.requests
      .slice(firstRunRequests)
      .filter((r) => r.method === 'GET' && r.status === 206)
      // Every fresh segment also re-reads SEAM_BYTES before its start (the seam check); those are never written.
      .map((r) => ({ start: r.range!.start === 0 ? 0 : r.range!.start + SEAM_BYTES, end: r.range!.end }));
    expect(ranges.length).toBeGreaterThanOrEqual(4);
    const done = saved.segments.filter((s) => s.done > 0).map((s) => ({ start: s.start, end: s.start + s.done - 1 }));
    expect(done.length).toBeGreaterThan(0);
    for (const r of ranges) for (const d of done) expect(r.end < d.start || r.start > d.end).toBe(true);
    const missing = size - saved.segments.reduce((sum, s) => sum + s.done, 0);
    expect(unionLength(ranges)).toBe(missing);
  });

  it('abort() rejects with ERR_ABORTED by default', async () => {
    const server = await scratch.server(8 * MiB, { rateBytesPerSec: 1 * MiB });
    const dl = new Download(server.server.url, { output: join(scratch.dir, 'x'), connections: 2, progressIntervalMs: 10 });
    dl.once('progress', () => dl.abort());
    const error = await dl.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).code).toBe('ERR_ABORTED');
  });
});

function unionLength(ranges: Array<{ start: number; end: number }>): number {
  let total = 0;
  let reach = -1;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    if (r.end <= reach) continue;
    total += r.end - Math.max(r.start, reach + 1) + 1;
    reach = r.end;
  }
  return total;
}
