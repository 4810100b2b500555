import { Client } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { dataRange } from '../../fixtures/data.js';
import { fetchBytes, startServer, type TestServer } from '../helpers/server.js';

// Timing is only ever checked as a lower bound: a slow machine can make a paced transfer
// slower, never faster, so these cannot flake; an unpaced server fails them.
const BURST_SECONDS = 0.05;
const minSeconds = (bytes: number, rate: number): number => (bytes - rate * BURST_SECONDS) / rate;

describe('paced sending', () => {
  let t: TestServer | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await t?.cleanup();
    t = undefined;
  });

  it('rateBytesPerSec delivers every byte, paced, with bytesSent exact', async () => {
    const size = 384 * 1024;
    const rate = 1024 * 1024;
    t = await startServer(size, { rateBytesPerSec: rate });
    const started = performance.now();
    const res = await fetchBytes(t.server.url);
    const seconds = (performance.now() - started) / 1000;
    expect(res.body.equals(dataRange('segdl', 0, size))).toBe(true);
    expect(t.server.requests[0]?.bytesSent).toBe(size);
    expect(t.server.stats.bytesSent).toBe(size);
    expect(seconds).toBeGreaterThanOrEqual(minSeconds(size, rate) * 0.9);
  });

  it('each connection has its own bucket: two connections each get the full rate', async () => {
    const size = 256 * 1024;
    const rate = 1024 * 1024;
    t = await startServer(size, { rateBytesPerSec: rate });
    const origin = new URL(t.server.url).origin;
    const [a, b] = [new Client(origin), new Client(origin)];
    clients.push(a, b);
    const results = await Promise.all([a, b].map((c) => fetchBytes(t!.server.url, { dispatcher: c })));
    for (const res of results) expect(res.body.length).toBe(size);
    expect(t.server.requests.map((r) => r.bytesSent)).toEqual([size, size]);
    expect(new Set(t.server.requests.map((r) => r.connection)).size).toBe(2);
  });

  it('slowConnections paces every n-th connection at the straggler rate', async () => {
    const size = 160 * 1024;
    const slowRate = 512 * 1024;
    t = await startServer(size, { slowConnections: { every: 2, rateBytesPerSec: slowRate } });
    const origin = new URL(t.server.url).origin;
    const [fast, slow] = [new Client(origin), new Client(origin)];
    clients.push(fast, slow);
    await fetchBytes(t.server.url, { method: 'HEAD', dispatcher: fast }); // connection 1
    const started = performance.now();
    const res = await fetchBytes(t.server.url, { dispatcher: slow }); // connection 2
    const seconds = (performance.now() - started) / 1000;
    expect(t.server.requests[1]?.connection).toBe(2);
    expect(res.body.equals(dataRange('segdl', 0, size))).toBe(true);
    expect(t.server.requests[1]?.bytesSent).toBe(size);
    expect(seconds).toBeGreaterThanOrEqual(minSeconds(size, slowRate) * 0.9);
  });

  it('a slowloris rate (a few bytes/s) still sends byte by byte', async () => {
    t = await startServer(1000, { rateBytesPerSec: 50 });
    const res = await fetchBytes(t.server.url, { headers: { range: 'bytes=0-4' } });
    expect(res.body.equals(dataRange('segdl', 0, 5))).toBe(true);
    expect(t.server.requests[0]?.bytesSent).toBe(5);
  });
});
