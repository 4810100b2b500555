import { describe, expect, it } from 'vitest';
import { sliceSize, TokenBucket } from '../../src/serve/throttle.js';

/** A bucket on a clock the test moves by hand. */
function bucketAt(): { bucket: TokenBucket; advance(ms: number): void } {
  let now = 0;
  return { bucket: new TokenBucket(() => now), advance: (ms) => (now += ms) };
}

describe('sliceSize', () => {
  it.each([
    [1, 1],
    [10, 1],
    [1_000_000, 20_000],
    [1e9, 64 * 1024],
  ])('rate %d → %d bytes', (rate, slice) => {
    expect(sliceSize(rate)).toBe(slice);
  });
});

describe('TokenBucket', () => {
  it('lets the first burst through, then charges exactly n/rate', () => {
    const { bucket } = bucketAt();
    const rate = 1_000_000; // burst = 50 ms of rate = 50 000 bytes
    expect(bucket.reserve(50_000, rate)).toBe(0);
    expect(bucket.reserve(10_000, rate)).toBeCloseTo(10, 6);
    expect(bucket.reserve(10_000, rate)).toBeCloseTo(20, 6);
  });

  it('holds the long-run rate when every wait overshoots (debt is paid back)', () => {
    const { bucket, advance } = bucketAt();
    const rate = 100_000;
    const slice = sliceSize(rate);
    let elapsed = 0;
    let sent = 0;
    for (let i = 0; i < 1000; i++) {
      const wait = bucket.reserve(slice, rate);
      // A late timer: never less than 1 ms, always 0.7 ms late.
      const slept = wait > 0 ? Math.max(1, wait + 0.7) : 0;
      advance(slept);
      elapsed += slept;
      sent += slice;
    }
    const burst = rate * 0.05;
    // Overshoot refills the bucket up to the burst cap, so the rate never exceeds the cap...
    expect(sent).toBeLessThanOrEqual(burst + (rate * elapsed) / 1000 + slice);
    // ...and timer lateness does not lower it either.
    expect(sent / (elapsed / 1000)).toBeGreaterThan(rate * 0.98);
  });

  it('refills while idle but never beyond the burst', () => {
    const { bucket, advance } = bucketAt();
    const rate = 1000; // slice 20, burst 50
    expect(bucket.reserve(50, rate)).toBe(0);
    advance(60_000); // a minute idle is still only 50 bytes of credit
    expect(bucket.reserve(50, rate)).toBe(0);
    expect(bucket.reserve(10, rate)).toBeCloseTo(10, 6);
  });

  it('take() rejects when the signal aborts during the wait', async () => {
    const bucket = new TokenBucket();
    const ac = new AbortController();
    await bucket.take(1, 1, ac.signal); // the burst
    const waiting = bucket.take(1, 1, ac.signal); // one second at 1 B/s
    ac.abort();
    await expect(waiting).rejects.toThrow(/abort/i);
  });
});
