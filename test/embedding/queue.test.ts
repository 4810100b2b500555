import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File, writeDataFile } from '../../fixtures/data.js';
import { ConnectionBudget } from '../../src/schedule/connection-budget.js';
import { DownloadError, DownloadQueue, serve, type RangeServer } from '../../src/index.js';

const MiB = 1024 * 1024;
let dir: string;
const servers: RangeServer[] = [];
const hashes = new Map<string, string>();
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'segdl-queue-'));
  for (const [name, size] of [['a.bin', 3 * MiB], ['b.bin', 2 * MiB + 1], ['c.bin', 1 * MiB], ['d.bin', 4 * MiB]] as const) {
    hashes.set(name, await writeDataFile(join(dir, name), size, name));
  }
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

/**
 * Counts the sockets undici has open to each port at once, from its own diagnostics channel: in
 * the client, where they are (a server still sees a socket the client closed a moment ago).
 */
function countSockets(): { peak(port: number): number; stop(): void } {
  const open = new Map<string, number>();
  const peaks = new Map<string, number>();
  const onConnected = (message: unknown) => {
    const { connectParams, socket } = message as { connectParams: { port: string | number }; socket: Socket };
    const port = String(connectParams.port);
    open.set(port, (open.get(port) ?? 0) + 1);
    peaks.set(port, Math.max(peaks.get(port) ?? 0, open.get(port)!));
    socket.once('close', () => open.set(port, open.get(port)! - 1));
  };
  diagnostics.subscribe('undici:client:connected', onConnected);
  return { peak: (port) => peaks.get(String(port)) ?? 0, stop: () => diagnostics.unsubscribe('undici:client:connected', onConnected) };
}

async function start(faults = {}): Promise<RangeServer> {
  const server = await serve({ root: dir, faults });
  servers.push(server);
  return server;
}

describe('connection budget', () => {
  it('grants by priority, then in order, within the global and per-host caps', async () => {
    const budget = new ConnectionBudget(2, 1);
    const a1 = await budget.acquire('a', 0);
    const b1 = await budget.acquire('b', 0);
    const order: string[] = [];
    const waits = [
      budget.acquire('a', 0).then((r) => (order.push('a-low'), r)),
      budget.acquire('b', 5).then((r) => (order.push('b-high'), r)),
      budget.acquire('a', 5).then((r) => (order.push('a-high'), r)),
    ];
    expect(budget.inUse).toBe(2);
    a1(); // a slot on host a frees: the high-priority waiter for a gets it
    await waits[2];
    expect(order).toEqual(['a-high']);
    b1();
    await waits[1];
    expect(order).toEqual(['a-high', 'b-high']);
    expect(budget.inUseFor('a')).toBe(1);
    (await waits[2]!)();
    await waits[0];
    expect(order).toEqual(['a-high', 'b-high', 'a-low']);
  });

  it('an aborted wait leaves the queue', async () => {
    const budget = new ConnectionBudget(1, 1);
    const held = await budget.acquire('h', 0);
    const controller = new AbortController();
    const waiting = budget.acquire('h', 0, controller.signal);
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    held();
    expect(budget.inUse).toBe(0);
  });
});

describe('DownloadQueue', () => {
  it('runs many downloads under the per-host and global caps (the client counts its open sockets per host)', async () => {
    const one = await start({ rateBytesPerSec: 4 * MiB });
    const two = await start({ rateBytesPerSec: 4 * MiB });
    const queue = new DownloadQueue({ maxConnections: 4, maxConnectionsPerHost: 3 });
    let peak = 0;
    queue.on('aggregate', () => (peak = Math.max(peak, queue.connectionsInUse)));
    const sockets = countSockets();
    const items = [
      queue.add(one.urlFor('a.bin'), { output: join(dir, 'out-a'), connections: 8 }),
      queue.add(one.urlFor('b.bin'), { output: join(dir, 'out-b'), connections: 8 }),
      queue.add(two.urlFor('c.bin'), { output: join(dir, 'out-c'), connections: 8 }),
      queue.add(two.urlFor('d.bin'), { output: join(dir, 'out-d'), connections: 8 }),
    ];
    const results = await Promise.all(items).finally(() => sockets.stop());
    await queue.close();
    expect(results.map((r) => r.size)).toEqual([3 * MiB, 2 * MiB + 1, MiB, 4 * MiB]);
    for (const name of ['a', 'b', 'c', 'd']) expect(await sha256File(join(dir, `out-${name}`))).toBe(hashes.get(`${name}.bin`));
    // Sockets open to each host at once, idle keep-alive ones included.
    expect(sockets.peak(one.port)).toBeLessThanOrEqual(3);
    expect(sockets.peak(two.port)).toBeLessThanOrEqual(3);
    expect(sockets.peak(one.port) + sockets.peak(two.port)).toBeGreaterThanOrEqual(2);
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThanOrEqual(2);
  });

  it('pause, resume and cancel per item; onIdle waits for all', async () => {
    const server = await start({ rateBytesPerSec: 1 * MiB });
    const queue = new DownloadQueue({ maxConnections: 4 });
    const a = queue.add(server.urlFor('a.bin'), { output: join(dir, 'out-a'), connections: 2, progressIntervalMs: 20 });
    const d = queue.add(server.urlFor('d.bin'), { output: join(dir, 'out-d'), connections: 2, progressIntervalMs: 20 });
    const dFailure = d.catch((e: unknown) => e);
    let paused = false;
    queue.on('progress', ({ id, progress }) => {
      if (id === a.id && !paused && progress.transferredBytes > 256 * 1024) {
        paused = true;
        a.pause();
        d.cancel();
        expect(a.state).toBe('paused');
        setImmediate(() => a.resume());
      }
    });
    const result = await a;
    expect(result.resumed).toBe(true);
    expect(await sha256File(join(dir, 'out-a'))).toBe(hashes.get('a.bin'));
    const error = await dFailure;
    expect((error as DownloadError).code).toBe('ERR_ABORTED');
    expect(d.state).toBe('cancelled');
    await queue.onIdle();
    // The cancelled download stays resumable: its .part and manifest are kept.
    expect((await readdir(dir)).filter((f) => f.startsWith('out-d')).sort()).toEqual(['out-d.part', 'out-d.segdl.json']);
    await queue.close();
  });

  it('a queue-wide speed cap is shared by every download', async () => {
    const server = await start();
    const queue = new DownloadQueue({ maxSpeed: 4 * MiB });
    const started = performance.now();
    await Promise.all([
      queue.add(server.urlFor('a.bin'), { output: join(dir, 'out-a') }),
      queue.add(server.urlFor('b.bin'), { output: join(dir, 'out-b') }),
    ]);
    const seconds = (performance.now() - started) / 1000;
    // 5 MiB at 4 MiB/s: never faster than the cap allows (one burst of a tenth of a second).
    expect(seconds).toBeGreaterThanOrEqual((5 * MiB - 0.4 * MiB) / (4 * MiB));
    await queue.close();
  });
});
