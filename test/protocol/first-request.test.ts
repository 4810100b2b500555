/**
 * The request that starts a download (issues #13 and #10): no HEAD, a ranged GET from byte 0
 * whose answer is kept as the file's first piece, retried, timed and gated like any segment.
 * Each quirk a first answer can have, by name.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadManifest, manifestPath } from '../../src/disk/manifest.js';
import { DownloadError, type FaultPlan, type RequestRecord } from '../../src/index.js';
import { afterFirst, expectExact, expectLaterUntouched, expectNothing, expectResumable, FAST_RETRY, firstOnly, gets, KiB, MiB, PACED, rootCode, run, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;

/** The first `n` requests get `plan`. */
function firstN(n: number, plan: FaultPlan): (q: RequestRecord) => FaultPlan | undefined {
  return (q) => (q.index < n ? plan : undefined);
}

describe('the first request is the download (#13)', () => {
  it('no HEAD: one ranged GET from byte 0, and its body is the file (a 1 MiB file is one request)', async () => {
    const t = await ctx.serve(SIZE);
    const r = await run(t.server.url, ctx.out, { connections: 8 });
    await expectExact(r, ctx.out, SIZE);
    expect(t.server.requests.map((q) => [q.method, q.headers['range'], q.status])).toEqual([['GET', `bytes=0-${16 * MiB - 1}`, 206]]);
    expect(t.server.stats.bytesSent).toBe(SIZE);
    expect(r.result!.connectionsUsed).toBe(1);
  });

  it('a server that refuses HEAD is never asked one', async () => {
    const t = await ctx.serve(SIZE, {}, (q) => (q.method === 'HEAD' ? { status: 405 } : undefined));
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(t.server.requests.every((q) => q.method === 'GET')).toBe(true);
  });

  it('an empty file: the RFC answer 416 */0 is an empty file, from one request', async () => {
    const t = await ctx.serve(0);
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, 0);
    expect(gets(t).map((q) => [q.status, q.headers['range']])).toEqual([[416, `bytes=0-${16 * MiB - 1}`]]);
  });

  it('a 200 that still says Accept-Ranges gets a second look: that 200 is the first piece, ranges serve the rest', async () => {
    const t = await ctx.serve(SIZE, PACED, firstOnly({ ignoreRangesAtZero: true }));
    const r = await run(t.server.url, ctx.out, { connections: 2 });
    await expectExact(r, ctx.out, SIZE);
    const [first, ...later] = gets(t);
    expect([first!.status, first!.headers['range']]).toEqual([200, `bytes=0-${16 * MiB - 1}`]);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((q) => q.status === 206)).toBe(true);
    // The 200 was kept (not asked again from byte 0) and cut where the ranged requests begin.
    expect(later.every((q) => q.range!.start > 0)).toBe(true);
    expect(first!.bytesSent).toBeLessThan(SIZE);
    expect(r.result!.connectionsUsed).toBe(2);
  });

  it('a server that answers every range with 200 but advertises ranges falls back to that one stream, nothing lost', async () => {
    const t = await ctx.serve(SIZE, { ...PACED, ignoreRangesAtZero: true, ignoreRangesAfterZero: true });
    const r = await run(t.server.url, ctx.out, { connections: 2 });
    await expectExact(r, ctx.out, SIZE);
    expect(r.warnings).toContain('server ignores ranges mid-way: downloading with one connection');
  });

  it('a first response with a wrong Content-Range writes nothing and is retried', async () => {
    const t = await ctx.serve(SIZE, {}, firstOnly({ contentRange: `bytes 16-${SIZE - 1}/${SIZE}` }));
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries.map((e) => [e.code, e.segment])).toEqual([['ERR_RANGE_MISMATCH', undefined]]);
  });

  it('a resume asks for the first missing range with If-Range; a changed remote answers 200, which starts the new version', async () => {
    const t = await ctx.serve(SIZE, PACED);
    const controller = new AbortController();
    const first = run(t.server.url, ctx.out, { signal: controller.signal, progressIntervalMs: 10, onProgress: (p) => p.transferredBytes > 300 * KiB && controller.abort(new DownloadError('ERR_ABORTED', 'stopped by the test')) });
    expect((await first).error?.code).toBe('ERR_ABORTED');
    const before = t.server.requests.length;
    const saved = await loadManifest(manifestPath(join(ctx.out, 'file.bin')));
    if (saved.state !== 'ok') throw new Error(`no usable manifest: ${saved.state}`);
    const etag = saved.data.etag;
    expect(etag).toMatch(/^"/);
    t.server.setFaults({ ...PACED, changeEtagAfter: 0 });
    const again = await run(t.server.url, ctx.out);
    await expectExact(again, ctx.out, SIZE);
    const resumed = t.server.requests[before]!;
    expect(resumed.headers['if-range']).toBe(etag);
    expect(resumed.range!.start).toBeGreaterThan(0);
    expect(resumed.status).toBe(200);
    expect(again.warnings.some((w) => /remote file changed since the last run/.test(w))).toBe(true);
    // The 200 was the new version's first piece: nothing from byte 0 was asked for again.
    expect(t.server.requests.slice(before + 1).every((q) => q.range!.start > 0)).toBe(true);
  });
});

