import { describe, expect, it } from 'vitest';
import { contentRange, ifRangeHolds, parseRange, unsatisfiedRange } from '../../src/serve/ranges.js';

describe('parseRange', () => {
  const size = 1000;
  it.each([
    ['no header', undefined, { kind: 'none' }],
    ['closed range', 'bytes=0-499', { kind: 'single', start: 0, end: 499 }],
    ['one byte', 'bytes=10-10', { kind: 'single', start: 10, end: 10 }],
    ['open-ended', 'bytes=900-', { kind: 'single', start: 900, end: 999 }],
    ['end past EOF is clamped', 'bytes=500-5000', { kind: 'single', start: 500, end: 999 }],
    ['suffix', 'bytes=-100', { kind: 'single', start: 900, end: 999 }],
    ['suffix longer than the file', 'bytes=-5000', { kind: 'single', start: 0, end: 999 }],
    ['unit is case-insensitive, whitespace tolerated', 'Bytes = 1-2 ', { kind: 'single', start: 1, end: 2 }],
    ['empty list elements are ignored', 'bytes=,5-6,', { kind: 'single', start: 5, end: 6 }],
    ['start at EOF', 'bytes=1000-', { kind: 'unsatisfiable' }],
    ['start past EOF', 'bytes=2000-3000', { kind: 'unsatisfiable' }],
    ['zero suffix', 'bytes=-0', { kind: 'unsatisfiable' }],
    ['multiple ranges', 'bytes=0-1,5-6', { kind: 'multiple' }],
    ['multiple, one satisfiable', 'bytes=0-1,5000-6000', { kind: 'multiple' }],
    ['multiple, none satisfiable', 'bytes=2000-,3000-', { kind: 'unsatisfiable' }],
    ['last before first is invalid', 'bytes=5-4', { kind: 'none' }],
    ['other unit', 'items=0-1', { kind: 'none' }],
    ['no equals sign', 'bytes 0-1', { kind: 'none' }],
    ['garbage', 'bytes=abc', { kind: 'none' }],
    ['negative start', 'bytes=-1-5', { kind: 'none' }],
    ['signs are not digits', 'bytes=+1-5', { kind: 'none' }],
    ['empty set', 'bytes=', { kind: 'none' }],
    ['one bad spec poisons the set', 'bytes=0-1,x-y', { kind: 'none' }],
  ])('%s', (_name, header, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it('treats every range of an empty file as unsatisfiable', () => {
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('handles offsets beyond 4 GiB exactly', () => {
    const big = 2 ** 40;
    expect(parseRange(`bytes=${2 ** 33}-`, big)).toEqual({ kind: 'single', start: 2 ** 33, end: big - 1 });
  });
});

describe('ifRangeHolds', () => {
  const current = { etag: '"abc-1"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' };
  it.each([
    ['absent', undefined, true],
    ['same strong ETag', '"abc-1"', true],
    ['other ETag', '"abc-2"', false],
    ['weak form of the same ETag', 'W/"abc-1"', false],
    ['equal date', 'Wed, 21 Oct 2015 07:28:00 GMT', true],
    ['later date', 'Wed, 21 Oct 2015 07:28:01 GMT', false],
    ['not a date', 'yesterday-ish', false],
  ])('%s', (_name, value, expected) => {
    expect(ifRangeHolds(value, current)).toBe(expected);
  });

  it('never matches when the current ETag is weak', () => {
    expect(ifRangeHolds('W/"abc-1"', { ...current, etag: 'W/"abc-1"' })).toBe(false);
    expect(ifRangeHolds('"abc-1"', { ...current, etag: 'W/"abc-1"' })).toBe(false);
  });
});

describe('Content-Range values', () => {
  it('formats satisfied and unsatisfied ranges', () => {
    expect(contentRange(0, 99, 1000)).toBe('bytes 0-99/1000');
    expect(unsatisfiedRange(1000)).toBe('bytes */1000');
  });
});
