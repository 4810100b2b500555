import { afterEach, describe, expect, it } from 'vitest';
import { dataRange } from '../../fixtures/data.js';
import { fetchBytes, startServer, type TestServer } from '../helpers/server.js';

const SIZE = 50_000;

describe('If-Range', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  async function validators(): Promise<{ etag: string; lastModified: string }> {
    const head = await fetchBytes(t!.server.url, { method: 'HEAD' });
    return { etag: String(head.headers['etag']), lastModified: String(head.headers['last-modified']) };
  }

  it('honours the Range when If-Range carries the current strong ETag or Last-Modified', async () => {
    t = await startServer(SIZE);
    const { etag, lastModified } = await validators();
    for (const ifRange of [etag, lastModified]) {
      const res = await fetchBytes(t.server.url, { headers: { range: 'bytes=100-199', 'if-range': ifRange } });
      expect(res.status).toBe(206);
      expect(res.body.equals(dataRange('segdl', 100, 100))).toBe(true);
    }
  });

  it('sends the whole file for another ETag, a weak ETag or another date', async () => {
    t = await startServer(SIZE);
    const { etag, lastModified } = await validators();
    const otherDate = new Date(Date.parse(lastModified) - 1000).toUTCString();
    for (const ifRange of ['"something-else"', `W/${etag}`, otherDate]) {
      const res = await fetchBytes(t.server.url, { headers: { range: 'bytes=100-199', 'if-range': ifRange } });
      expect(res.status).toBe(200);
      expect(res.headers['content-range']).toBeUndefined();
      expect(res.body.equals(dataRange('segdl', 0, SIZE))).toBe(true);
    }
  });

  it('with weakEtag the server sends W/ tags, and If-Range with one never yields a 206', async () => {
    t = await startServer(SIZE, { weakEtag: true });
    const { etag } = await validators();
    expect(etag).toMatch(/^W\/"[^"]+"$/);
    const res = await fetchBytes(t.server.url, { headers: { range: 'bytes=0-9', 'if-range': etag } });
    expect(res.status).toBe(200);
    const plain = await fetchBytes(t.server.url, { headers: { range: 'bytes=0-9' } });
    expect(plain.status).toBe(206);
  });

  it('a failed If-Range overrides an unsatisfiable Range (200, not 416)', async () => {
    t = await startServer(SIZE);
    const res = await fetchBytes(t.server.url, { headers: { range: `bytes=${SIZE}-`, 'if-range': '"stale"' } });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(SIZE);
  });
});
