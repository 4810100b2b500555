import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { serve } from '../../src/serve/index.js';
import { sha256File } from '../../fixtures/data.js';
import { fetchBytes, startServer, type TestServer } from '../helpers/server.js';

const FD_DIR = existsSync('/proc/self/fd') ? '/proc/self/fd' : '/dev/fd';
const openFds = (): number => readdirSync(FD_DIR).length;

describe('server lifecycle', () => {
  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('startServer serves the generated file and cleanup removes everything', async () => {
    t = await startServer(123_457, {}, 'lifecycle');
    expect(await sha256File(t.file)).toBe(t.sha256);
    const res = await fetchBytes(t.server.url);
    expect(createHash('sha256').update(res.body).digest('hex')).toBe(t.sha256);
    const dir = t.dir;
    await t.cleanup();
    t = undefined;
    expect(existsSync(dir)).toBe(false);
  });

  it('a client abort stops the transfer and releases the file and socket', async () => {
    t = await startServer(8 * 1024 * 1024, { rateBytesPerSec: 1024 * 1024 });
    const client = new Client(new URL(t.server.url).origin);
    const before = openFds();
    const res = await client.request({ method: 'GET', path: '/data.bin' });
    for await (const _chunk of res.body) break; // first bytes, then abort
    await client.destroy();
    const record = t.server.requests[0]!;
    await vi.waitFor(() => expect(openFds()).toBeLessThanOrEqual(before));
    const sentAtAbort = record.bytesSent;
    expect(sentAtAbort).toBeLessThan(8 * 1024 * 1024);
    // Nothing more is sent once the handler has noticed.
    await t.server.close();
    expect(record.bytesSent).toBe(sentAtAbort);
  });

  it('close() destroys idle keep-alive and in-flight connections and is idempotent', async () => {
    t = await startServer(8 * 1024 * 1024, { rateBytesPerSec: 256 * 1024 });
    await fetchBytes(t.server.url, { method: 'HEAD' }); // leaves an idle keep-alive socket
    const res = await request(t.server.url);
    const outcome = res.body.arrayBuffer().then(
      () => 'complete',
      () => 'cut',
    );
    await Promise.all([t.server.close(), t.server.close()]);
    expect(await outcome).toBe('cut');
    await expect(fetchBytes(t.server.url)).rejects.toThrow();
  });

  it('rejects a root that does not exist, and bad faults, before listening', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'segdl-life-'));
    try {
      await expect(serve({ root: join(dir, 'missing') })).rejects.toThrow(/ENOENT/);
      await writeFile(join(dir, 'f'), 'x');
      await expect(serve({ root: join(dir, 'f'), faults: { maxConnections: 0 } })).rejects.toThrow(/maxConnections/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('listens on the requested host and reports port and urls', async () => {
    t = await startServer(10);
    const { port } = t.server;
    expect(t.server.url).toBe(`http://127.0.0.1:${port}/data.bin`);
    expect(t.server.urlFor('a b#?.bin')).toBe(`http://127.0.0.1:${port}/a%20b%23%3F.bin`);
  });
});
