/**
 * The orchestrator and public entry: probe → plan → schedule → write → checkpoint → verify →
 * publish. Everything else is a module with one job; this file only wires them and reports.
 */
import { EventEmitter } from 'node:events';
import { link, open, rename, rm, stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Agent, type Dispatcher } from 'undici';
import { Checkpointer } from './checkpoint.js';
import { DownloadError, toDownloadError } from './errors.js';
import type { DownloadEvents, DownloadResult, Progress } from './events.js';
import { fetchJob, fetchWhole } from './fetch-job.js';
import { filenameFromDisposition, filenameFromUrl, safeBaseName } from './filename.js';
import { acquireLock } from './lock.js';
import { loadManifest, manifestPath, ManifestStore, publicUrl, syncDirectory } from './manifest.js';
import { resolveOptions, type DownloadOptions, type ResolvedOptions } from './options.js';
import { planRanges, missingRanges, type Segment } from './plan.js';
import { probeRemote, type RemoteInfo } from './probe.js';
import { newJob, Scheduler, type Job } from './scheduler.js';
import { PrefixHasher, type Digest } from './verify.js';

/** Split points fall on 64 KiB boundaries: whole pages, friendly to file systems. */
const ALIGNMENT = 64 * 1024;

interface Run {
  dispatcher: Dispatcher;
  signal: AbortSignal;
  remote: RemoteInfo;
  output: string;
  part: string;
  startedAt: number;
}

export class Download extends EventEmitter<DownloadEvents> {
  readonly url: URL;
  readonly #options: ResolvedOptions;
  readonly #controller = new AbortController();
  #running: Promise<DownloadResult> | undefined;

  /** Validates the options at once: a bad value throws ERR_INVALID_OPTION here, not later. */
  constructor(url: string | URL, options: DownloadOptions = {}) {
    super();
    this.url = parseUrl(url);
    this.#options = resolveOptions(options);
  }

  /** Runs the download (once; later calls return the same promise). */
  start(): Promise<DownloadResult> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Stops the download; its state is saved and `start()` rejects with `reason`. */
  abort(reason: unknown = new DownloadError('ERR_ABORTED', 'download aborted')): void {
    this.#controller.abort(reason);
  }

