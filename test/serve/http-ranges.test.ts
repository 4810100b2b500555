import { Client, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataRange, writeDataFile } from '../../fixtures/data.js';
import { fetchBytes, startServer, type TestServer } from '../helpers/server.js';

const SIZE = 300_000;
const SEED = 'http-ranges';

describe('RFC 9110 range requests', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startServer(SIZE, {}, SEED);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('HEAD advertises length, ranges and strong validators without a body', async () => {
    expect(t.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/data\.bin$/);
    const res = await fetchBytes(t.server.url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['etag']).toMatch(/^"[^"]+"$/);
    expect(Date.parse(String(res.headers['last-modified']))).not.toBeNaN();
    expect(res.body.length).toBe(0);
  });

  it('GET without Range returns the whole file', async () => {
    const res = await fetchBytes(t.server.url);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(res.body.equals(dataRange(SEED, 0, SIZE))).toBe(true);
  });

  it.each([
    ['bytes=1000-1999', 1000, 1999],
    ['bytes=0-0', 0, 0],
    ['bytes=299000-', 299_000, SIZE - 1],
    ['bytes=-4096', SIZE - 4096, SIZE - 1],
    ['bytes=123456-999999999', 123_456, SIZE - 1],
  ])('%s → 206 with exact Content-Range, Content-Length and bytes', async (range, start, end) => {
    const res = await fetchBytes(t.server.url, { headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(res.headers['content-length']).toBe(String(end - start + 1));
    expect(res.body.equals(dataRange(SEED, start, end - start + 1))).toBe(true);
  });

  it('an unsatisfiable range gets 416 with Content-Range: bytes */size', async () => {
    const res = await fetchBytes(t.server.url, { headers: { range: `bytes=${SIZE}-` } });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${SIZE}`);
    expect(res.body.length).toBe(0);
  });

  it('multiple ranges and unparsable ranges get the full body with 200', async () => {
    for (const range of ['bytes=0-9,100-109', 'bytes=9-0', 'lines=1-2']) {
      const res = await fetchBytes(t.server.url, { headers: { range } });
      expect(res.status).toBe(200);
      expect(res.headers['content-range']).toBeUndefined();
      expect(res.body.length).toBe(SIZE);
    }
  });

  it('HEAD ignores Range (range handling is defined for GET only)', async () => {
    const res = await fetchBytes(t.server.url, { method: 'HEAD', headers: { range: 'bytes=0-9' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
  });

  it('never compresses, whatever Accept-Encoding says', async () => {
    const res = await fetchBytes(t.server.url, { headers: { 'accept-encoding': 'gzip, br', range: 'bytes=0-99' } });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.equals(dataRange(SEED, 0, 100))).toBe(true);
  });

  it('answers 404 for other names and 405 (with Allow) for other methods', async () => {
    expect((await fetchBytes(t.server.urlFor('nope.bin'))).status).toBe(404);
    const res = await request(t.server.url, { method: 'DELETE' });
    await res.body.dump();
    expect(res.statusCode).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD');
  });

  it('keeps the connection alive across requests', async () => {
    const client = new Client(new URL(t.server.url).origin);
    try {
      for (const range of ['bytes=0-9', 'bytes=10-19', 'bytes=20-29']) {
        const res = await fetchBytes(t.server.url, { headers: { range }, dispatcher: client });
        expect(res.status).toBe(206);
      }
    } finally {
      await client.close();
    }
    expect(t.server.requests.map((r) => r.connection)).toEqual([1, 1, 1]);
    expect(t.server.stats.connections).toBe(1);
  });

  it('serves the file as it is now: a rewrite changes the ETag', async () => {
    const before = await fetchBytes(t.server.url, { method: 'HEAD' });
    await writeDataFile(t.file, SIZE + 1, SEED);
    const after = await fetchBytes(t.server.url, { method: 'HEAD' });
    expect(after.headers['content-length']).toBe(String(SIZE + 1));
    expect(after.headers['etag']).not.toBe(before.headers['etag']);
  });
});
