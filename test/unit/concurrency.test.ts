import { describe, expect, it } from 'vitest';
import { ConcurrencyControl } from '../../src/schedule/concurrency.js';

describe('ConcurrencyControl', () => {
  it('does not ramp: it starts at the maximum, or where told, and grows only when opened', () => {
    const c = new ConcurrencyControl(32);
    expect(c.limit).toBe(32);
    const first = new ConcurrencyControl(16, { initial: 1 });
    expect(first.evaluate(1, 0, 0)).toBe(1); // every connection streams: still no doubling
    expect(first.open(6)).toBe(6);
    expect(first.open(3)).toBe(6); // never lowered by open
    expect(first.open(40)).toBe(16); // never above the maximum
  });

  it('open stays under what the host last accepted', () => {
    const c = new ConcurrencyControl(16, { initial: 8 });
    expect(c.onOverload(4, 0)).toBe(4);
    expect(c.open(16)).toBe(4);
  });

  it('a refusal keeps the streaming connections; a quiet second later it probes one more', () => {
    const c = new ConcurrencyControl(16, { initial: 4 });
    c.evaluate(4, 0, 0);
    expect(c.onOverload(4, 100)).toBe(4);
    expect(c.onOverload(4, 110)).toBe(4); // more refusals from the same burst change nothing
    expect(c.evaluate(4, 1000, 0)).toBe(4); // 890 ms after the last refusal
    expect(c.evaluate(4, 1110, 0)).toBe(5);
    expect(c.onOverload(4, 1200)).toBe(4);
  });

  it('a refusal with nothing streaming halves the limit, never below 1', () => {
    const c = new ConcurrencyControl(16, { initial: 8 });
    expect(c.onOverload(0, 0)).toBe(4);
    expect(c.onOverload(0, 1)).toBe(2);
    expect(c.onOverload(0, 2)).toBe(1);
    expect(c.onOverload(0, 3)).toBe(1);
  });

  it('adaptive: grows only after a level has settled, and stops when a step does not raise the average rate', () => {
    // The third argument is the download's byte count; a level is judged by its average rate over ≥ 300 ms.
    const c = new ConcurrencyControl(16, { adaptive: true, initial: 4 });
    expect(c.evaluate(4, 0, 0)).toBe(4); // all 4 stream from now on
    expect(c.evaluate(4, 200, 20)).toBe(4); // not settled yet
    expect(c.evaluate(4, 300, 30)).toBe(8); // 100 B/s at 4: try 8
    expect(c.evaluate(8, 310, 31)).toBe(8); // all 8 stream from now on
    expect(c.evaluate(8, 610, 31 + 57)).toBe(16); // 190 B/s ≥ 100 × 1.15: it paid, try 16
    const flat = new ConcurrencyControl(16, { adaptive: true, initial: 4 });
    flat.evaluate(4, 0, 0);
    expect(flat.evaluate(4, 300, 30)).toBe(8);
    flat.evaluate(8, 310, 31);
    expect(flat.evaluate(8, 610, 31 + 31)).toBe(8); // 103 B/s < 115: stays at 8
    expect(flat.evaluate(8, 5000, 500)).toBe(8);
  });
});
