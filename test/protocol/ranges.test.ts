/** Catalogue cases 1-8: what a ranged request must get back before a byte of it is written. */
import { describe, expect, it } from 'vitest';
import { dataRange } from '../../fixtures/data.js';
import { DownloadError } from '../../src/index.js';
import { checkRangeResponse } from '../../src/http/response-gate.js';
import { afterFirst, expectExact, expectLaterUntouched, expectNothing, expectResumable, fetchSegment, firstOnly, gets, KiB, MiB, PACED, rootCode, run, SEED, untouched, useScratch } from './helpers.js';

const ctx = useScratch();
/** Two connections plan [0, HALF) and [HALF, SIZE). */
const SIZE = 1 * MiB;
const HALF = SIZE / 2;

describe('ranged responses (catalogue cases 1-8)', () => {
  it('case 1: every request gets an exact 206; each carries Range: bytes=s-e and Accept-Encoding: identity', async () => {
    const size = 2 * MiB + 17;
    const t = await ctx.serve(size, PACED);
    const r = await run(t.server.url, ctx.out, { connections: 4 });
    await expectExact(r, ctx.out, size);
    const ranged = gets(t);
    expect(ranged.length).toBeGreaterThanOrEqual(4);
    // The first request asks for a first window before the size is known; every later one stays inside the file.
    expect(ranged[0]!.headers['range']).toBe(`bytes=0-${16 * MiB - 1}`);
    for (const [i, q] of ranged.entries()) {
      expect(q.status).toBe(206);
      expect(q.headers['accept-encoding']).toBe('identity');
      const m = /^bytes=(\d+)-(\d+)$/.exec(String(q.headers['range']));
      expect(m, String(q.headers['range'])).not.toBeNull();
      if (i > 0) expect(Number(m![2])).toBeLessThan(size);
      expect(q.range).toEqual({ start: Number(m![1]), end: Math.min(size - 1, Number(m![2])) });
    }
    expect(Math.min(...ranged.map((q) => q.range!.start))).toBe(0);
    expect(Math.max(...ranged.map((q) => q.range!.end))).toBe(size - 1);
  });

  it('case 2: a first request answered 200 without range support → that very response is the one stream, exact file, "server ignores ranges"', async () => {
    const t = await ctx.serve(SIZE, { ignoreRanges: true });
    const r = await run(t.server.url, ctx.out, { connections: 4 });
    await expectExact(r, ctx.out, SIZE);
    expect(r.warnings).toContain('server ignores ranges: downloading with one connection');
    expect(r.result?.connectionsUsed).toBe(1);
    const all = gets(t);
    expect(all).toHaveLength(1);
    expect(all[0]!.status).toBe(200);
    expect(all[0]!.bytesSent).toBe(SIZE);
  });

  it('case 3: a 200 full body to a segment at offset > 0 is never written at that offset (engine: the segment fails RangeUnsupported)', async () => {
    const t = await ctx.serve(SIZE, { ignoreRangesAfterZero: true });
    const { error, part } = await fetchSegment(t.server.url, ctx.out, SIZE, HALF, SIZE);
    expect((error as DownloadError).code).toBe('ERR_RANGE_UNSUPPORTED');
    expect(part.every((b) => b === 0)).toBe(true);
  });

  it('case 3: a 200 to a segment at offset > 0 → the download falls back to one stream and the file is exact', async () => {
    const t = await ctx.serve(SIZE, { ...PACED, ignoreRangesAfterZero: true });
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(r.warnings).toContain('server ignores ranges mid-way: downloading with one connection');
    expect(gets(t).some((q) => q.status === 200 && q.range !== undefined && q.range.start > 0)).toBe(true);
  });

  it('case 4: a first response whose start differs from the request is RangeMismatch: nothing written, retried', async () => {
    const t = await ctx.serve(SIZE, {}, firstOnly({ contentRange: `bytes 7-${SIZE - 1}/${SIZE}` }));
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries.map((e) => e.code)).toEqual(['ERR_RANGE_MISMATCH']);
    expect(gets(t)).toHaveLength(2);
  });

  it('case 4: a later 206 whose start is 7 bytes early is RangeMismatch; nothing of it written', async () => {
    const t = await ctx.serve(SIZE, PACED, afterFirst({ shiftContentRange: -7 }));
    const r = await run(t.server.url, ctx.out);
    expect(rootCode(r.error)).toBe('ERR_RANGE_MISMATCH');
    await expectResumable(r, ctx.out, SIZE);
    await expectLaterUntouched(r, t);
  });

  it('case 5: a 206 that goes past the requested end → only the segment is written and the response is cut; the neighbour is untouched', async () => {
    const t = await ctx.serve(SIZE, { rangeEndDelta: 128 * KiB });
    const { error, part, done } = await fetchSegment(t.server.url, ctx.out, SIZE, 0, 64 * KiB);
    expect(error).toBeUndefined();
    expect(done).toBe(64 * KiB);
    expect(part.subarray(0, 64 * KiB).equals(dataRange(SEED, 0, 64 * KiB))).toBe(true);
    expect(part.subarray(64 * KiB).every((b) => b === 0)).toBe(true);
    expect(gets(t)[0]!.status).toBe(206);
  });

  it('case 5: every segment answered with a longer 206 → exact file', async () => {
    const t = await ctx.serve(SIZE, { rangeEndDelta: 100 * KiB });
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
  });

  it('case 6: a 206 whose complete-length differs from the first response\'s is RemoteChanged, nothing of it written', async () => {
    const t = await ctx.serve(SIZE, PACED, afterFirst({ reportedSize: SIZE + 1 }));
    const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    await expectResumable(r, ctx.out, SIZE);
    await expectLaterUntouched(r, t);
  });

  it.each([
    ['last < first', 'bytes 500-100/1048576'],
    ['complete ≤ last', 'bytes 0-1048576/1048576'],
    ['unit "items"', 'items 0-524287/1048576'],
    ['garbage', 'garbage'],
  ])('case 7: an invalid Content-Range (%s) is ProtocolError: on the first response nothing is created, not retried', async (_name, value) => {
    const t = await ctx.serve(SIZE, {}, firstOnly({ contentRange: value }));
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    expect(r.error?.message).toContain('Content-Range');
    await expectNothing(r, ctx.out);
    expect(gets(t)).toHaveLength(1);
  });

  it.each([
    ['last < first', 'bytes 900000-100/1048576'],
    ['unit "items"', 'items 0-524287/1048576'],
    ['garbage', 'garbage'],
  ])('case 7: an invalid Content-Range (%s) on a later 206 is ProtocolError, nothing of it written', async (_name, value) => {
    const t = await ctx.serve(SIZE, PACED, afterFirst({ contentRange: value }));
    const r = await run(t.server.url, ctx.out);
    expect(rootCode(r.error)).toBe('ERR_PROTOCOL');
    await expectResumable(r, ctx.out, SIZE);
    await expectLaterUntouched(r, t);
  });

  it('case 8: the last segment asking past EOF accepts a shorter 206 ending at length-1 (gate)', () => {
    const expected = { url: 'http://x/', size: 1000, etag: undefined, lastModified: undefined };
    const headers = { 'content-range': 'bytes 900-999/1000', 'content-length': '100' };
    expect(checkRangeResponse(206, headers, 900, 1099, expected)).toEqual({ kind: 'body' });
    // Short, but not at EOF: refused.
    const short = { 'content-range': 'bytes 900-949/1000', 'content-length': '50' };
    expect(() => checkRangeResponse(206, short, 900, 999, expected)).toThrow(expect.objectContaining({ code: 'ERR_RANGE_MISMATCH' }));
  });

  it('case 8: a short 206 that does not end at EOF is RangeMismatch, nothing written', async () => {
    const t = await ctx.serve(SIZE, PACED, afterFirst({ rangeEndDelta: -1000 }));
    const r = await run(t.server.url, ctx.out);
    expect(rootCode(r.error)).toBe('ERR_RANGE_MISMATCH');
    await expectResumable(r, ctx.out, SIZE);
    await expectLaterUntouched(r, t);
    // Past the first window segdl never asks past EOF (the server's record is clamped: read the header).
    const lasts = gets(t).slice(1).map((q) => Number(/-(\d+)$/.exec(String(q.headers['range']))?.[1]));
    expect(lasts.every((last) => last <= SIZE - 1)).toBe(true);
  });
});