describe('the first request has the protection segments have (#10 item 3)', () => {
  it('503 with Retry-After three times, then the file: retried with the same budget, and the wait honoured', async () => {
    const t = await ctx.serve(SIZE, {}, firstN(3, { status: 503, retryAfter: '1' }));
    const r = await run(t.server.url, ctx.out, { retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 30 } });
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries.map((e) => [e.code, e.attempt, e.delayMs])).toEqual([
      ['ERR_HTTP_STATUS', 1, 30],
      ['ERR_HTTP_STATUS', 2, 30],
      ['ERR_HTTP_STATUS', 3, 30],
    ]);
  });

  it.each([502, 504])('a %i on the first request is retried', async (status) => {
    const t = await ctx.serve(SIZE, {}, firstN(1, { status }));
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries).toHaveLength(1);
  });

  it('the first two connections reset: retried, the file arrives', async () => {
    const t = await ctx.serve(SIZE, {}, firstN(2, { resetConnection: true }));
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries.map((e) => e.code)).toEqual(['ERR_NETWORK', 'ERR_NETWORK']);
  });

  it('--retries N means N + 1 tries of the first request', async () => {
    const t = await ctx.serve(SIZE, { status: 503 });
    const r = await run(t.server.url, ctx.out, { retry: { attempts: 4, minDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 2 } });
    expect(r.error?.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect(gets(t)).toHaveLength(5);
    await expectNothing(r, ctx.out);
  });

  it('a missing file (404) fails at once: no retry', async () => {
    const t = await ctx.serve(SIZE, { status: 404 });
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_HTTP_STATUS');
    expect(gets(t)).toHaveLength(1);
  });

  it('a 416 with no length and no body on a connection the server leaves open does not hang', async () => {
    const t = await ctx.serve(SIZE, { status: 416, contentRange: `bytes */${SIZE}`, keepOpen: true });
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    expect(r.error?.message).toMatch(/416/);
    await expectNothing(r, ctx.out);
  });

  it('416 */0 without a length on a connection left open is the empty file, not a hang', async () => {
    const t = await ctx.serve(SIZE, { status: 416, contentRange: 'bytes */0', keepOpen: true });
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, 0);
  });

  it('headers that never come: the first-byte timeout (the stall window) ends the wait, and the request is retried', async () => {
    const t = await ctx.serve(SIZE, {}, firstN(1, { firstByteLatencyMs: 60_000 }));
    const r = await run(t.server.url, ctx.out, { stallTimeoutMs: 300 });
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries.map((e) => e.code)).toEqual(['ERR_NETWORK']);
    expect(r.retries[0]!.message).toMatch(/Headers Timeout/i);
  });

  it('a first body that stalls is cut by the stall watch and the download resumes where it stopped', async () => {
    const t = await ctx.serve(SIZE, {}, firstN(1, { stallAfterBytes: 200_000 }));
    const r = await run(t.server.url, ctx.out, { stallTimeoutMs: 300 });
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries.map((e) => e.code)).toEqual(['ERR_STALLED']);
    expect(gets(t)[1]!.range!.start).toBe(200_000);
  });
});

