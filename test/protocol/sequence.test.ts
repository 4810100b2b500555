/** Catalogue case 25 (curl t3035): a run of unresumable answers before the right one. */
import { describe, expect, it } from 'vitest';
import type { FaultPlan, RequestRecord } from '../../src/index.js';
import { expectExact, gets, MiB, PACED, run, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;
const TWO = { connections: 2 };

const TRUNCATED_200: FaultPlan = { ignoreRanges: true, resetAfterBytes: 5000 };
const TRUNCATED_206: FaultPlan = { resetAfterBytes: 7000 };
const NOT_FOUND: FaultPlan = { status: 404 };
/** A 200 with another body (a short text) and no validators. */
const WRONG_200: FaultPlan = { status: 200 };

/** The second segment's requests (it starts inside the file, and its retries further on). */
const secondSegment = (q: RequestRecord) => q.range !== undefined && q.range.start > 0;

/** Answers the second segment's ranged requests from `script`, in order; then normally. */
function scripted(script: FaultPlan[]): (q: RequestRecord) => FaultPlan | undefined {
  const left = [...script];
  return (q) => (secondSegment(q) ? left.shift() : undefined);
}

describe('case 25: the t3035 sequence', () => {
  it('case 25: truncated 200 → truncated 206 → 404 → wrong 200 → correct 206: the unresumable answers are ignored and the file is exact', async () => {
    const t = await ctx.serve(SIZE, PACED, scripted([TRUNCATED_200, TRUNCATED_206, NOT_FOUND, WRONG_200]));
    const r = await run(t.server.url, ctx.out, TWO);
    await expectExact(r, ctx.out, SIZE);
    // The truncated 200 was seen and not used at its offset.
    expect(gets(t).some((q) => q.status === 200 && secondSegment(q))).toBe(true);
  });

  // Regression (engine bug found by this test, fixed): the 404 in the middle of the sequence is
  // ERR_HTTP_STATUS, which isRetryable() refuses, so the download fails at once with
  // "server answered 404" and the later wrong 200 / correct 206 are never asked for. Expected per
  // case 25: the 404 is ignored like the other unresumable answers (retried within the budget;
  // a persistent 404 still fails clearly, case 27) and the file ends exact.
  it('case 25: truncated 206 → 404 → wrong 200 → correct 206 (the resumed part of t3035): the file is exact', async () => {
    const t = await ctx.serve(SIZE, PACED, scripted([TRUNCATED_206, NOT_FOUND, WRONG_200]));
    const r = await run(t.server.url, ctx.out, { ...TWO, retry: { attempts: 4, minDelayMs: 1, maxDelayMs: 5 } });
    await expectExact(r, ctx.out, SIZE);
    // The bytes of the truncated 206 were kept: no later ranged request starts at the segment start again.
    const [truncated, ...later] = gets(t).filter(secondSegment);
    expect(truncated!.bytesSent).toBe(7000);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((q) => q.range!.start > truncated!.range!.start)).toBe(true);
  });
});
