/**
 * `npm run bench:embedding`: how exactly `maxSpeed` holds (one download and a queue of two), and
 * how many connections `adaptiveConnections` settles on, against segdl's own server on loopback.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDataFile } from '../fixtures/data.js';
import { Download, DownloadQueue, serve, type FaultOptions } from '../src/index.js';

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'segdl-bench-embed-'));
  try {
    await writeDataFile(join(dir, 'a.bin'), 48 * MiB, 'a');
    await writeDataFile(join(dir, 'b.bin'), 48 * MiB, 'b');
    const rows: string[] = ['| case | setting | measured | ratio |', '|---|---|---|--:|'];

    for (const limit of [2 * MiB, 8 * MiB, 32 * MiB]) {
      const rate = await limitedRate(dir, {}, limit, 4);
      rows.push(`| maxSpeed, 1 download, 4 conn | ${fmt(limit)}/s | ${fmt(rate)}/s | ${(rate / limit).toFixed(3)} |`);
    }
    const queueRate = await queueLimitedRate(dir, 8 * MiB);
    rows.push(`| DownloadQueue maxSpeed, 2 downloads | ${fmt(8 * MiB)}/s | ${fmt(queueRate)}/s | ${(queueRate / (8 * MiB)).toFixed(3)} |`);

    for (const [name, faults] of [
      ['adaptive, every connection capped at 2 MiB/s', { rateBytesPerSec: 2 * MiB }],
      ['adaptive, server capped at 16 MiB/s in total', { totalRateBytesPerSec: 16 * MiB }],
      ['adaptive, unthrottled', {}],
    ] as Array<[string, FaultOptions]>) {
      const { connections, seconds } = await adaptive(dir, faults);
      rows.push(`| ${name} | max 16 | ${connections} connections, ${seconds.toFixed(2)} s | — |`);
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Bytes/s between the first and the last progress event (the probe and the final verify left out). */
async function limitedRate(dir: string, faults: FaultOptions, limit: number, connections: number): Promise<number> {
  const server = await serve({ root: dir, faults });
  try {
    const dl = new Download(server.urlFor('a.bin'), { output: join(dir, 'out'), connections, maxSpeed: limit, force: true, progressIntervalMs: 50 });
    return await steadyRate(dl);
  } finally {
    await server.close();
  }
}

async function steadyRate(dl: Download): Promise<number> {
  let first: { at: number; bytes: number } | undefined;
  let last: { at: number; bytes: number } | undefined;
  dl.on('progress', (p) => {
    const point = { at: performance.now(), bytes: p.fetchedBytes };
    if (p.fetchedBytes > 0 && first === undefined) first = point;
    if (p.segments.length > 0) last = point;
  });
  await dl.start();
  if (first === undefined || last === undefined || last.at <= first.at) throw new Error('too short to measure');
  return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
}

async function queueLimitedRate(dir: string, limit: number): Promise<number> {
  const server = await serve({ root: dir });
  const queue = new DownloadQueue({ maxSpeed: limit });
  try {
    let first: { at: number; bytes: number } | undefined;
    let last: { at: number; bytes: number } | undefined;
    queue.on('aggregate', (p) => {
      const point = { at: performance.now(), bytes: p.transferredBytes };
      if (p.transferredBytes > 0 && first === undefined) first = point;
      if (p.running === 2) last = point;
    });
    await Promise.all([
      queue.add(server.urlFor('a.bin'), { output: join(dir, 'qa'), force: true, progressIntervalMs: 50 }),
      queue.add(server.urlFor('b.bin'), { output: join(dir, 'qb'), force: true, progressIntervalMs: 50 }),
    ]);
    if (first === undefined || last === undefined || last.at <= first.at) throw new Error('too short to measure');
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  } finally {
    await queue.close();
    await server.close();
  }
}

async function adaptive(dir: string, faults: FaultOptions): Promise<{ connections: number; seconds: number }> {
  const server = await serve({ root: dir, faults });
  try {
    const started = performance.now();
    const result = await new Download(server.urlFor('a.bin'), { output: join(dir, 'out'), connections: 16, adaptiveConnections: true, force: true }).start();
    return { connections: result.connectionsUsed, seconds: (performance.now() - started) / 1000 };
  } finally {
    await server.close();
  }
}

function fmt(bytesPerSecond: number): string {
  return `${(bytesPerSecond / MiB).toFixed(2)} MiB`;
}

await main();
