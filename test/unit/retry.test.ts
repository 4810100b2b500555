import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, parseRetryAfter, retryDelay, type RetryOptions } from '../../src/schedule/retry.js';

const policy: RetryOptions = { attempts: 5, minDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 };
const fixed = (value: number) => () => value;
/** Just below 1: Math.random never returns 1. */
const TOP = 1 - 2 ** -52;

describe('DEFAULT_RETRY', () => {
  it('matches the documented defaults', () => {
    expect(DEFAULT_RETRY).toEqual({ attempts: 5, minDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 });
  });
});

describe('retryDelay: exponential backoff with full jitter', () => {
  // ceiling = min(maxDelayMs, minDelayMs * 2^(attempt-1))
  it.each([
    [0, 250],
    [1, 250],
    [2, 500],
    [3, 1000],
    [4, 2000],
    [5, 4000],
    [6, 8000],
    [7, 10_000],
    [8, 10_000],
    [50, 10_000],
    [1000, 10_000],
    [5000, 10_000],
  ])('attempt %i: lowest is minDelayMs, highest is %i', (attempt, ceiling) => {
    expect(retryDelay(attempt, policy, undefined, fixed(0))).toBe(250);
    expect(retryDelay(attempt, policy, undefined, fixed(TOP))).toBeCloseTo(ceiling, 6);
    expect(retryDelay(attempt, policy, undefined, fixed(TOP))).toBeLessThanOrEqual(ceiling);
  });

  it('the ceiling grows until it reaches maxDelayMs, then stays there', () => {
    const ceilings = Array.from({ length: 12 }, (_, i) => retryDelay(i + 1, policy, undefined, fixed(TOP)));
    for (let i = 1; i < ceilings.length; i++) expect(ceilings[i]!).toBeGreaterThanOrEqual(ceilings[i - 1]!);
    expect(ceilings[1]!).toBeGreaterThan(ceilings[0]!);
    expect(Math.max(...ceilings)).toBeLessThanOrEqual(policy.maxDelayMs);
    expect(ceilings.at(-1)).toBeCloseTo(policy.maxDelayMs, 6);
  });

  it.each([0, 0.1, 0.25, 0.5, 0.75, 0.9, TOP])('jitter is linear in random() = %f, within [min, ceiling]', (r) => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const ceiling = Math.min(10_000, 250 * 2 ** (attempt - 1));
      const delay = retryDelay(attempt, policy, undefined, fixed(r));
      expect(delay).toBeCloseTo(250 + r * (ceiling - 250), 6);
      expect(delay).toBeGreaterThanOrEqual(250);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });

  it('uses Math.random by default, still within [min, ceiling]', () => {
    for (let i = 0; i < 200; i++) {
      const delay = retryDelay(4, policy);
      expect(delay).toBeGreaterThanOrEqual(250);
      expect(delay).toBeLessThanOrEqual(2000);
    }
  });

  it('minDelayMs == maxDelayMs gives a constant delay', () => {
    const flat = { ...policy, minDelayMs: 700, maxDelayMs: 700 };
    for (const attempt of [1, 2, 10]) expect(retryDelay(attempt, flat, undefined, fixed(0.5))).toBe(700);
  });

  it('minDelayMs 0 starts at zero and still grows', () => {
    const zero = { ...policy, minDelayMs: 0 };
    expect(retryDelay(1, zero, undefined, fixed(TOP))).toBe(0);
    expect(retryDelay(1000, zero, undefined, fixed(TOP))).toBe(0); // 0 × 2^999 is still 0
  });
});

describe('retryDelay: Retry-After', () => {
  it.each([
    { name: 'honoured when above the backoff', attempt: 1, retryAfterMs: 3000, r: 0, expected: 3000 },
    { name: 'honoured on a late attempt too', attempt: 7, retryAfterMs: 30_000, r: TOP, expected: 30_000 },
    { name: 'never shorter than the backoff', attempt: 3, retryAfterMs: 100, r: 0.5, expected: 625 },
    { name: 'Retry-After: 0 falls back to the backoff', attempt: 2, retryAfterMs: 0, r: 0, expected: 250 },
    { name: 'capped at maxRetryAfterMs', attempt: 1, retryAfterMs: 120_000, r: 0, expected: 60_000 },
    { name: 'exactly maxRetryAfterMs', attempt: 1, retryAfterMs: 60_000, r: 0, expected: 60_000 },
    { name: 'huge Retry-After is capped', attempt: 1, retryAfterMs: 1e20, r: 0.5, expected: 60_000 },
  ])('$name', ({ attempt, retryAfterMs, r, expected }) => {
    expect(retryDelay(attempt, policy, retryAfterMs, fixed(r))).toBeCloseTo(expected, 6);
  });

  it('a small maxRetryAfterMs cap never pushes the delay below the backoff', () => {
    const tight = { ...policy, maxRetryAfterMs: 100 };
    expect(retryDelay(5, tight, 50_000, fixed(0.5))).toBeCloseTo(250 + 0.5 * 3750, 6);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

  it.each<[string, string | string[] | undefined, number | undefined]>([
    ['absent', undefined, undefined],
    ['empty array', [], undefined],
    ['zero seconds', '0', 0],
    ['delta-seconds', '120', 120_000],
    ['delta-seconds with whitespace', ' 5 ', 5000],
    ['first of several values', ['7', '9'], 7000],
    ['HTTP date 30 s ahead', 'Wed, 21 Oct 2015 07:28:30 GMT', 30_000],
    ['HTTP date one day ahead', 'Thu, 22 Oct 2015 07:28:00 GMT', 86_400_000],
    ['HTTP date equal to now', 'Wed, 21 Oct 2015 07:28:00 GMT', 0],
    ['HTTP date in the past clamps to 0', 'Fri, 31 Dec 1999 23:59:59 GMT', 0],
    ['obsolete RFC 850 date', 'Wednesday, 21-Oct-15 07:29:00 GMT', 60_000],
    ['garbage', 'soon', undefined],
    ['digits then junk', '12abc', undefined],
    ['hex', '0x10', undefined],
    ['with a unit', '5 seconds', undefined],
    ['empty', '', undefined],
    ['whitespace only', '   ', undefined],
  ])('%s: %j', (_name, value, expected) => {
    const parsed = parseRetryAfter(value, now);
    if (expected === undefined) expect(parsed).toBeUndefined();
    else expect(parsed).toBe(Math.max(0, expected));
  });

  it('defaults `now` to the clock (a far-future date is far away, a past date is 0)', () => {
    expect(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT')).toBeGreaterThan(365 * 86_400_000);
    expect(parseRetryAfter('Fri, 31 Dec 1999 23:59:59 GMT')).toBe(0);
  });
});

// Bugs these tests found in src, fixed; kept as regression tests.
describe('regressions found by these tests', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');
  // parseRetryAfter falls back to V8's lenient Date.parse, which reads many non-HTTP-date strings as dates.
  it.each(['-1', '1.5', 'abc 3', 'Retry in 2099', 'x 9999', 'May 2030'])('garbage Retry-After %j → undefined (not a date)', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});