  async #run(): Promise<DownloadResult> {
    const o = this.#options;
    const signal = o.signal === undefined ? this.#controller.signal : AbortSignal.any([o.signal, this.#controller.signal]);
    const ownAgent = o.dispatcher === undefined ? new Agent({ connections: o.connections, keepAliveTimeout: 10_000 }) : undefined;
    const dispatcher = o.dispatcher ?? ownAgent!;
    try {
      const remote = await probeRemote({ dispatcher, url: this.url, headers: o.headers, signal });
      if (remote.size !== undefined && remote.size > o.maxSize) {
        throw new DownloadError('ERR_TOO_LARGE', `file is ${remote.size} bytes, the limit is ${o.maxSize}`, { url: remote.url.href });
      }
      const output = resolve(o.output ?? defaultName(remote, this.url));
      await refuseExistingTarget(output, o.force);
      const lock = await acquireLock(output);
      try {
        const run: Run = { dispatcher, signal, remote, output, part: `${output}.part`, startedAt: Date.now() };
        if (remote.size !== undefined && remote.acceptsRanges) {
          try {
            return await this.#ranged(run, remote.size);
          } catch (error) {
            if (!(error instanceof DownloadError && error.code === 'ERR_RANGE_UNSUPPORTED') || signal.aborted) throw error;
            this.emit('warning', { code: error.code, message: 'server ignores ranges mid-way: downloading with one connection' });
          }
        } else {
          this.emit('warning', {
            code: 'ERR_RANGE_UNSUPPORTED',
            message: remote.size === undefined ? 'server sent no length: downloading with one connection' : 'server ignores ranges: downloading with one connection',
          });
        }
        return await this.#single(run);
      } finally {
        await lock.release();
      }
    } catch (error) {
      throw signal.aborted ? signal.reason : toDownloadError(error, publicUrl(this.url));
    } finally {
      await ownAgent?.destroy();
    }
  }

  /** Multi-connection download with a manifest. */
  async #ranged(run: Run, size: number): Promise<DownloadResult> {
    const o = this.#options;
    const store = new ManifestStore(manifestPath(run.output), { fsync: o.durability === 'power' });
    const { segments, resumedBytes } = await this.#resumeOrPlan(run, store, size);
    await checkFreeSpace(run.output, size - resumedBytes, run.remote.url.href);
    const file = await open(run.part, resumedBytes > 0 ? 'r+' : 'w+', 0o600);
    let closed = false;
    const jobs = segments.map(newJob);
    const checkpoint = new Checkpointer(() =>
      store.save(() => ({
        url: publicUrl(this.url),
        size,
        etag: run.remote.etag,
        lastModified: run.remote.lastModified,
        segments: jobs.map((j) => [j.start, j.end, j.done]),
      })),
    );
    let fetched = 0;
    const stopProgress = this.#reportProgress(jobs, size, resumedBytes, () => fetched);
    try {
      if (resumedBytes === 0) await file.truncate(size);
      const hasher = await PrefixHasher.create(file, o.checksum?.algorithm);
      const scheduler = new Scheduler({
        jobs,
        connections: o.connections,
        minSplitSize: o.minSplitSize,
        alignment: ALIGNMENT,
        retry: o.retry,
        signal: run.signal,
        fetch: (job, signal, streaming) =>
          fetchJob(
            {
              dispatcher: run.dispatcher,
              url: run.remote.url,
              headers: o.headers,
              file,
              expected: { url: run.remote.url.href, size, etag: run.remote.etag, lastModified: run.remote.lastModified },
              stallTimeoutMs: o.stallTimeoutMs,
              onWritten: (_job, bytes) => {
                fetched += bytes;
                checkpoint.written(bytes);
                hasher.advance(completePrefix(jobs));
              },
            },
            job,
            signal,
            streaming,
          ),
        onRetry: (job, attempt, delayMs, error) =>
          this.emit('retry', { segment: { start: job.start, end: job.end }, attempt, delayMs, code: error.code, message: error.message }),
        onSplit: (victim, piece) => this.emit('segment', { state: 'split', start: piece.start, end: piece.end }),
        onJobDone: (job) => this.emit('segment', { state: 'done', start: job.start, end: job.end }),
      });
      try {
        await scheduler.run();
      } finally {
        // Whatever happened, record what is on disk so the next run resumes from there.
        await checkpoint.flush();
      }
      const digest = await hasher.finish(size);
      await this.#checkDigest(digest, run);
      if (o.durability === 'power') await file.sync();
      await file.close();
      closed = true;
      await publish(run.part, run.output, o.force, o.durability === 'power');
      await store.remove();
      return this.#finish(run, size, resumedBytes > 0, fetched, digest, scheduler.peakConnections);
    } catch (error) {
      if (error instanceof DownloadError && error.code === 'ERR_CHECKSUM_MISMATCH') {
        // Bytes that fail verification are never trusted again: the next run starts over.
        await store.remove();
        await rm(run.part, { force: true });
      }
      throw error;
    } finally {
      stopProgress();
      checkpoint.stop();
      if (!closed) await file.close();
    }
  }

  /** Decides between resuming from a trustworthy manifest and starting over. */
  async #resumeOrPlan(run: Run, store: ManifestStore, size: number): Promise<{ segments: Segment[]; resumedBytes: number }> {
    const o = this.#options;
    await rm(`${store.path}.tmp`, { force: true }); // a leftover temp was never renamed: not state
    const loaded = await loadManifest(store.path);
    const plan = (): Segment[] =>
      planRanges([{ start: 0, end: size }], { connections: o.connections, minSplitSize: o.minSplitSize, alignment: ALIGNMENT })
        .map((r) => ({ ...r, done: 0 }));
    if (loaded.state === 'missing') {
      if (await exists(run.part)) this.#restart(`${run.part} has no manifest: starting over`);
      return { segments: plan(), resumedBytes: 0 };
    }
    if (loaded.state === 'invalid') {
      this.#restart(`manifest ${store.path} is unusable (${loaded.reason}): starting over`);
      return { segments: plan(), resumedBytes: 0 };
    }
    const { data } = loaded;
    const changed =
      data.url !== publicUrl(this.url) ||
      data.size !== size ||
      data.etag !== run.remote.etag ||
      (data.lastModified !== undefined && run.remote.lastModified !== undefined && data.lastModified !== run.remote.lastModified);
    if (changed) {
      this.#restart('remote file changed since the last run: starting over');
      return { segments: plan(), resumedBytes: 0 };
    }
    const partSize = await stat(run.part).then((s) => s.size, () => undefined);
    if (partSize !== size) {
      this.#restart(`${run.part} is missing or has the wrong size: starting over`);
      return { segments: plan(), resumedBytes: 0 };
    }
    // Finished pieces stay as they are; only the missing ranges are re-planned for this run's connections.
    const finished = loaded.segments.flatMap((s) => (s.done > 0 ? [{ start: s.start, end: s.start + s.done, done: s.done }] : []));
    const missing = planRanges(missingRanges(loaded.segments), { connections: o.connections, minSplitSize: o.minSplitSize, alignment: ALIGNMENT });
    const segments = [...finished, ...missing.map((r) => ({ ...r, done: 0 }))].sort((a, b) => a.start - b.start);
    const resumedBytes = finished.reduce((sum, s) => sum + s.done, 0);
    this.emit('resume', { resumedBytes, totalBytes: size });
    return { segments, resumedBytes };
  }

  #restart(reason: string): void {
    this.emit('restart', { reason });
    this.emit('warning', { code: 'ERR_RESTART', message: reason });
  }

  /** One plain GET from byte 0; nothing to resume, so no manifest. */
  async #single(run: Run): Promise<DownloadResult> {
    const o = this.#options;
    await rm(manifestPath(run.output), { force: true });
    const file = await open(run.part, 'w+', 0o600);
    let closed = false;
    const job = newJob({ start: 0, end: run.remote.size ?? Number.MAX_SAFE_INTEGER, done: 0 });
    let fetched = 0;
    const stopProgress = this.#reportProgress([job], run.remote.size, 0, () => fetched);
    try {
      const hasher = await PrefixHasher.create(file, o.checksum?.algorithm);
      const scheduler = new Scheduler({
        jobs: [job],
        connections: 1,
        minSplitSize: Number.MAX_SAFE_INTEGER,
        alignment: ALIGNMENT,
        retry: o.retry,
        signal: run.signal,
        fetch: async (j, signal) => {
          fetched -= j.done; // a retry starts over: those bytes will be fetched again
          const ctx = {
            dispatcher: run.dispatcher,
            url: run.remote.url,
            headers: o.headers,
            file,
            expected: { url: run.remote.url.href, size: run.remote.size, etag: run.remote.etag, lastModified: run.remote.lastModified },
            stallTimeoutMs: o.stallTimeoutMs,
            maxSize: o.maxSize,
            onWritten: (_job: Job, bytes: number) => {
              fetched += bytes;
            },
          };
          await fetchWhole(ctx, j, signal);
        },
        onRetry: (_job, attempt, delayMs, error) => this.emit('retry', { segment: undefined, attempt, delayMs, code: error.code, message: error.message }),
      });
      await scheduler.run();
      const size = job.done;
      await file.truncate(size);
      const digest = await hasher.finish(size);
      await this.#checkDigest(digest, run);
      if (o.durability === 'power') await file.sync();
      await file.close();
      closed = true;
      await publish(run.part, run.output, o.force, o.durability === 'power');
      return this.#finish(run, size, false, fetched, digest, 1);
    } catch (error) {
      if (error instanceof DownloadError && error.code === 'ERR_CHECKSUM_MISMATCH') await rm(run.part, { force: true });
      throw error;
    } finally {
      stopProgress();
      if (!closed) await file.close();
    }
  }

  async #checkDigest(digest: Digest, run: Run): Promise<void> {
    const expected = this.#options.checksum;
    if (expected === undefined) return;
    const actual = digest[expected.algorithm];
    if (actual !== expected.hex) {
      throw new DownloadError('ERR_CHECKSUM_MISMATCH', `${expected.algorithm} is ${String(actual)}, expected ${expected.hex}`, { url: run.remote.url.href });
    }
  }

  #finish(run: Run, size: number, resumed: boolean, fetched: number, digest: Digest, connectionsUsed: number): DownloadResult {
    const result: DownloadResult = { path: run.output, size, resumed, bytesFetched: fetched, digest, elapsedMs: Date.now() - run.startedAt, connectionsUsed };
    const final: Progress = { transferredBytes: size, totalBytes: size, resumedBytes: size - fetched, fetchedBytes: fetched, bytesPerSecond: 0, etaMs: 0, segments: [] };
    this.#options.onProgress?.(final);
    this.emit('progress', final);
    this.emit('done', result);
    return result;
  }

  /** Emits throttled progress until the returned stop function is called. */
  #reportProgress(jobs: Job[], total: number | undefined, resumedBytes: number, fetched: () => number): () => void {
    const interval = this.#options.progressIntervalMs;
    let lastBytes = fetched();
    let lastAt = Date.now();
    let speed = 0;
    const tick = () => {
      const now = Date.now();
      const bytes = fetched();
      const instant = ((bytes - lastBytes) * 1000) / Math.max(1, now - lastAt);
      speed = speed === 0 ? instant : speed * 0.7 + instant * 0.3; // smoothed, so the ETA does not jump
      lastBytes = bytes;
      lastAt = now;
      const transferred = resumedBytes + bytes;
      const progress: Progress = {
        transferredBytes: transferred,
        totalBytes: total,
        resumedBytes,
        fetchedBytes: bytes,
        bytesPerSecond: speed,
        etaMs: total !== undefined && speed > 0 ? ((total - transferred) * 1000) / speed : undefined,
        segments: jobs.map((j) => ({
          start: j.start,
          end: j.end,
          done: j.done,
          active: j.active,
          bytesPerSecond: j.active ? ((j.received - j.attemptStartBytes) * 1000) / Math.max(1, now - j.attemptStartedAt) : 0,
        })),
      };
      this.#options.onProgress?.(progress);
      this.emit('progress', progress);
    };
    const timer = setInterval(tick, Math.max(interval, 10));
    timer.unref();
    return () => clearInterval(timer);
  }
}

