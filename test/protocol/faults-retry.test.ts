/** Catalogue cases 24-28: failures that are retried, waited on, or fatal, and connection reuse. */
import { Agent, buildConnector } from 'undici';
import { describe, expect, it } from 'vitest';
import { DownloadError, type FaultPlan, type RequestRecord } from '../../src/index.js';
import type { TestServer } from '../helpers/server.js';
import { expectExact, expectNothing, expectResumable, FAST_RETRY, gets, MiB, PACED, rootCode, run, untouched, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;
/** Two connections: the first request's and one more, whose segment starts inside the file. */
const TWO = { connections: 2 };
/** A request of the segment that does not start at 0 (the second connection's). */
const second = (q: RequestRecord) => q.range !== undefined && q.range.start > 0;
/** The download's first request. */
const firstRequest = (q: RequestRecord) => q.index === 0;

/** `plan` for the first `n` requests matching `which`. */
function firstN(n: number, which: (q: RequestRecord) => boolean, plan: FaultPlan) {
  let left = n;
  return (q: RequestRecord) => (which(q) && left-- > 0 ? plan : undefined);
}

describe('retries and fatal statuses (catalogue cases 24-28)', () => {
  it('case 24: a connection reset on one worker → bounded retries with backoff; the other segment continues', async () => {
    const t = await ctx.serve(SIZE, PACED, firstN(2, second, { resetConnection: true }));
    const r = await run(t.server.url, ctx.out, TWO);
    await expectExact(r, ctx.out, SIZE);
    // Both resets hit the same segment (a reset while another connection streams also lowers
    // the connection count, so its retry may wait for a free one and count its attempts anew).
    expect(r.retries).toHaveLength(2);
    expect(new Set(r.retries.map((e) => e.segment?.start)).size).toBe(1);
    expect(r.retries[0]!.segment!.start).toBeGreaterThan(0);
    // A reset before any byte of the answer is a network failure (ERR_INCOMPLETE would be tolerable).
    for (const e of r.retries) expect(['ERR_NETWORK', 'ERR_INCOMPLETE']).toContain(e.code);
    for (const e of r.retries) expect(e.delayMs).toBeGreaterThanOrEqual(FAST_RETRY.minDelayMs);
    for (const e of r.retries) expect(e.delayMs).toBeLessThanOrEqual(FAST_RETRY.maxDelayMs);
    expect(gets(t).filter((q) => q.range?.start === 0)).toHaveLength(1);
    // The two reset requests never sent a byte.
    expect(gets(t).filter((q) => q.status === 0).map((q) => q.bytesSent)).toEqual([0, 0]);
  });

  it.each([
    ['refused', 'ECONNREFUSED'],
    ['DNS failure', 'ENOTFOUND'],
  ])('case 24: connection %s for a worker → bounded retries; every byte still reaches the server once', async (_name, code) => {
    const t = await ctx.serve(SIZE, PACED);
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
      expect(r.retries.length).toBeGreaterThanOrEqual(1);
      expect(r.retries.every((e) => e.code === 'ERR_NETWORK' && e.message.includes(code))).toBe(true);
      // The failures never reached the server: every request it saw was answered with a 206.
      expect(gets(t).every((q) => q.status === 206)).toBe(true);
      expect(gets(t).filter((q) => q.range?.start === 0)).toHaveLength(1);
    } finally {
      await dispatcher.destroy();
    }
  });

  it('case 24: a worker that is always reset gives up after its retry budget, resumable', async () => {
    const t = await ctx.serve(SIZE, PACED, (q) => (second(q) ? { resetConnection: true } : undefined));
    const r = await run(t.server.url, ctx.out, TWO);
    expect(r.error?.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect(['ERR_NETWORK', 'ERR_INCOMPLETE']).toContain(rootCode(r.error));
    // 1 + attempts once it is alone; the first reset, while the other connection streamed, only
    // lowered the connection count and put the segment back in line.
    const tries = gets(t).filter(second).length;
    expect(tries).toBeGreaterThanOrEqual(1 + FAST_RETRY.attempts);
    expect(tries).toBeLessThanOrEqual(2 + FAST_RETRY.attempts);
    await expectResumable(r, ctx.out, SIZE);
    const start = gets(t).find(second)!.range!.start + 16;
    expect(await untouched(r, start, SIZE)).toBe(true);
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

  it('case 26: 503 + Retry-After that never ends (the first request included) → a clear error once the budget is spent', async () => {
    const t = await ctx.serve(SIZE, {}, (q) => (q.range ? { status: 503, retryAfter: '1' } : undefined));
    const r = await run(t.server.url, ctx.out, { ...TWO, retry: { ...FAST_RETRY, maxRetryAfterMs: 10 } });
    expect(r.error?.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect((r.error?.cause as DownloadError).status).toBe(503);
    expect(r.error?.message).toContain('503');
    // The first request is retried like any other: 1 + attempts, then nothing was ever created.
    expect(gets(t)).toHaveLength(1 + FAST_RETRY.attempts);
    for (const e of r.retries) expect(e.delayMs).toBe(10);
    await expectNothing(r, ctx.out);
  });

  it('case 26: 503 + Retry-After on a later segment that never ends → a clear error once the budget is spent, resumable', async () => {
    const t = await ctx.serve(SIZE, PACED, (q) => (second(q) ? { status: 503, retryAfter: '1' } : undefined));
    const r = await run(t.server.url, ctx.out, { ...TWO, retry: { ...FAST_RETRY, maxRetryAfterMs: 10 } });
    expect(r.error?.code).toBe('ERR_RETRIES_EXHAUSTED');
    expect((r.error?.cause as DownloadError).status).toBe(503);
    expect(gets(t).length).toBeLessThanOrEqual(2 * (1 + FAST_RETRY.attempts));
    await expectResumable(r, ctx.out, SIZE);
  });

  it.each([404, 500])('case 27: a persistent %i on one segment fails the download clearly; the partial resumes', async (status) => {
    let broken = true;
    const t = await ctx.serve(SIZE, PACED, (q) => (broken && second(q) ? { status } : undefined));
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

  it('case 28: after the first response is cut short (its range given to a second connection), no request reuses its connection', async () => {
    const t = await ctx.serve(SIZE, PACED);
    const r = await run(t.server.url, ctx.out, { connections: 3 });
    await expectExact(r, ctx.out, SIZE);
    const [first, ...later] = gets(t);
    // It asked for the whole file and was stopped where the next segment starts.
    expect(first!.bytesSent).toBeLessThan(SIZE);
    expect(later.length).toBeGreaterThan(0);
    for (const q of later) expect(q.connection).not.toBe(first!.connection);
  });

  it('case 28: after a stalled response is abandoned, the retry opens a fresh connection', async () => {
    const t = await ctx.serve(SIZE, {}, firstN(1, firstRequest, { stallAfterBytes: 100_000 }));
    const r = await run(t.server.url, ctx.out, { ...TWO, stallTimeoutMs: 200 });
    await expectExact(r, ctx.out, SIZE);
    const [stalled, retry] = gets(t);
    expect(stalled!.bytesSent).toBe(100_000);
    expect(retry!.range!.start).toBe(100_000);
    expect(retry!.connection).not.toBe(stalled!.connection);
    expect(r.retries.map((e) => e.code)).toEqual(['ERR_STALLED']);
  });
});
