/**
 * Shared scaffolding for the protocol and fault catalogue tests (cases 1-29): a temp output
 * directory, a download run that records events, and the invariant checks I1-I4.
 */
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterEach, beforeEach, expect } from 'vitest';
import { dataRange } from '../../fixtures/data.js';
import { Download, DownloadError, type DownloadOptions, type DownloadResult, type FaultOptions, type FaultPlan, type RequestRecord } from '../../src/index.js';
import { fetchJob } from '../../src/transfer/fetch-job.js';
import { loadManifest, manifestPath } from '../../src/disk/manifest.js';
import { fileTarget } from '../../src/disk/writer.js';
import { DirectPool } from '../../src/http/direct/connections.js';
import { newJob } from '../../src/schedule/scheduler.js';
import { startServer, type TestServer } from '../helpers/server.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const SEED = 'segdl';
/** Failures are retried, but fast. */
export const FAST_RETRY = { attempts: 2, minDelayMs: 1, maxDelayMs: 5 };
/**
 * A per-connection pace at which two connections pay off for a 1 MiB file (segdl opens a second
 * connection only when its share takes clearly longer than a first-byte wait), so the download's
 * first response is followed by segment requests of their own.
 */
export const PACED: FaultOptions = { rateBytesPerSec: 1 * MiB };

/** A fault for every request but the download's first one (which also tells the size). */
export function afterFirst(plan: FaultPlan): (q: RequestRecord) => FaultPlan | undefined {
  return (q) => (q.index > 0 ? plan : undefined);
}

/** A fault for the download's first request only. */
export function firstOnly(plan: FaultPlan): (q: RequestRecord) => FaultPlan | undefined {
  return (q) => (q.index === 0 ? plan : undefined);
}

export interface Ctx {
  out: string;
  servers: TestServer[];
  /** Starts a range server over `size` bytes of `seed`; closed after the test. */
  serve(size: number, faults?: FaultOptions, faultFor?: (req: RequestRecord) => FaultPlan | undefined, seed?: string): Promise<TestServer>;
}

/** Registers beforeEach/afterEach hooks; the returned context is valid inside tests. */
export function useScratch(): Ctx {
  const ctx: Ctx = {
    out: '',
    servers: [],
    async serve(size, faults = {}, faultFor, seed = SEED) {
      const server = await startServer(size, faults, seed, faultFor ? { faultFor } : {});
      ctx.servers.push(server);
      return server;
    },
  };
  beforeEach(async () => {
    ctx.out = await mkdtemp(join(tmpdir(), 'segdl-proto-'));
  });
  afterEach(async () => {
    await Promise.all(ctx.servers.splice(0).map((s) => s.cleanup()));
    await rm(ctx.out, { recursive: true, force: true });
  });
  return ctx;
}

export interface Run {
  output: string;
  result: DownloadResult | undefined;
  error: DownloadError | undefined;
  retries: Array<{ code: string; attempt: number; delayMs: number; segment: { start: number; end: number } | undefined; message: string }>;
  warnings: string[];
  /** `resume` events: bytes taken over from a previous run. */
  resumes: number[];
}

/** Runs one download to `dir/name` and records what it reported; never throws. `listen` may follow more events. */
export async function run(url: string, dir: string, options: DownloadOptions = {}, name = 'file.bin', listen?: (dl: Download) => void): Promise<Run> {
  const output = join(dir, name);
  const dl = new Download(url, { output, connections: 2, retry: FAST_RETRY, ...options });
  listen?.(dl);
  const r: Run = { output, result: undefined, error: undefined, retries: [], warnings: [], resumes: [] };
  dl.on('retry', (e) => r.retries.push(e));
  dl.on('resume', (e) => r.resumes.push(e.resumedBytes));
  dl.on('warning', (w) => r.warnings.push(w.message));
  try {
    r.result = await dl.start();
  } catch (error) {
    if (!(error instanceof DownloadError)) throw error;
    r.error = error;
  }
  return r;
}

/** The code that decided a failure: the cause of ERR_RETRIES_EXHAUSTED, or the error's own. */
export function rootCode(error: DownloadError | undefined): string | undefined {
  if (error?.code !== 'ERR_RETRIES_EXHAUSTED') return error?.code;
  return (error.cause as DownloadError | undefined)?.code;
}

/** A run that must have succeeded with the exact file, nothing else left in `dir` (I1). */
export async function expectExact(r: Run, dir: string, size: number, seed = SEED): Promise<void> {
  expect(r.error, r.error?.message).toBeUndefined();
  expect(r.result?.size).toBe(size);
  const bytes = await readFile(r.output);
  expect(bytes.length).toBe(size);
  expect(bytes.equals(dataRange(seed, 0, size))).toBe(true);
  expect(await readdir(dir)).toEqual(['file.bin']);
}

