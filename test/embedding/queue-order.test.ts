import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { Download, DownloadQueue, type ItemState } from '../../src/index.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-queue-order-');
const MiB = 1024 * 1024;

/** Resolves when item `id` reaches `state` (it may already have). */
function stateOf(queue: DownloadQueue, item: { id: number; state: ItemState }, state: ItemState): Promise<void> {
  if (item.state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (e: { id: number; state: ItemState }) => {
      if (e.id === item.id && e.state === state) {
        queue.off('state', on);
        resolve();
      }
    };
    queue.on('state', on);
  });
}

describe('DownloadQueue: how many run at once, and in which order', () => {
  it('maxRunning keeps the others waiting in order; raising it starts the next at once', async () => {
    const server = await scratch.server(2 * MiB, { rateBytesPerSec: 1 * MiB });
    const queue = new DownloadQueue({ maxRunning: 1 });
    const started: number[] = [];
    queue.on('state', (e) => e.state === 'running' && started.push(e.id));
    const a = queue.add(server.server.url, { output: join(scratch.dir, 'a') });
    const b = queue.add(server.server.url, { output: join(scratch.dir, 'b') });
    const c = queue.add(server.server.url, { output: join(scratch.dir, 'c') });
    await stateOf(queue, a, 'running');
    expect([b.state, c.state]).toEqual(['queued', 'queued']);
    expect(queue.waiting()).toEqual([b.id, c.id]);
    // c goes first among the waiting ones.
    expect(queue.move(c.id, 0)).toBe(0);
    expect(queue.waiting()).toEqual([c.id, b.id]);
    queue.maxRunning = 2;
    await stateOf(queue, c, 'running');
    expect(b.state).toBe('queued');
    await Promise.all([a, b, c]);
    expect(started).toEqual([a.id, c.id, b.id]);
    for (const name of ['a', 'b', 'c']) expect(await sha256File(join(scratch.dir, name))).toBe(server.sha256);
    await queue.close();
  });

  it('an item added paused waits for resume(); move() clamps and refuses running items; forget() drops settled ones', async () => {
    const server = await scratch.server(MiB);
    const queue = new DownloadQueue();
    const p = queue.add(server.server.url, { output: join(scratch.dir, 'p'), paused: true });
    const q = queue.add(server.server.url, { output: join(scratch.dir, 'q'), paused: true });
    await new Promise((r) => setImmediate(r));
    expect(p.state).toBe('paused');
    expect(queue.move(p.id, 99)).toBe(1);
    expect(queue.waiting()).toEqual([q.id, p.id]);
    p.resume();
    await stateOf(queue, p, 'running');
    expect(() => queue.move(p.id, 0)).toThrow(/not waiting/);
    await p;
    expect(queue.forget(q.id)).toBe(false); // still waiting
    expect(queue.forget(p.id)).toBe(true);
    expect(queue.waiting()).toEqual([q.id]);
    q.cancel();
    await expect(q).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await queue.close();
  });

  it('a queued download gets a new speed cap and connection count before it starts, and keeps them', async () => {
    const server = await scratch.server(4 * MiB);
    const queue = new DownloadQueue();
    const item = queue.add(server.server.url, { output: join(scratch.dir, 'f'), paused: true, maxSpeed: 1024 });
    item.maxSpeed = 0; // no limit
    item.connections = 2;
    expect(item.maxSpeed).toBe(Number.POSITIVE_INFINITY);
    expect(() => (item.connections = 0)).toThrow(/connections/);
    const starts: number[] = [];
    queue.on('start', (e) => starts.push(e.info.connections));
    item.resume();
    await item;
    expect(starts).toEqual([2]);
    await queue.close();
  });
});

describe('Download.connections (live)', () => {
  it('raising it mid-download opens more connections to the server (it counts them), and the file is exact', async () => {
    const server = await scratch.server(8 * MiB, { rateBytesPerSec: 2 * MiB });
    const dl = new Download(server.server.url, { output: join(scratch.dir, 'f'), connections: 1, minSplitSize: 256 * 1024, progressIntervalMs: 20 });
    const running = dl.start();
    const [first] = (await once(dl, 'progress')) as [{ transferredBytes: number }];
    expect(first).toBeDefined();
    expect(server.server.stats.maxConcurrentConnections).toBe(1);
    dl.connections = 4;
    expect(dl.connections).toBe(4);
    const result = await running;
    expect(server.server.stats.maxConcurrentConnections).toBeGreaterThanOrEqual(2);
    expect(result.connectionsUsed).toBeGreaterThanOrEqual(2);
    expect(await sha256File(join(scratch.dir, 'f'))).toBe(server.sha256);
    expect(() => (dl.connections = 65)).toThrow(/connections/);
  });

  it('`directory` holds the server-named output', async () => {
    const server = await scratch.server(MiB);
    const result = await new Download(server.server.url, { directory: scratch.dir }).start();
    expect(result.path).toBe(join(scratch.dir, 'data.bin'));
  });
});
