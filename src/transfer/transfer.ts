/**
 * What the two transfer modes (ranged, single stream) share: the context the Download hands
 * them, the scheduler they run, the fetch context of one source, and the final checks.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { DownloadError } from '../errors.js';
import type { DownloadEvents, Progress } from '../events.js';
import type { FetchContext } from './fetch-job.js';
import type { PendingResponse } from '../http/pending-response.js';
import type { ResolvedOptions } from '../options.js';
import type { RateLimiter } from './rate-limit.js';
import { Scheduler, type Job, type SchedulerParams } from '../schedule/scheduler.js';
import type { Source } from './sources.js';
import { journal } from '../test-hooks.js';
import type { Digest } from '../verify/verify.js';
import type { WriteTarget } from '../disk/writer.js';
import type { DirectPool } from '../http/direct/connections.js';
import { BLOCK_BYTES } from '../verify/blocks.js';

/** Split points fall on 64 KiB boundaries: whole pages, friendly to file systems. */
export const ALIGNMENT = 64 * 1024;

export interface TransferContext {
  options: ResolvedOptions;
  /** The download's first response, waiting for the job that starts where its body starts. */
  first: { body: PendingResponse } | undefined;
  /** The first request's time to its response head (ms): how long any new connection waits for a byte. */
  firstByteMs: number | undefined;
  dispatcher: Dispatcher;
  /** The direct receive path's connections, when this download may use them. */
  direct: DirectPool | undefined;
  signal: AbortSignal;
  /** The download's identity in the manifest (the requested URL, without credentials). */
  manifestUrl: string;
  output: string;
  part: string;
  limiters: RateLimiter[];
  /** A slot of a shared connection budget per request to `url` (DownloadQueue), if any. */
  acquire: ((url: URL) => (signal: AbortSignal) => Promise<() => void>) | undefined;
  emit: <K extends keyof DownloadEvents>(event: K, ...args: DownloadEvents[K]) => void;
  progress(progress: Progress): void;
  warn(code: string, message: string): void;
  restart(reason: string): void;
  /** Told of every multi-connection scheduler as it is made, so a live `connections` change reaches it. */
  onScheduler?(scheduler: Scheduler): void;
}

export interface TransferOutcome {
  size: number;
  resumedBytes: number;
  fetched: number;
  digest: Digest;
  connectionsUsed: number;
  /** Time from the last byte on disk to a verified file (the part of verification not overlapped). */
  verifyMs: number;
}

export interface SchedulerExtras {
  firstByteMs?: number | undefined;
  onSplit?: (victim: Job, piece: Job) => void;
  window?: () => number;
  maxPieceBytes?: number;
}

export function makeScheduler(ctx: TransferContext, jobs: Job[], connections: number, url: URL, fetch: SchedulerParams['fetch'], extras: SchedulerExtras = {}): Scheduler {
  const { firstByteMs, onSplit, window, maxPieceBytes } = extras;
  const o = ctx.options;
  const acquire = ctx.acquire?.(url);
  return new Scheduler({
    jobs,
    connections,
    minSplitSize: o.minSplitSize,
    alignment: ALIGNMENT,
    blockAlignment: BLOCK_BYTES,
    retry: o.retry,
    signal: ctx.signal,
    adaptive: o.adaptiveConnections,
    fetch,
    onRetry: (job, attempt, delayMs, error) =>
      ctx.emit('retry', { segment: { start: job.start, end: job.end }, attempt, delayMs, code: error.code, message: error.message }),
    onSplit: (victim, piece) => {
      onSplit?.(victim, piece);
      ctx.emit('segment', { state: 'split', start: piece.start, end: piece.end });
    },
    onJobDone: (job) => ctx.emit('segment', { state: 'done', start: job.start, end: job.end }),
    ...(acquire === undefined ? {} : { acquire }),
    ...(firstByteMs === undefined ? {} : { firstByteMs }),
    ...(window === undefined ? {} : { window }),
    ...(maxPieceBytes === undefined ? {} : { maxPieceBytes }),
  });
}

/** The fetch context for requests to one source. */
export function fetchContextFor(ctx: TransferContext, source: Source, target: WriteTarget, size: number, onWritten: FetchContext['onWritten']): FetchContext {
  const o = ctx.options;
  const limited = ctx.limiters.some((l) => l.bytesPerSecond !== Number.POSITIVE_INFINITY);
  return {
    dispatcher: ctx.dispatcher,
    direct: ctx.direct,
    url: source.url,
    headers: source.headers,
    target,
    expected: { url: source.url.href, size, etag: source.etag, lastModified: source.lastModified },
    // A connection held back by a bandwidth cap is slow on purpose: only silence counts as a stall then.
    stall: { windowMs: o.stallTimeoutMs, minBytesPerSec: limited ? 0 : o.minSpeed },
    headersTimeoutMs: o.stallTimeoutMs,
    onWritten,
    limiters: ctx.limiters,
    // Only the source the first request went to can have its answer adopted.
    adopt: (start) => {
      const body = source.primary ? ctx.first?.body : undefined;
      return body?.available && body.start === start ? body : undefined;
    },
  };
}

/** Gives the .part the server's Last-Modified before publishing (as curl -R and wget do): a rerun can then tell it is current. */
export async function stampMtime(file: FileHandle, lastModified: string | undefined): Promise<void> {
  const when = lastModified === undefined ? Number.NaN : Date.parse(lastModified);
  if (!Number.isNaN(when)) await file.utimes(new Date(), new Date(when));
}

export function checkDigest(ctx: TransferContext, digest: Digest, url: string): void {
  const expected = ctx.options.checksum;
  if (expected === undefined) return;
  const actual = digest[expected.algorithm];
  if (actual !== expected.hex) {
    throw new DownloadError('ERR_CHECKSUM_MISMATCH', `${expected.algorithm} is ${String(actual)}, expected ${expected.hex}`, { url });
  }
}

/** fdatasync for power-loss durability (journaled for the power-loss test). */
export async function syncData(file: FileHandle): Promise<void> {
  journal('S+');
  await file.datasync();
  journal('S-');
}
