import { describe, expect, it } from 'vitest';
import { FaultState, rateFor, validateFaults, type FaultPlan } from '../../src/serve/faults.js';

describe('validateFaults', () => {
  it('accepts a full set of knobs', () => {
    expect(() =>
      validateFaults({
        rateBytesPerSec: 1e6,
        slowConnections: { every: 3, rateBytesPerSec: 1000 },
        firstByteLatencyMs: 0,
        resetAfterBytes: 0,
        stallAfterBytes: 10,
        unavailable: { count: 2, retryAfter: '5', includeHead: true },
        maxConnections: 2,
        maxConnectionsMode: 'reset',
        ignoreRanges: false,
        noLength: false,
        shiftContentRange: -1,
        shiftBody: 1,
        changeEtagAfter: 3,
        weakEtag: true,
        ignoreRangesAfterZero: true,
        contentDisposition: 'attachment; filename="a.bin"',
      }),
    ).not.toThrow();
  });

  it.each<[FaultPlan, RegExp]>([
    [{ rateBytesPerSec: 0 }, /Expected fault `rateBytesPerSec` to be a positive finite number, got 0/],
    [{ maxConnections: 0 }, /`maxConnections` to be an integer >= 1, got 0/],
    [{ resetAfterBytes: 1.5 }, /`resetAfterBytes`/],
    [{ slowConnections: { every: 0, rateBytesPerSec: 1 } }, /`slowConnections.every`/],
    [{ unavailable: {} as { count: number } }, /`unavailable.count`.*got undefined/],
    [{ maxConnectionsMode: 'drop' as '503' }, /`maxConnectionsMode`/],
    [{ contentDisposition: 'a\r\nX-Injected: 1' }, /`contentDisposition`/],
    [{ rateBytesPerSecond: 5 } as FaultPlan, /Unknown fault option `rateBytesPerSecond`/],
  ])('rejects %j', (faults, message) => {
    expect(() => validateFaults(faults)).toThrow(message);
  });
});

describe('rateFor', () => {
  it('paces every n-th connection at the straggler rate', () => {
    const faults = { rateBytesPerSec: 100, slowConnections: { every: 3, rateBytesPerSec: 7 } };
    expect([1, 2, 3, 4, 5, 6].map((c) => rateFor(faults, c))).toEqual([100, 100, 7, 100, 100, 7]);
    expect(rateFor({}, 1)).toBeUndefined();
  });
});

describe('FaultState', () => {
  it('answers unavailable to the first `count` GETs only, HEAD only when asked', () => {
    const state = new FaultState({ unavailable: { count: 2 } });
    const plan = state.faults;
    expect(state.takeUnavailable(plan, 'HEAD')).toBe(false);
    expect([1, 2, 3].map(() => state.takeUnavailable(plan, 'GET'))).toEqual([true, true, false]);
    const withHead = new FaultState({ unavailable: { count: 1, includeHead: true } });
    expect(withHead.takeUnavailable(withHead.faults, 'HEAD')).toBe(true);
    expect(withHead.takeUnavailable(withHead.faults, 'GET')).toBe(false);
  });

  it('bumps the generation after `changeEtagAfter` GETs and keeps it across replace()', () => {
    const state = new FaultState({ changeEtagAfter: 2 });
    const gens = ['GET', 'HEAD', 'GET', 'GET', 'HEAD'].map((m) => state.generationFor(state.faults, m));
    expect(gens).toEqual([0, 0, 0, 1, 1]);
    state.replace({});
    expect(state.generationFor(state.faults, 'GET')).toBe(1);
  });

  it('restarts counters on replace()', () => {
    const state = new FaultState({ unavailable: { count: 1 } });
    expect(state.takeUnavailable(state.faults, 'GET')).toBe(true);
    expect(state.takeUnavailable(state.faults, 'GET')).toBe(false);
    state.replace({ unavailable: { count: 1 } });
    expect(state.takeUnavailable(state.faults, 'GET')).toBe(true);
  });

  it('validates on construction and replace()', () => {
    expect(() => new FaultState({ stallAfterBytes: -1 })).toThrow(/stallAfterBytes/);
    expect(() => new FaultState({}).replace({ shiftBody: 0.5 })).toThrow(/shiftBody/);
  });
});
