/**
 * The range server's protocol fault knobs put exactly the intended bytes on the wire, so the
 * catalogue tests that use them cannot pass because a fault silently failed to happen.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { dataRange } from '../../fixtures/data.js';
import { validateFaults, type FaultPlan } from '../../src/serve/faults.js';
import { rawExchange, SEED, useScratch } from './helpers.js';

const SIZE = 100_000;
const ctx = useScratch();

/** Status line + header lines, and the raw body bytes after the blank line. */
function split(wire: Buffer): { head: string[]; body: Buffer } {
  const end = wire.indexOf('\r\n\r\n');
  if (end < 0) return { head: wire.toString('latin1').split('\r\n'), body: Buffer.alloc(0) };
  return { head: wire.subarray(0, end).toString('latin1').split('\r\n'), body: wire.subarray(end + 4) };
}

function lines(head: string[], name: string): string[] {
  return head.filter((l) => l.toLowerCase().startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).trim());
}

async function exchange(plan: FaultPlan, range: string | undefined, method = 'GET') {
  const t = await ctx.serve(SIZE, plan);
  const request = `${method} /data.bin HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${range ? `range: ${range}\r\n` : ''}\r\n`;
  return split(await rawExchange(t.server.port, request));
}

describe('protocol fault knobs on the wire', () => {
  it('redirect with a list sends one Location line per entry', async () => {
    const { head } = await exchange({ redirect: ['/a', '/b'], redirectStatus: 307 }, undefined);
    expect(head[0]).toBe('HTTP/1.1 307 Temporary Redirect');
    expect(lines(head, 'location')).toEqual(['/a', '/b']);
  });

  it('utf8Location writes the Location as raw UTF-8 bytes, not percent-encoded', async () => {
    const { head, body } = await exchange({ redirect: '/\u0622/é', utf8Location: true, redirectStatus: 301 }, undefined);
    expect(head[0]).toBe('HTTP/1.1 301 Moved Permanently');
    expect(Buffer.from(lines(head, 'location')[0]!, 'latin1').toString('hex')).toBe('2fd8a22fc3a9'); // '/', U+0622, '/', é in UTF-8
    expect(lines(head, 'content-length')).toEqual([String(body.length)]);
  });

  it('status 416 reports reportedSize, and contentRange: false omits Content-Range', async () => {
    const a = await exchange({ status: 416, reportedSize: 5 }, 'bytes=0-9');
    expect(a.head[0]).toContain(' 416 ');
    expect(lines(a.head, 'content-range')).toEqual(['bytes */5']);
    const b = await exchange({ status: 416, contentRange: false }, 'bytes=0-9');
    expect(lines(b.head, 'content-range')).toEqual([]);
    const c = await exchange({ status: 429, retryAfter: '7' }, 'bytes=0-9');
    expect(c.head[0]).toContain(' 429 ');
    expect(lines(c.head, 'retry-after')).toEqual(['7']);
  });

  it('rangeEndDelta moves the 206 end, with matching headers and body', async () => {
    const more = await exchange({ rangeEndDelta: 50 }, 'bytes=100-199');
    expect(lines(more.head, 'content-range')).toEqual([`bytes 100-249/${SIZE}`]);
    expect(more.body.equals(dataRange(SEED, 100, 150))).toBe(true);
    const less = await exchange({ rangeEndDelta: -50, reportedSize: 7 }, 'bytes=100-199');
    expect(lines(less.head, 'content-range')).toEqual(['bytes 100-149/7']);
    expect(lines(less.head, 'content-length')).toEqual(['50']);
  });

  it('multipart wraps the range in a one-part multipart/byteranges body', async () => {
    const { head, body } = await exchange({ multipart: true }, 'bytes=10-19');
    expect(lines(head, 'content-type')[0]).toMatch(/^multipart\/byteranges; boundary=/);
    expect(lines(head, 'content-range')).toEqual([]);
    expect(Number(lines(head, 'content-length')[0])).toBe(body.length);
    expect(body.toString('latin1')).toContain(`content-range: bytes 10-19/${SIZE}`);
    expect(body.includes(dataRange(SEED, 10, 10))).toBe(true);
  });

  it('contentEncoding sends the header; gzipBody compresses the range', async () => {
    const { head, body } = await exchange({ contentEncoding: 'gzip', gzipBody: true }, 'bytes=0-999');
    expect(lines(head, 'content-encoding')).toEqual(['gzip']);
    expect(gunzipSync(body).equals(dataRange(SEED, 0, 1000))).toBe(true);
  });

  it('extraBytes follow the announced body; closeBeforeEnd omits the zero chunk', async () => {
    const a = await exchange({ extraBytes: 5 }, 'bytes=0-9');
    expect(lines(a.head, 'content-length')).toEqual(['10']);
    expect(a.body.equals(Buffer.concat([dataRange(SEED, 0, 10), Buffer.alloc(5, 0xee)]))).toBe(true);
    const b = await exchange({ framing: 'chunked', closeBeforeEnd: true }, 'bytes=0-9');
    expect(lines(b.head, 'transfer-encoding')).toEqual(['chunked']);
    expect(b.body.toString('latin1')).not.toContain('0\r\n\r\n');
  });

  it.each([
    ['close', { framing: 'close' }, [], []],
    ['chunked+length', { framing: 'chunked+length' }, ['10'], ['chunked']],
    ['duplicated Content-Length', { contentLength: ['10', '11'] }, ['10', '11'], []],
  ] as const)('raw framing %s', async (_name, plan, length, te) => {
    const { head, body } = await exchange(plan as FaultPlan, 'bytes=0-9');
    expect(head[0]).toBe('HTTP/1.1 206 Partial Content');
    expect(lines(head, 'content-length')).toEqual(length);
    expect(lines(head, 'transfer-encoding')).toEqual(te);
    expect(lines(head, 'connection')).toEqual(['close']);
    // Chunked framing splits the 10 bytes in two chunks.
    expect(body.includes(dataRange(SEED, 0, 5))).toBe(true);
  });

  it.each([
    ['bad-size', 'zz\r\n'],
    ['overflow', 'fffffffffffffffffff\r\n'],
  ] as const)('chunkFault %s corrupts the size line after good data', async (fault, line) => {
    const { head, body } = await exchange({ chunkFault: fault }, 'bytes=0-999');
    expect(lines(head, 'transfer-encoding')).toEqual(['chunked']);
    expect(lines(head, 'content-length')).toEqual([]);
    const text = body.toString('latin1');
    expect(text.startsWith('1f4\r\n')).toBe(true);
    expect(text.indexOf(line)).toBe(5 + 500 + 2);
  });

  it('truncateHeaders cuts the header block', async () => {
    const a = await exchange({ truncateHeaders: 'after-headers' }, 'bytes=0-9');
    expect(lines(a.head, 'content-length')).toEqual(['10']);
    expect(a.body.length).toBe(0);
    const t = await ctx.serve(SIZE, { truncateHeaders: 'no-final-crlf' });
    const wire = await rawExchange(t.server.port, 'GET /data.bin HTTP/1.1\r\nhost: x\r\n\r\n');
    const text = wire.toString('latin1');
    expect(text.startsWith('HTTP/1.1 206 ') || text.startsWith('HTTP/1.1 200 ')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text).not.toContain('\r\n\r\n');
  });

  it('resetConnection answers nothing', async () => {
    const t = await ctx.serve(SIZE, { resetConnection: true });
    const wire = await rawExchange(t.server.port, 'GET /data.bin HTTP/1.1\r\nhost: x\r\n\r\n').catch((e: NodeJS.ErrnoException) => e.code);
    expect(wire === 'ECONNRESET' || (Buffer.isBuffer(wire) && wire.length === 0)).toBe(true);
  });

  it.each<[FaultPlan, RegExp]>([
    [{ redirect: 'a\r\nb' }, /`redirect`/],
    [{ redirect: [] }, /`redirect`/],
    [{ redirectStatus: 200 as 302 }, /`redirectStatus`/],
    [{ utf8Location: 'yes' as unknown as boolean }, /`utf8Location`/],
    [{ status: 99 }, /`status`/],
    [{ contentRange: true as unknown as string }, /`contentRange`/],
    [{ framing: 'gzip' as 'close' }, /`framing`/],
    [{ chunkFault: 'x' as 'overflow' }, /`chunkFault`/],
    [{ contentLength: ['1', 2 as unknown as string] }, /`contentLength`/],
    [{ extraBytes: -1 }, /`extraBytes`/],
    [{ truncateHeaders: 'all' as 'after-headers' }, /`truncateHeaders`/],
  ])('validation rejects %j', (plan, message) => {
    expect(() => validateFaults(plan)).toThrow(message);
  });
});
