/** Catalogue cases 20-23: bodies that end early, run long, or never start. */
import { describe, expect, it } from 'vitest';
import type { FaultPlan, RequestRecord } from '../../src/index.js';
import { expectExact, expectNoFinal, expectNothing, expectResumable, FAST_RETRY, gets, MiB, PACED, rootCode, run, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;
const K = 100_003; // not aligned to anything: the resume point must be exactly it

/** `plan` for the first request of each segment only (a segment is known by its first byte); `seen` collects them. */
function firstPerSegment(plan: FaultPlan, seen = new Set<number>()): (q: RequestRecord) => FaultPlan | undefined {
  return (q) => {
    if (q.range === undefined || seen.has(q.range.start)) return undefined;
    seen.add(q.range.start);
    return plan;
  };
}

/** The first segment's first request is cut after K body bytes. */
function cutFirstSegment(plan: FaultPlan): (q: RequestRecord) => FaultPlan | undefined {
  let done = false;
  return (q) => {
    if (done || q.range?.start !== 0) return undefined;
    done = true;
    return plan;
  };
}

describe('faults in the body (catalogue cases 20-23)', () => {
  it.each([
    ['Content-Length framing', {}],
    ['chunked framing (case 21: closed before the zero chunk)', { framing: 'chunked' }],
  ] as const)('case 20: the connection closes after k of n bytes (%s) → only k bytes are credited and the segment resumes from k', async (_name, framing) => {
    const t = await ctx.serve(SIZE, {}, cutFirstSegment({ ...framing, resetAfterBytes: K }));
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    const first = gets(t);
    expect(first[0]!.range!.start).toBe(0);
    expect(first[0]!.bytesSent).toBe(K);
    // The retry asks for exactly the first byte not received; nothing below it is fetched again.
    expect(first[1]!.range!.start).toBe(K);
    expect(first.slice(1).every((q) => q.range!.start >= K)).toBe(true);
    expect(r.retries).toHaveLength(1);
    expect(r.result!.bytesFetched).toBe(SIZE);
  });

  // Regression (engine bug found by this test, fixed): a body cut short by the peer surfaces from undici as UND_ERR_SOCKET "other side
  // closed"; toDownloadError maps it to ERR_NETWORK. Expected ERR_INCOMPLETE (headers arrived,
  // the body did not finish). Actual retry event code: ERR_NETWORK.
  it('case 20: a body cut after k bytes is reported as Incomplete', async () => {
    const t = await ctx.serve(SIZE, {}, cutFirstSegment({ resetAfterBytes: K }));
    const r = await run(t.server.url, ctx.out);
    expect(r.retries.map((e) => e.code)).toEqual(['ERR_INCOMPLETE']);
  });

  it('case 21: a no-length chunked stream closed before the zero chunk is never a success', async () => {
    const t = await ctx.serve(SIZE, { noLength: true, closeBeforeEnd: true });
    const r = await run(t.server.url, ctx.out);
    expect(r.error).toBeDefined();
    await expectNoFinal(r, ctx.out);
    // Every attempt received the whole body and still was not taken as complete.
    expect(gets(t).filter((q) => q.headers['range'] === undefined).every((q) => q.bytesSent === SIZE)).toBe(true);
  });

  // Regression (engine bug found by this test, fixed): as in case 20, the missing zero chunk is reported as ERR_NETWORK (cause of
  // ERR_RETRIES_EXHAUSTED) instead of ERR_INCOMPLETE.
  it('case 21: a no-length chunked stream closed before the zero chunk is Incomplete', async () => {
    const t = await ctx.serve(SIZE, { noLength: true, closeBeforeEnd: true });
    const r = await run(t.server.url, ctx.out);
    expect(rootCode(r.error)).toBe('ERR_INCOMPLETE');
  });

  it.each([
    ['after a Content-Length body, on a kept-alive connection', {}],
    ['inside a chunked body', { framing: 'chunked' }],
    ['inside a close-delimited body', { framing: 'close' }],
  ] as const)('case 22: bytes beyond the range (%s) are discarded', async (_name, framing) => {
    const t = await ctx.serve(SIZE, { ...framing, extraBytes: 64 * 1024 });
    // One connection, one segment ending at EOF: a byte written past it would grow the file.
    const r = await run(t.server.url, ctx.out, { connections: 1 });
    await expectExact(r, ctx.out, SIZE);
    expect(gets(t).every((q) => q.status === 206)).toBe(true);
  });

  it.each([
    ['the connection closes right after the headers', 'after-headers'],
    ['the final CRLF of the headers is missing', 'no-final-crlf'],
  ] as const)('case 23: %s → the request is retried (the first one included) and the file is exact', async (_name, truncateHeaders) => {
    const cut = new Set<number>();
    const t = await ctx.serve(SIZE, PACED, firstPerSegment({ truncateHeaders }, cut));
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(cut.has(0)).toBe(true);
    expect(r.retries).toHaveLength(cut.size);
  });

  it('case 23: headers never complete (no final CRLF) on every answer → fails after bounded retries of the first request, nothing created', async () => {
    const t = await ctx.serve(SIZE, {}, (q) => (q.range ? { truncateHeaders: 'no-final-crlf' } : undefined));
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect(gets(t)).toHaveLength(1 + FAST_RETRY.attempts);
    await expectNothing(r, ctx.out);
  });

  it('case 23: complete headers then a close on every answer → the size is known, bounded retries of the body, resumable', async () => {
    const t = await ctx.serve(SIZE, {}, (q) => (q.range ? { truncateHeaders: 'after-headers' } : undefined));
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect(gets(t)).toHaveLength(1 + FAST_RETRY.attempts);
    await expectResumable(r, ctx.out, SIZE);
  });

  // Regression (engine bug found by this test, fixed): undici reports UND_ERR_RES_CONTENT_LENGTH_MISMATCH (after-headers) or UND_ERR_SOCKET
  // "other side closed" (no-final-crlf) and toDownloadError says ERR_NETWORK; expected
  // ERR_INCOMPLETE as the cause of ERR_RETRIES_EXHAUSTED.
  it.each(['after-headers', 'no-final-crlf'] as const)('case 23: headers cut (%s) is Incomplete', async (truncateHeaders) => {
    const t = await ctx.serve(SIZE, {}, (q) => (q.range ? { truncateHeaders } : undefined));
    const r = await run(t.server.url, ctx.out);
    expect(rootCode(r.error)).toBe('ERR_INCOMPLETE');
  });
});
