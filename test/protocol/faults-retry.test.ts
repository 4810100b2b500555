/** Catalogue cases 24-28: failures that are retried, waited on, or fatal, and connection reuse. */
import { Agent, buildConnector } from 'undici';
import { describe, expect, it } from 'vitest';
import { DownloadError, type FaultPlan, type RequestRecord } from '../../src/index.js';
import type { TestServer } from '../helpers/server.js';
import { expectExact, expectResumable, FAST_RETRY, gets, MiB, rootCode, run, untouched, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;
const HALF = SIZE / 2;
/** Exactly two segments and no work stealing: each request belongs to one known segment. */
const TWO = { connections: 2, minSplitSize: HALF };
const second = (q: RequestRecord) => q.range !== undefined && q.range.end === SIZE - 1;
const firstSeg = (q: RequestRecord) => q.range !== undefined && q.range.end === HALF - 1;

/** `plan` for the first `n` requests matching `which`. */
function firstN(n: number, which: (q: RequestRecord) => boolean, plan: FaultPlan) {
  let left = n;
  return (q: RequestRecord) => (which(q) && left-- > 0 ? plan : undefined);
}

describe('retries and fatal statuses (catalogue cases 24-28)', () => {
  it('case 24: a connection reset on one worker → bounded retries with backoff; the other segment continues', async () => {
    const t = await ctx.serve(SIZE, {}, firstN(2, second, { resetConnection: true }));
    const r = await run(t.server.url, ctx.out, TWO);
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries.map((e) => [e.attempt, e.segment?.start])).toEqual([
      [1, HALF],
      [2, HALF],
    ]);
    // A reset before any byte of the answer is a network failure (ERR_INCOMPLETE would be tolerable).
    for (const e of r.retries) expect(['ERR_NETWORK', 'ERR_INCOMPLETE']).toContain(e.code);
    for (const e of r.retries) expect(e.delayMs).toBeGreaterThanOrEqual(FAST_RETRY.minDelayMs);
    for (const e of r.retries) expect(e.delayMs).toBeLessThanOrEqual(FAST_RETRY.maxDelayMs);
    expect(gets(t).filter(firstSeg)).toHaveLength(1);
    expect(gets(t).filter(second)).toHaveLength(3);
  });

  it.each([
    ['refused', 'ECONNREFUSED'],
    ['DNS failure', 'ENOTFOUND'],
  ])('case 24: connection %s for a worker → bounded retries; every segment still reaches the server once', async (_name, code) => {
    const t = await ctx.serve(SIZE);
    // The second and third connections fail to open (one worker twice, or each worker once).
    const connect = buildConnector({});
    let attempts = 0;
    const dispatcher = new Agent({
      connections: 2,
      connect: (options, callback) => {
        attempts++;
        if (attempts === 2 || attempts === 3) callback(Object.assign(new Error(`connect ${code} (injected)`), { code }), null);
        else connect(options, callback);
      },
    });
    try {
      const r = await run(t.server.url, ctx.out, { ...TWO, dispatcher });
      await expectExact(r, ctx.out, SIZE);
      expect(r.retries).toHaveLength(2);
      expect(r.retries.every((e) => e.code === 'ERR_NETWORK' && e.message.includes(code))).toBe(true);
      for (const start of [0, HALF]) {
        const attempts = r.retries.filter((e) => e.segment?.start === start).map((e) => e.attempt);
        expect(attempts).toEqual(attempts.map((_a, i) => i + 1));
      }
      // Each segment reached the server once: the failures never got that far.
      expect(gets(t).filter(firstSeg)).toHaveLength(1);
      expect(gets(t).filter(second)).toHaveLength(1);
    } finally {
      await dispatcher.destroy();
    }
  });

  it('case 24: a worker that is always reset gives up after exactly 1 + attempts requests, resumable', async () => {
    const t = await ctx.serve(SIZE, {}, (q) => (second(q) ? { resetConnection: true } : undefined));
    const r = await run(t.server.url, ctx.out, TWO);
    expect(r.error?.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect(['ERR_NETWORK', 'ERR_INCOMPLETE']).toContain(rootCode(r.error));
    expect(gets(t).filter(second)).toHaveLength(1 + FAST_RETRY.attempts);
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, HALF, SIZE)).toBe(true);
  });

  it.each([503, 429])('case 26: %i with Retry-After → the wait is capped, concurrency drops, the file completes', async (status) => {
    let server: TestServer | undefined;
    let overlapAfterRefusal = 0;
    const refused = new Set<number>();
    const t = await ctx.serve(SIZE, {}, (q) => {
      if (q.range === undefined) return undefined;
      // How many file bodies are still being sent as this request arrives.
      const busy = server!.server.requests.filter((o) => o.status === 206 && o.range && o.bytesSent < o.range.end - o.range.start + 1).length;
      if (refused.size > 0) overlapAfterRefusal = Math.max(overlapAfterRefusal, busy);
      if (refused.has(q.range.end)) return undefined;
      refused.add(q.range.end);
      return { status, retryAfter: '3600' };
    });
    server = t;
    const r = await run(t.server.url, ctx.out, { connections: 4, retry: { ...FAST_RETRY, maxRetryAfterMs: 20 } });
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries.length).toBeGreaterThanOrEqual(1);
    // An hour asked, 20 ms waited: the cap, not the jittered backoff (≤ 5 ms), decides.
    for (const e of r.retries) expect(e.delayMs).toBe(20);
    expect(r.retries.every((e) => e.code === 'ERR_HTTP_STATUS')).toBe(true);
    // After the host pushed back, fewer bodies at once than the 4 connections allowed (the engine
    // goes down to what was streaming, here nothing, so one at a time; without lowering all four
    // retries start together and a request would find three bodies in flight).
    expect(overlapAfterRefusal).toBeLessThan(3);
  });

  it('case 26: 503 + Retry-After that never ends → a clear error once the budget is spent, resumable', async () => {
    const t = await ctx.serve(SIZE, {}, (q) => (q.range ? { status: 503, retryAfter: '1' } : undefined));
    const r = await run(t.server.url, ctx.out, { ...TWO, retry: { ...FAST_RETRY, maxRetryAfterMs: 10 } });
    expect(r.error?.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect((r.error?.cause as DownloadError).status).toBe(503);
    expect(r.error?.message).toContain('503');
    expect(gets(t).length).toBeLessThanOrEqual(2 * (1 + FAST_RETRY.attempts));
    await expectResumable(r, ctx.out, SIZE);
  });

  it.each([404, 500])('case 27: a persistent %i on one segment fails the download clearly; the partial resumes', async (status) => {
    let broken = true;
    const t = await ctx.serve(SIZE, {}, (q) => (broken && second(q) ? { status } : undefined));
    const r = await run(t.server.url, ctx.out, TWO);
    // At once (404 today) or after the retry budget (5xx): either way it names the status.
    expect(rootCode(r.error)).toBe('ERR_HTTP_STATUS');
    expect(r.error?.status).toBe(status);
    expect(r.error?.message).toContain(String(status));
    expect(gets(t).filter(second).length).toBeLessThanOrEqual(1 + FAST_RETRY.attempts);
    if (status === 500) expect(gets(t).filter(second)).toHaveLength(1 + FAST_RETRY.attempts);
    await expectResumable(r, ctx.out, SIZE);

    broken = false;
    const again = await run(t.server.url, ctx.out, TWO);
    await expectExact(again, ctx.out, SIZE);
    expect(again.warnings.filter((w) => /starting over/.test(w))).toEqual([]);
    expect(again.resumes).toHaveLength(1);
    expect(again.result!.bytesFetched).toBe(SIZE - again.resumes[0]!);
  });

  it('case 28: after a probe response that was cut short, the next request opens a fresh connection', async () => {
    const t = await ctx.serve(SIZE, {}, (q) => (q.method === 'HEAD' ? { status: 405 } : { ignoreRanges: true }));
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    const [head, probe, whole] = t.server.requests;
    expect([head!.method, head!.status, probe!.headers['range'], probe!.status, whole!.headers['range']]).toEqual(['HEAD', 405, 'bytes=0-0', 200, undefined]);
    // The probe read one chunk of a full body and stopped: that connection cannot carry another request.
    expect(whole!.connection).not.toBe(probe!.connection);
  });

  it('case 28: after a stalled response is abandoned, the retry opens a fresh connection', async () => {
    const t = await ctx.serve(SIZE, {}, firstN(1, firstSeg, { stallAfterBytes: 100_000 }));
    const r = await run(t.server.url, ctx.out, { ...TWO, stallTimeoutMs: 200 });
    await expectExact(r, ctx.out, SIZE);
    const [stalled, retry] = gets(t).filter(firstSeg);
    expect(stalled!.bytesSent).toBe(100_000);
    expect(retry!.range!.start).toBe(100_000);
    expect(retry!.connection).not.toBe(stalled!.connection);
    expect(r.retries.map((e) => e.code)).toEqual(['ERR_STALLED']);
  });
});
