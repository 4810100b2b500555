/** Issue 10, item 7a: a Location header's bytes, as undici hands them over (one Latin-1 character per byte). */
import { describe, expect, it } from 'vitest';
import { locationText } from '../../src/http/location.js';

/** What undici gives for a header whose raw bytes are the UTF-8 encoding of `text`. */
const asHeader = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('locationText', () => {
  it('decodes raw UTF-8 bytes, and the URL parser percent-encodes them as UTF-8 (curl test 1138)', () => {
    const header = asHeader('/\u0622\u0626\u0626.bin?q=\u00f6');
    expect(header).toBe('/\u00d8\u00a2\u00d8\u00a6\u00d8\u00a6.bin?q=\u00c3\u00b6'); // what undici hands over
    expect(locationText(header)).toBe('/\u0622\u0626\u0626.bin?q=\u00f6');
    expect(new URL(locationText(header), 'http://h/').href).toBe('http://h/%D8%A2%D8%A6%D8%A6.bin?q=%C3%B6');
  });

  it('percent-encodes bytes that are not UTF-8 one by one, so the server gets back what it sent', () => {
    const header = '/caf\u00e9.bin'; // one byte 0xE9: Latin-1, not UTF-8
    expect(locationText(header)).toBe('/caf%E9.bin');
    expect(new URL(locationText(header), 'http://h/').pathname).toBe('/caf%E9.bin');
  });

  it.each([
    ['plain ASCII', '/a/b.bin?x=1'],
    ['already percent-encoded', '/%D8%A2.bin'],
    ['characters above U+00FF (never a byte string)', '/\u0622.bin'],
  ])('%s is left as it is', (_what, value) => {
    expect(locationText(value)).toBe(value);
  });

  it('an IDN host sent as raw UTF-8 becomes its punycode form', () => {
    expect(new URL(locationText(asHeader('http://b\u00fccher.example/x'))).host).toBe('xn--bcher-kva.example');
  });
});