/** A failed first request: no final file, and nothing else created either (the size was never learned). */
export async function expectNothing(r: Run, dir: string): Promise<void> {
  expect(r.result).toBeUndefined();
  expect(await readdir(dir)).toEqual([]);
}

/** I1: nothing at the final path after a failure. */
export async function expectNoFinal(r: Run, dir: string): Promise<void> {
  expect(r.result).toBeUndefined();
  expect(await readdir(dir)).not.toContain('file.bin');
}

/**
 * After a failed ranged download: I1 (no final file), I4 (.part + manifest remain), I3 (every
 * byte the manifest claims is the right byte) and I2 (every other byte of the .part is either
 * untouched (0) or the right byte: nothing landed at a wrong offset).
 */
export async function expectResumable(r: Run, dir: string, size: number, seed = SEED): Promise<void> {
  await expectNoFinal(r, dir);
  expect((await readdir(dir)).sort()).toEqual(['file.bin.part', 'file.bin.segdl.json']);
  const loaded = await loadManifest(manifestPath(r.output));
  if (loaded.state !== 'ok') throw new Error(`manifest not usable: ${loaded.state}`);
  expect(loaded.data.size).toBe(size);
  const part = await readFile(`${r.output}.part`);
  expect(part.length).toBe(size);
  const data = dataRange(seed, 0, size);
  for (const s of loaded.segments) {
    expect(part.subarray(s.start, s.start + s.done).equals(data.subarray(s.start, s.start + s.done))).toBe(true);
  }
  expect(firstStrayByte(part, data)).toBe(-1);
}

/** Offset of the first byte that is neither 0 nor the right byte, or -1. */
export function firstStrayByte(part: Buffer, data: Buffer): number {
  for (let i = 0; i < part.length; i++) if (part[i] !== 0 && part[i] !== data[i]) return i;
  return -1;
}

/** Every request after the first was refused, so none of its bytes (past its 16 seam bytes) reached the .part. */
export async function expectLaterUntouched(r: Run, t: TestServer): Promise<void> {
  const later = gets(t).slice(1);
  expect(later.length).toBeGreaterThan(0);
  for (const q of later) expect(await untouched(r, q.range!.start + 16, q.range!.end + 1)).toBe(true);
}

/** Whether [start, end) of the .part is all zero (never written). */
export async function untouched(r: Run, start: number, end: number): Promise<boolean> {
  const part = await readFile(`${r.output}.part`);
  return part.subarray(start, end).every((b) => b === 0);
}

/** The GETs the server saw (every request segdl sends is a GET). */
export function gets(server: TestServer): RequestRecord[] {
  return server.server.requests.filter((q) => q.method === 'GET');
}

/** One raw request over a fresh socket; resolves with every byte until the server closes. */
export function rawExchange(port: number, request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Drives one attempt of the engine's segment fetch (`fetchJob`) for [start, end) of a `size`-byte
 * remote into a zero-filled file, for cases about how a single response is gated and written.
 */
export async function fetchSegment(
  url: string,
  dir: string,
  size: number,
  start: number,
  end: number,
  options: { etag?: string; done?: number } = {},
): Promise<{ error: unknown; part: Buffer; done: number }> {
  const etag = options.etag;
  const path = join(dir, 'segment.part');
  const file = await open(path, 'w+');
  const agent = new Agent();
  const job = newJob({ start, end, done: options.done ?? 0 });
  let error: unknown;
  try {
    await file.truncate(size);
    // The context carries the knobs of every FetchContext shape seen so far (the engine moves fast).
    const context = {
      dispatcher: agent,
      url: new URL(url),
      headers: {},
      target: fileTarget(file),
      // The same two receive paths a download takes (SEGDL_RECEIVE=undici runs the suite through undici only).
      direct: process.env['SEGDL_RECEIVE'] === 'undici' ? undefined : new DirectPool({ blockPrivateAddresses: false, connectTimeoutMs: 10_000 }),
      expected: { url, size, etag, lastModified: undefined },
      stall: { windowMs: 10_000, minBytesPerSec: 0 },
      stallTimeoutMs: 10_000,
      headersTimeoutMs: 10_000,
      onWritten: () => {},
    };
    await fetchJob(
      context as unknown as Parameters<typeof fetchJob>[0],
      job,
      new AbortController().signal,
    );
  } catch (e) {
    error = e;
  } finally {
    await file.close();
    await agent.destroy();
  }
  return { error, part: await readFile(path), done: job.done - (options.done ?? 0) };
}
