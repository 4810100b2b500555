/** Catalogue cases 1-8: what a ranged request must get back before a byte of it is written. */
import { describe, expect, it } from 'vitest';
import { dataRange } from '../../fixtures/data.js';
import { DownloadError } from '../../src/index.js';
import { checkRangeResponse } from '../../src/http/response-gate.js';
import { expectExact, expectResumable, fetchSegment, gets, KiB, MiB, rootCode, run, SEED, untouched, useScratch } from './helpers.js';

const ctx = useScratch();
/** Two connections plan [0, HALF) and [HALF, SIZE). */
const SIZE = 1 * MiB;
const HALF = SIZE / 2;

describe('ranged responses (catalogue cases 1-8)', () => {
  it('case 1: every segment gets an exact 206; each request carries Range: bytes=s-e and Accept-Encoding: identity', async () => {
    const size = 2 * MiB + 17;
    const t = await ctx.serve(size);
    const r = await run(t.server.url, ctx.out, { connections: 4 });
    await expectExact(r, ctx.out, size);
    const ranged = gets(t);
    expect(ranged.length).toBeGreaterThanOrEqual(4);
    for (const q of ranged) {
      expect(q.status).toBe(206);
      expect(q.headers['accept-encoding']).toBe('identity');
      const m = /^bytes=(\d+)-(\d+)$/.exec(String(q.headers['range']));
      expect(m, String(q.headers['range'])).not.toBeNull();
      expect(Number(m![2])).toBeLessThan(size);
      expect(q.range).toEqual({ start: Number(m![1]), end: Number(m![2]) });
    }
    expect(Math.min(...ranged.map((q) => q.range!.start))).toBe(0);
    expect(Math.max(...ranged.map((q) => q.range!.end))).toBe(size - 1);
  });

  it('case 2: a probe answered 200 without range support → one stream from offset 0, exact file, "server ignores ranges"', async () => {
    const t = await ctx.serve(SIZE, { ignoreRanges: true });
    const r = await run(t.server.url, ctx.out, { connections: 4 });
    await expectExact(r, ctx.out, SIZE);
    expect(r.warnings).toContain('server ignores ranges: downloading with one connection');
    expect(r.result?.connectionsUsed).toBe(1);
    const plain = gets(t).filter((q) => q.headers['range'] === undefined);
    expect(plain).toHaveLength(1);
    expect(plain[0]!.bytesSent).toBe(SIZE);
  });

  it('case 3: a 200 full body to a segment at offset > 0 is never written at that offset (engine: the segment fails RangeUnsupported)', async () => {
    const t = await ctx.serve(SIZE, { ignoreRangesAfterZero: true });
    const { error, part } = await fetchSegment(t.server.url, ctx.out, SIZE, HALF, SIZE);
    expect((error as DownloadError).code).toBe('ERR_RANGE_UNSUPPORTED');
    expect(part.every((b) => b === 0)).toBe(true);
  });

  it('case 3: a 200 to a segment at offset > 0 → the download falls back to one stream and the file is exact', async () => {
    const t = await ctx.serve(SIZE, { ignoreRangesAfterZero: true });
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(r.warnings).toContain('server ignores ranges mid-way: downloading with one connection');
    expect(gets(t).some((q) => q.status === 200 && q.range !== undefined && q.range.start > 0)).toBe(true);
  });

  // Shifted forward on the first segment, backward on the last, so the header stays a valid one.
  it.each([7, -7])('case 4: a 206 whose start differs from the request by %i is RangeMismatch, nothing written', async (shift) => {
    const faulty = (start: number) => (shift > 0 ? start === 0 : start > 0);
    const t = await ctx.serve(SIZE, {}, (q) => (q.range && faulty(q.range.start) ? { shiftContentRange: shift } : undefined));
    const r = await run(t.server.url, ctx.out);
    expect(rootCode(r.error)).toBe('ERR_RANGE_MISMATCH');
    await expectResumable(r, ctx.out, SIZE);
    // Nothing before the first byte some honest answer covered (a thief may have taken the
    // tail of the failing segment from the other side).
    const honest = gets(t).filter((q) => q.range && !faulty(q.range.start)).map((q) => q.range!.start);
    const [from, to] = shift > 0 ? [0, Math.min(HALF, ...honest)] : [HALF, SIZE];
    expect(to - from).toBeGreaterThanOrEqual(64 * KiB);
    expect(await untouched(r, from, to)).toBe(true);
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

  it('case 6: a 206 whose complete-length differs from the probed size is RemoteChanged, nothing written', async () => {
    const t = await ctx.serve(SIZE, {}, (q) => (q.method === 'GET' ? { reportedSize: SIZE + 1 } : undefined));
    const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, 0, SIZE)).toBe(true);
  });

  it.each([
    ['last < first', 'bytes 500-100/1048576'],
    ['complete ≤ last', 'bytes 0-1048576/1048576'],
    ['unit "items"', 'items 0-524287/1048576'],
    ['garbage', 'garbage'],
  ])('case 7: an invalid Content-Range (%s) is ProtocolError, nothing written', async (_name, value) => {
    const t = await ctx.serve(SIZE, {}, (q) => (q.method === 'GET' ? { contentRange: value } : undefined));
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    expect(r.error?.message).toContain('Content-Range');
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, 0, SIZE)).toBe(true);
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
    const t = await ctx.serve(SIZE, {}, (q) => (q.range && q.range.start > 0 ? { rangeEndDelta: -1000 } : undefined));
    const r = await run(t.server.url, ctx.out);
    expect(rootCode(r.error)).toBe('ERR_RANGE_MISMATCH');
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, HALF, SIZE)).toBe(true);
    // segdl never asks past EOF itself (the server's record is clamped: read the header).
    const lasts = gets(t).map((q) => Number(/-(\d+)$/.exec(String(q.headers['range']))?.[1]));
    expect(lasts.every((last) => last <= SIZE - 1)).toBe(true);
  });
});