/** Downloads `url` and resolves when the file is complete and verified at its final path. */
export function download(url: string | URL, options: DownloadOptions = {}): Promise<DownloadResult> {
  return new Download(url, options).start();
}

function parseUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new DownloadError('ERR_INVALID_OPTION', `invalid URL: ${String(url)}`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DownloadError('ERR_INVALID_OPTION', `unsupported protocol ${parsed.protocol} (http and https only)`);
  }
  if (/[\r\n]/.test(String(url))) throw new DownloadError('ERR_INVALID_OPTION', 'URL contains CR or LF');
  return parsed;
}

function defaultName(remote: RemoteInfo, requested: URL): string {
  const suggested = filenameFromDisposition(remote.contentDisposition) ?? filenameFromUrl(remote.url) ?? filenameFromUrl(requested);
  return suggested === undefined ? 'download' : safeBaseName(suggested);
}

/** The first byte not yet on disk, scanning segments in file order. */
function completePrefix(jobs: readonly Job[]): number {
  let prefix = 0;
  for (;;) {
    const next = jobs.find((j) => j.start === prefix);
    if (next === undefined) return prefix;
    prefix = next.start + next.done;
    if (next.done < next.end - next.start) return prefix;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function refuseExistingTarget(output: string, force: boolean): Promise<void> {
  if (!force && (await exists(output))) {
    throw new DownloadError('ERR_TARGET_EXISTS', `${output} already exists (use force / --force to overwrite)`);
  }
}

async function checkFreeSpace(output: string, needed: number, url: string): Promise<void> {
  const fs = await statfs(dirname(output));
  const free = fs.bavail * fs.bsize;
  if (needed > free) {
    throw new DownloadError('ERR_DISK_FULL', `disk full: ${needed} bytes needed, ${free} free in ${dirname(output)}`, { url });
  }
}

/** Moves the verified .part to its final name, never clobbering a file that appeared meanwhile. */
async function publish(part: string, output: string, force: boolean, durable: boolean): Promise<void> {
  if (force) {
    await rename(part, output);
  } else {
    try {
      await link(part, output);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new DownloadError('ERR_TARGET_EXISTS', `${output} appeared during the download; the verified file is kept at ${part}`);
      }
      throw error;
    }
    await rm(part);
  }
  if (durable) await syncDirectory(dirname(output));
}

