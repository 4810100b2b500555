import { describe, expect, it } from 'vitest';
import { parseContentLength, parseContentRange, rangeHeader } from '../../src/http/content-range.js';

describe('parseContentRange', () => {
  it.each([
    ['a satisfied range', 'bytes 0-499/1234', { kind: 'range', start: 0, end: 499, total: 1234 }],
    ['one byte', 'bytes 0-0/1', { kind: 'range', start: 0, end: 0, total: 1 }],
    ['last byte of the file', 'bytes 1233-1233/1234', { kind: 'range', start: 1233, end: 1233, total: 1234 }],
    ['unknown total', 'bytes 500-999/*', { kind: 'range', start: 500, end: 999, total: undefined }],
    ['unit is case-insensitive', 'BYTES 0-9/10', { kind: 'range', start: 0, end: 9, total: 10 }],
    ['tab after the unit', 'bytes\t1-2/3', { kind: 'range', start: 1, end: 2, total: 3 }],
    ['surrounding whitespace', '  bytes 1-2/3 ', { kind: 'range', start: 1, end: 2, total: 3 }],
    ['largest safe total', 'bytes 0-1/9007199254740991', { kind: 'range', start: 0, end: 1, total: 2 ** 53 - 1 }],
    ['unsatisfied', 'bytes */1234', { kind: 'unsatisfied', total: 1234 }],
    ['unsatisfied, empty file', 'bytes */0', { kind: 'unsatisfied', total: 0 }],
    ['unsatisfied, case-insensitive', 'Bytes */5', { kind: 'unsatisfied', total: 5 }],
  ])('%s: %j', (_name, value, expected) => {
    expect(parseContentRange(value)).toEqual(expected);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['garbage', 'garbage'],
    ['unit "items"', 'items 0-1/2'],
    ['no unit', '0-1/2'],
    ['Range syntax instead of Content-Range', 'bytes=0-1/2'],
    ['no total', 'bytes 0-1'],
    ['last < first', 'bytes 5-4/10'],
    ['total == last', 'bytes 0-9/9'],
    ['total < last', 'bytes 0-9/5'],
    ['total 0 with a range', 'bytes 0-0/0'],
    ['negative first', 'bytes -1-9/10'],
    ['negative last', 'bytes 0--9/10'],
    ['spaces around the dash', 'bytes 0 - 9/10'],
    ['no space after the unit', 'bytes0-9/10'],
    ['fraction', 'bytes 1.5-2/3'],
    ['trailing junk', 'bytes 0-9/10x'],
    ['two ranges', 'bytes 0-1/10, bytes 2-3/10'],
    ['unsatisfied with unknown total', 'bytes */*'],
    ['unsatisfied with junk', 'bytes */12a'],
    ['total 2^53 (not exact in a double)', 'bytes 0-1/9007199254740992'],
    ['last beyond 2^53', 'bytes 0-9007199254740993/9007199254740994'],
    ['first beyond 2^53', 'bytes 9007199254740993-9007199254740994/*'],
    ['huge total', 'bytes 0-1/99999999999999999999999'],
    ['huge unsatisfied total', 'bytes */99999999999999999999999'],
  ])('rejects %s: %j', (_name, value) => {
    expect(parseContentRange(value)).toBeUndefined();
  });
});

describe('parseContentLength', () => {
  it.each<[string, string | string[] | undefined, number | undefined]>([
    ['absent', undefined, undefined],
    ['zero', '0', 0],
    ['plain', '1234', 1234],
    ['surrounding whitespace', ' 42 ', 42],
    ['leading zeros', '007', 7],
    ['largest safe integer', '9007199254740991', 2 ** 53 - 1],
    ['equal duplicates as an array', ['5', '5'], 5],
    ['equal duplicates as a comma list', '5, 5', 5],
    ['equal duplicates mixed', ['5', '5,5'], 5],
  ])('%s: %j → %s', (_name, value, expected) => {
    expect(parseContentLength(value)).toBe(expected);
  });

  it.each<[string, string | string[]]>([
    ['conflicting duplicates (array)', ['5', '6']],
    ['conflicting duplicates (comma list)', '5, 6'],
    ['empty list element', '5,,5'],
    ['negative', '-1'],
    ['plus sign', '+1'],
    ['exponent', '1e3'],
    ['hex', '0x10'],
    ['decimal point', '1.0'],
    ['non-numeric', 'abc'],
    ['number then junk', '12abc'],
    ['empty', ''],
    ['empty array', []],
    ['2^53 (beyond safe integers)', '9007199254740992'],
    ['10^23', '99999999999999999999999'],
    ['10 TB is fine but 2^64 is not', '18446744073709551616'],
  ])('%s: %j → NaN', (_name, value) => {
    expect(parseContentLength(value)).toBeNaN();
  });

  it('10 TB parses exactly (the size cap is the caller’s job)', () => {
    expect(parseContentLength('10000000000000')).toBe(10_000_000_000_000);
  });
});

describe('rangeHeader', () => {
  it.each([
    [0, 0, 'bytes=0-0'],
    [0, 499, 'bytes=0-499'],
    [500, 999, 'bytes=500-999'],
    [2 ** 40, 2 ** 41 - 1, 'bytes=1099511627776-2199023255551'],
    [0, 2 ** 53 - 1, 'bytes=0-9007199254740991'],
  ])('(%i, %i) → %s', (start, last, expected) => {
    expect(rangeHeader(start, last)).toBe(expected);
  });

  it('round-trips with a matching Content-Range', () => {
    const header = rangeHeader(100, 199);
    const [, first, last] = /^bytes=(\d+)-(\d+)$/.exec(header)!;
    expect(parseContentRange(`bytes ${first}-${last}/1000`)).toEqual({ kind: 'range', start: 100, end: 199, total: 1000 });
  });
});
