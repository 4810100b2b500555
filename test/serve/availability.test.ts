import { connect } from 'node:net';
import { Client } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchBytes, startServer, type TestServer } from '../helpers/server.js';

const SIZE = 10_000;

describe('availability faults', () => {
  let t: TestServer | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.destroy()));
    await t?.cleanup();
    t = undefined;
  });

  function client(): Client {
    const c = new Client(new URL(t!.server.url).origin);
    clients.push(c);
    return c;
  }

  it('unavailable: the first N GETs get 503 + Retry-After, HEAD is unaffected', async () => {
    t = await startServer(SIZE, { unavailable: { count: 2, retryAfter: '7' } });
    expect((await fetchBytes(t.server.url, { method: 'HEAD' })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetchBytes(t.server.url, { headers: { range: 'bytes=0-9' } });
      statuses.push(res.status);
      if (res.status === 503) expect(res.headers['retry-after']).toBe('7');
    }
    expect(statuses).toEqual([503, 503, 206]);
    expect(t.server.requests.map((r) => r.status)).toEqual([200, 503, 503, 206]);
  });

  it('unavailable with includeHead also refuses HEAD; Retry-After defaults to 1', async () => {
    t = await startServer(SIZE, { unavailable: { count: 1, includeHead: true } });
    const head = await fetchBytes(t.server.url, { method: 'HEAD' });
    expect(head.status).toBe(503);
    expect(head.headers['retry-after']).toBe('1');
    expect((await fetchBytes(t.server.url)).status).toBe(200);
  });

  it('setFaults restarts the unavailable count', async () => {
    t = await startServer(SIZE, { unavailable: { count: 1 } });
    expect((await fetchBytes(t.server.url)).status).toBe(503);
    expect((await fetchBytes(t.server.url)).status).toBe(200);
    t.server.setFaults({ unavailable: { count: 1 } });
    expect((await fetchBytes(t.server.url)).status).toBe(503);
  });

  it('maxConnections: connections beyond the limit get 503 + Retry-After: 1 and are closed', async () => {
    t = await startServer(SIZE, { maxConnections: 2 });
    const [a, b, c] = [client(), client(), client()];
    expect((await fetchBytes(t.server.url, { dispatcher: a })).status).toBe(200);
    expect((await fetchBytes(t.server.url, { dispatcher: b })).status).toBe(200);
    const refused = await fetchBytes(t.server.url, { dispatcher: c });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['connection']).toBe('close');
    expect(t.server.stats).toMatchObject({ connections: 3, maxConcurrentConnections: 3, refused: 1 });
    // Once an older connection goes away, a new one fits under the limit.
    await a.close();
    await vi.waitFor(async () => expect((await fetchBytes(t!.server.url, { dispatcher: c })).status).toBe(200));
  });

  it('maxConnections keeps admitting the oldest connections when a newer one arrives', async () => {
    t = await startServer(SIZE, { maxConnections: 1 });
    const a = client();
    expect((await fetchBytes(t.server.url, { dispatcher: a })).status).toBe(200);
    // A second connection that sends nothing yet: it is the one over the limit, not `a`.
    const idle = connect(t.server.port, '127.0.0.1');
    try {
      await vi.waitFor(() => expect(t!.server.stats.connections).toBe(2));
      expect((await fetchBytes(t.server.url, { dispatcher: a })).status).toBe(200);
      expect(t.server.stats.refused).toBe(0);
    } finally {
      idle.destroy();
    }
  });

  it("maxConnections in 'reset' mode resets the extra connection without a response", async () => {
    t = await startServer(SIZE, { maxConnections: 1, maxConnectionsMode: 'reset' });
    const [a, b] = [client(), client()];
    expect((await fetchBytes(t.server.url, { dispatcher: a })).status).toBe(200);
    await expect(fetchBytes(t.server.url, { dispatcher: b })).rejects.toThrow();
    expect(t.server.stats.refused).toBe(1);
    expect(t.server.requests[1]).toMatchObject({ connection: 2, status: 0 });
  });

  it('firstByteLatencyMs delays the response headers', async () => {
    const latency = 150;
    t = await startServer(SIZE, { firstByteLatencyMs: latency });
    const started = performance.now();
    const res = await fetchBytes(t.server.url, { headers: { range: 'bytes=0-9' } });
    // A lower bound only: a loaded machine can make this slower, never faster.
    expect(performance.now() - started).toBeGreaterThanOrEqual(latency - 10);
    expect(res.status).toBe(206);
  });
});