describe('1xx answers are skipped (#10 item 2)', () => {
  it.each([
    ['103 Early Hints', [103]],
    ['an unsolicited 100 Continue', [100]],
    ['100, 103 and 100 again', [100, 103, 100]],
  ] as const)('%s before the first answer and before every later segment\'s: the file is exact, no 1xx header applied', async (_name, interim) => {
    // The first answer is the whole file; later ones come from a second connection (a paced first answer makes it worth it).
    const alone = await ctx.serve(SIZE, { interim: [...interim] });
    await expectExact(await run(alone.server.url, ctx.out), ctx.out, SIZE);
    const t = await ctx.serve(SIZE, PACED, afterFirst({ interim: [...interim] }));
    const r = await run(t.server.url, ctx.out, { connections: 2, force: true });
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries).toEqual([]);
    const later = gets(t).slice(1);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((q) => q.status === 206)).toBe(true);
  });
});

describe('transfer codings other than chunked are refused (#10 item 1)', () => {
  it.each([
    ['a 206 as the first answer', firstOnly({ transferEncoding: 'gzip, chunked' }), {}],
    ['a 200 (whole file) as the first answer', firstOnly({ transferEncoding: 'gzip, chunked', ignoreRanges: true }), {}],
  ] as const)('Transfer-Encoding: gzip, chunked on %s: ProtocolError, nothing written', async (_name, faultFor, faults) => {
    const t = await ctx.serve(SIZE, faults, faultFor);
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    expect(r.error?.message).toMatch(/Transfer-Encoding gzip, chunked/);
    await expectNothing(r, ctx.out);
    expect(gets(t)).toHaveLength(1); // not retried: the server is broken
  });

  it('Transfer-Encoding: gzip, chunked on a later 206: ProtocolError, none of its bytes written, resumable', async () => {
    const t = await ctx.serve(SIZE, PACED, afterFirst({ transferEncoding: 'gzip, chunked' }));
    const r = await run(t.server.url, ctx.out, { connections: 2 });
    expect(rootCode(r.error)).toBe('ERR_PROTOCOL');
    await expectResumable(r, ctx.out, SIZE);
    await expectLaterUntouched(r, t);
  });

  it('a plain chunked 206 is still accepted', async () => {
    const t = await ctx.serve(SIZE, { framing: 'chunked' });
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(gets(t).every((q) => q.status === 206)).toBe(true);
  });
});

describe('progress thrown away is said so (#10 item 8)', () => {
  it.each([
    ['ignores ranges', { ignoreRanges: true }, /the server now ignores ranges/],
    ['sends no length', { noLength: true }, /the server now sends no length/],
  ] as const)('a resume whose server now %s: a restart event with the reason, then the exact file', async (_name, faults, reason) => {
    const t = await ctx.serve(SIZE, PACED);
    const controller = new AbortController();
    const first = await run(t.server.url, ctx.out, { signal: controller.signal, progressIntervalMs: 10, onProgress: (p) => p.transferredBytes > 300 * KiB && controller.abort(new DownloadError('ERR_ABORTED', 'stopped by the test')) });
    expect(first.error?.code).toBe('ERR_ABORTED');
    t.server.setFaults(faults);
    const restarts: string[] = [];
    const again = await run(t.server.url, ctx.out, {}, 'file.bin', (dl) => dl.on('restart', (e) => restarts.push(e.reason)));
    await expectExact(again, ctx.out, SIZE);
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toMatch(reason);
    expect(restarts[0]).toMatch(/cannot be resumed/);
  });
});
