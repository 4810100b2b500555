import { Client } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/serve/index.js';
import { fetchBytes, startServer, type TestServer } from '../helpers/server.js';

const SIZE = 20_000;

describe('request log and per-request faults', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('records every request: order, connection, method, path, headers, range, status, bytes', async () => {
    t = await startServer(SIZE);
    const client = new Client(new URL(t.server.url).origin);
    try {
      await fetchBytes(t.server.url, { method: 'HEAD', dispatcher: client });
      await fetchBytes(t.server.url, { headers: { range: 'bytes=100-199', 'x-test': 'a' }, dispatcher: client });
      await fetchBytes(`${t.server.url}?q=1`, { headers: { range: 'bytes=-50' }, dispatcher: client });
    } finally {
      await client.close();
    }
    const [head, ranged, suffix] = t.server.requests;
    expect(head).toMatchObject({ index: 0, connection: 1, method: 'HEAD', path: '/data.bin', status: 200, bytesSent: 0 });
    expect(head?.range).toBeUndefined();
    // undici closes a connection after HEAD (interop with servers that send a body), so the
    // GETs share a second connection.
    expect(ranged).toMatchObject({
      index: 1,
      connection: 2,
      method: 'GET',
      range: { start: 100, end: 199 },
      status: 206,
      bytesSent: 100,
    });
    expect(ranged?.headers).toMatchObject({ range: 'bytes=100-199', 'x-test': 'a' });
    expect(suffix).toMatchObject({ connection: 2, path: '/data.bin?q=1', range: { start: SIZE - 50, end: SIZE - 1 }, bytesSent: 50 });
    expect(t.server.stats).toMatchObject({ bytesSent: 150, connections: 2, refused: 0 });
  });

  it('faultFor applies a plan to the requests it picks, merged over the server faults', async () => {
    const seen: RequestRecord[] = [];
    t = await startServer(SIZE, { contentDisposition: 'attachment' }, 'segdl', {
      faultFor: (req) => {
        seen.push({ ...req });
        return req.range?.start === 5000 ? { shiftContentRange: 1 } : undefined;
      },
    });
    const plain = await fetchBytes(t.server.url, { headers: { range: 'bytes=0-99' } });
    const picked = await fetchBytes(t.server.url, { headers: { range: 'bytes=5000-5099' } });
    expect(plain.headers['content-range']).toBe(`bytes 0-99/${SIZE}`);
    expect(picked.headers['content-range']).toBe(`bytes 5001-5100/${SIZE}`);
    expect(picked.headers['content-disposition']).toBe('attachment'); // the base faults still apply
    // The plan is chosen before anything is sent.
    expect(seen.map((r) => [r.range?.start, r.status, r.bytesSent])).toEqual([
      [0, 0, 0],
      [5000, 0, 0],
    ]);
  });

  it('a bad plan from faultFor becomes a 500, not a crash', async () => {
    t = await startServer(SIZE, {}, 'segdl', { faultFor: () => ({ rateBytesPerSec: -1 }) });
    expect((await fetchBytes(t.server.url)).status).toBe(500);
    expect(t.server.requests[0]?.status).toBe(500);
  });
});
