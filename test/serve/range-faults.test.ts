import { afterEach, describe, expect, it } from 'vitest';
import { dataRange } from '../../fixtures/data.js';
import { fetchBytes, startServer, type TestServer } from '../helpers/server.js';

const SIZE = 100_000;

describe('range faults', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('ignoreRanges: 200 with the full body, and no Accept-Ranges anywhere', async () => {
    t = await startServer(SIZE, { ignoreRanges: true });
    const head = await fetchBytes(t.server.url, { method: 'HEAD' });
    expect(head.headers['accept-ranges']).toBeUndefined();
    expect(head.headers['content-length']).toBe(String(SIZE));
    const res = await fetchBytes(t.server.url, { headers: { range: 'bytes=10-19' } });
    expect(res.status).toBe(200);
    expect(res.headers['accept-ranges']).toBeUndefined();
    expect(res.body.equals(dataRange('segdl', 0, SIZE))).toBe(true);
    expect(t.server.requests[1]?.range).toEqual({ start: 10, end: 19 });
  });

  it('ignoreRangesAfterZero: 206 from offset 0, 200 full body from any later offset', async () => {
    t = await startServer(SIZE, { ignoreRangesAfterZero: true });
    const first = await fetchBytes(t.server.url, { headers: { range: 'bytes=0-999' } });
    expect(first.status).toBe(206);
    const later = await fetchBytes(t.server.url, { headers: { range: 'bytes=50000-50999' } });
    expect(later.status).toBe(200);
    expect(later.headers['accept-ranges']).toBe('bytes'); // it still claims to support ranges
    expect(later.body.equals(dataRange('segdl', 0, SIZE))).toBe(true);
  });

  it('noLength: chunked, no Content-Length, no ranges', async () => {
    t = await startServer(SIZE, { noLength: true });
    const head = await fetchBytes(t.server.url, { method: 'HEAD' });
    expect(head.headers['content-length']).toBeUndefined();
    expect(head.headers['accept-ranges']).toBeUndefined();
    const res = await fetchBytes(t.server.url, { headers: { range: 'bytes=10-19' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.body.equals(dataRange('segdl', 0, SIZE))).toBe(true);
    expect(t.server.requests[1]?.bytesSent).toBe(SIZE);
  });

  it('shiftContentRange: the header lies, the body and length are the requested bytes', async () => {
    t = await startServer(SIZE, { shiftContentRange: 7 });
    const res = await fetchBytes(t.server.url, { headers: { range: 'bytes=1000-1999' } });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 1007-2006/${SIZE}`);
    expect(res.headers['content-length']).toBe('1000');
    expect(res.body.equals(dataRange('segdl', 1000, 1000))).toBe(true);
  });

  it('shiftBody: the header is right, the bytes come from elsewhere', async () => {
    t = await startServer(SIZE, { shiftBody: 3 });
    const res = await fetchBytes(t.server.url, { headers: { range: 'bytes=1000-1999' } });
    expect(res.headers['content-range']).toBe(`bytes 1000-1999/${SIZE}`);
    expect(res.body.length).toBe(1000);
    expect(res.body.equals(dataRange('segdl', 1003, 1000))).toBe(true);
    // Near EOF the shift is clamped so the framing stays exact.
    const tail = await fetchBytes(t.server.url, { headers: { range: 'bytes=-10' } });
    expect(tail.body.equals(dataRange('segdl', SIZE - 10, 10))).toBe(true);
  });

  it('changeEtagAfter: the validators change after N GETs (HEADs do not count); the body stays', async () => {
    t = await startServer(SIZE, { changeEtagAfter: 2 });
    const tags: string[] = [];
    const dates: string[] = [];
    for (const method of ['GET', 'HEAD', 'GET', 'GET', 'HEAD'] as const) {
      const res = await fetchBytes(t.server.url, { method, headers: { range: 'bytes=0-9' } });
      tags.push(String(res.headers['etag']));
      dates.push(String(res.headers['last-modified']));
    }
    expect(tags.slice(0, 3)).toEqual([tags[0], tags[0], tags[0]]);
    expect(tags[3]).not.toBe(tags[0]);
    expect(tags[4]).toBe(tags[3]);
    expect(dates[3]).not.toBe(dates[0]);
    // A resume with the old ETag is refused: full body, not a splice.
    const resumed = await fetchBytes(t.server.url, { headers: { range: 'bytes=10-19', 'if-range': tags[0]! } });
    expect(resumed.status).toBe(200);
    expect(resumed.body.equals(dataRange('segdl', 0, SIZE))).toBe(true);
  });

  it('contentDisposition is sent as given', async () => {
    t = await startServer(SIZE, { contentDisposition: 'attachment; filename="../../evil.sh"' });
    const res = await fetchBytes(t.server.url, { method: 'HEAD' });
    expect(res.headers['content-disposition']).toBe('attachment; filename="../../evil.sh"');
  });

  it('setFaults replaces the faults for later requests', async () => {
    t = await startServer(SIZE, { ignoreRanges: true });
    expect((await fetchBytes(t.server.url, { headers: { range: 'bytes=0-9' } })).status).toBe(200);
    t.server.setFaults({});
    expect((await fetchBytes(t.server.url, { headers: { range: 'bytes=0-9' } })).status).toBe(206);
    expect(() => t!.server.setFaults({ resetAfterBytes: -1 })).toThrow(/resetAfterBytes/);
  });
});
