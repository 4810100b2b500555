import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dataRange } from '../../fixtures/data.js';
import { startServer, type TestServer } from '../helpers/server.js';

const SIZE = 4 * 1024 * 1024;

/** Reads the body until `limit` bytes (then stops reading) or its end/error. */
async function readUpTo(body: AsyncIterable<Buffer>, limit: number): Promise<{ bytes: Buffer; error?: unknown }> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= limit) break; // leaving the loop destroys the body: an abort
    }
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
  return { bytes: Buffer.concat(chunks) };
}

describe('byte-count faults', { timeout: 15_000 }, () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('resetAfterBytes: the client gets exactly N bytes then an error; bytesSent is N', async () => {
    const n = 1_500_000; // not a multiple of the 1 MiB read size
    t = await startServer(SIZE, { resetAfterBytes: n });
    const res = await request(t.server.url, { headers: { range: 'bytes=1000-' } });
    expect(res.statusCode).toBe(206);
    const { bytes, error } = await readUpTo(res.body, Infinity);
    expect(error).toBeDefined();
    expect(bytes.length).toBe(n);
    expect(bytes.equals(dataRange('segdl', 1000, n))).toBe(true);
    await vi.waitFor(() => expect(t!.server.requests[0]?.bytesSent).toBe(n));
    expect(t.server.stats.bytesSent).toBe(n);
  });

  it('resetAfterBytes does not touch responses shorter than N', async () => {
    t = await startServer(SIZE, { resetAfterBytes: 1000 });
    const res = await request(t.server.url, { headers: { range: 'bytes=0-999' } });
    expect(Buffer.from(await res.body.arrayBuffer()).length).toBe(1000);
  });

  it('resetAfterBytes: 0 cuts right after the headers', async () => {
    t = await startServer(SIZE, { resetAfterBytes: 0 });
    const res = await request(t.server.url);
    expect(res.statusCode).toBe(200);
    const { bytes, error } = await readUpTo(res.body, Infinity);
    expect(error).toBeDefined();
    expect(bytes.length).toBe(0);
  });

  it('stallAfterBytes: exactly N bytes arrive, the socket stays open, bytesSent is N', async () => {
    const n = 100_000;
    t = await startServer(SIZE, { stallAfterBytes: n });
    const res = await request(t.server.url, { headers: { range: 'bytes=0-' } });
    const { bytes, error } = await readUpTo(res.body, n);
    expect(error).toBeUndefined();
    expect(bytes.length).toBe(n);
    expect(bytes.equals(dataRange('segdl', 0, n))).toBe(true);
    const record = t.server.requests[0]!;
    await vi.waitFor(() => expect(record.bytesSent).toBe(n));
    expect(record.status).toBe(206);
  });

  it('stallAfterBytes: 0 sends the headers and nothing else', async () => {
    t = await startServer(SIZE, { stallAfterBytes: 0 });
    const res = await request(t.server.url);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(t.server.requests[0]?.bytesSent).toBe(0);
    res.body.destroy();
  });

  it('close() ends a stalled response and resolves', async () => {
    t = await startServer(SIZE, { stallAfterBytes: 10 });
    const res = await request(t.server.url);
    const reading = readUpTo(res.body, Infinity);
    await vi.waitFor(() => expect(t!.server.requests[0]?.bytesSent).toBe(10));
    await t.server.close();
    const { bytes, error } = await reading;
    expect(bytes.length).toBe(10);
    expect(error).toBeDefined();
  });
});
