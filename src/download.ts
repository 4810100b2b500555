/**
 * The orchestrator and public entry: probe → plan → schedule → write → checkpoint → verify →
 * publish. Everything else is a module with one job; this file only wires them and reports.
 */
import { EventEmitter } from 'node:events';
import { rm, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Dispatcher } from 'undici';
import { guardedConnector } from './address-guard.js';
import { Agent } from './agent.js';
import { Checkpointer } from './checkpoint.js';
import type { ConnectionBudget } from './connection-budget.js';
import { DownloadError, toDownloadError } from './errors.js';
import type { DownloadEvents, DownloadResult, Progress } from './events.js';
import { fetchJob, fetchWhole, type FetchContext } from './fetch-job.js';
import { filenameFromDisposition, filenameFromUrl, safeBaseName } from './filename.js';
import { acquireLock } from './lock.js';
import { manifestPath, ManifestStore, publicUrl } from './manifest.js';
import { resolveOptions, type DownloadOptions, type ResolvedOptions } from './options.js';
import { checkExistingOutput } from './existing-output.js';
import { checkFreeSpace, openPart, publish } from './output-files.js';
import { probeRemote, type RemoteInfo } from './probe.js';
import { RateLimiter } from './rate-limit.js';
import { completePrefix, reportProgress } from './progress.js';
import { decideResume } from './resume.js';
import { newJob, Scheduler, type Job } from './scheduler.js';
import { checkSeams, readSeam } from './seams.js';
import { crashPoint, journal } from './test-hooks.js';
import { withoutCredentials } from './transport.js';
import { DiskCheck, hashHex, verifyResumed } from './segment-check.js';
import { PrefixHasher, xxhashApi, type Digest } from './verify.js';

/** Split points fall on 64 KiB boundaries: whole pages, friendly to file systems. */
const ALIGNMENT = 64 * 1024;
/** Written bytes between two looks for a longer complete prefix to hash. */
const HASH_STEP = 4 * 1024 * 1024;
/** Rounds of re-fetching segments that failed a seam or disk check before giving up. */
const REPAIRS = 2;

interface Run {
  dispatcher: Dispatcher;
  signal: AbortSignal;
  remote: RemoteInfo;
  /** Request headers for the final URL (credentials dropped if it is another origin). */
  headers: Record<string, string>;
  output: string;
  part: string;
  startedAt: number;
}

export class Download extends EventEmitter<DownloadEvents> {
  readonly url: URL;
  readonly #options: ResolvedOptions;
  readonly #controller = new AbortController();
  readonly #limiter: RateLimiter;
  /** Limits shared with other downloads (a queue's), set by the queue. */
  readonly #sharedLimiters: RateLimiter[] = [];
  #running: Promise<DownloadResult> | undefined;

  /** Validates the options at once: a bad value throws ERR_INVALID_OPTION here, not later. */
  constructor(url: string | URL, options: DownloadOptions = {}) {
    super();
    this.url = parseUrl(url);
    this.#options = resolveOptions(options);
    this.#limiter = new RateLimiter(this.#options.maxSpeed);
  }

  /** This download's bandwidth cap in bytes/s (Infinity: none). Takes effect at once, also mid-download. */
  get maxSpeed(): number {
    return this.#limiter.bytesPerSecond;
  }

  set maxSpeed(bytesPerSecond: number) {
    this.#limiter.bytesPerSecond = bytesPerSecond;
  }

  /** @internal Counts this download's bytes against a limit shared with others (DownloadQueue). */
  shareLimiter(limiter: RateLimiter): void {
    this.#sharedLimiters.push(limiter);
  }

  /** @internal Takes a slot of a connection budget shared with others for every request (DownloadQueue). */
  shareBudget(budget: ConnectionBudget, priority: number): void {
    this.#budget = { budget, priority };
  }

  #budget: { budget: ConnectionBudget; priority: number } | undefined;

  #acquire(url: URL): ((signal: AbortSignal) => Promise<() => void>) | undefined {
    const shared = this.#budget;
    return shared === undefined ? undefined : (signal) => shared.budget.acquire(url.host, shared.priority, signal);
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
    const tls = o.ca === undefined ? {} : { ca: o.ca };
    const ownAgent =
      o.dispatcher === undefined
        ? new Agent({ connections: o.connections, keepAliveTimeout: 10_000, connect: o.blockPrivateAddresses ? guardedConnector(tls) : tls })
        : undefined;
    const dispatcher = o.dispatcher ?? ownAgent!;
    if (process.env['NODE_TLS_REJECT_UNAUTHORIZED'] === '0' && this.url.protocol === 'https:') {
      this.#warn('ERR_TLS', 'NODE_TLS_REJECT_UNAUTHORIZED=0: certificates are NOT being checked');
    }
    try {
      for (let restarts = 0; ; restarts++) {
        try {
          return await this.#attempt(dispatcher, signal);
        } catch (error) {
          // The file changed under us: its bytes so far are another version. Start over once;
          // a URL whose validators change on every request (some signed links) must not loop.
          if (!(error instanceof DownloadError && error.code === 'ERR_REMOTE_CHANGED') || signal.aborted) throw error;
          if (o.ifRemoteChanged === 'fail' || restarts >= 1) throw error;
          this.#restart(`remote file changed during the download (${error.message}): starting over`);
        }
      }
    } catch (error) {
      throw signal.aborted ? signal.reason : toDownloadError(error, publicUrl(this.url));
    } finally {
      await ownAgent?.destroy();
    }
  }

  async #attempt(dispatcher: Dispatcher, signal: AbortSignal): Promise<DownloadResult> {
    const o = this.#options;
    const releaseProbe = await this.#acquire(this.url)?.(signal);
    let remote: RemoteInfo;
    try {
      remote = await probeRemote({ dispatcher, url: this.url, headers: o.headers, signal });
    } finally {
      releaseProbe?.();
    }
    if (remote.size !== undefined && remote.size > o.maxSize) {
      throw new DownloadError('ERR_TOO_LARGE', `file is ${remote.size} bytes, the limit is ${o.maxSize}`, { url: remote.url.href });
    }
    const output = resolve(o.output ?? defaultName(remote, this.url));
    const lock = await acquireLock(output);
    try {
      const headers = remote.url.origin === this.url.origin ? o.headers : withoutCredentials(o.headers);
      const run: Run = { dispatcher, signal, remote, headers, output, part: `${output}.part`, startedAt: Date.now() };
      const existing = await checkExistingOutput({
        output,
        part: run.part,
        manifest: manifestPath(output),
        force: o.force,
        checksum: o.checksum,
        url: publicUrl(this.url),
        size: remote.size,
        etag: remote.etag,
      });
      this.emit('start', {
        url: publicUrl(remote.url),
        path: output,
        totalBytes: remote.size,
        connections: remote.size !== undefined && remote.acceptsRanges ? o.connections : 1,
        acceptsRanges: remote.acceptsRanges,
      });
      if (existing.kind === 'done') {
        this.#warn('ERR_TARGET_EXISTS', `${output} is already complete and verified: nothing to download`);
        return this.#finish(run, existing.size, existing.size, 0, existing.digest, 0);
      }
      if (remote.size !== undefined && remote.acceptsRanges) {
        try {
          return await this.#ranged(run, remote.size);
        } catch (error) {
          if (!(error instanceof DownloadError && error.code === 'ERR_RANGE_UNSUPPORTED') || signal.aborted) throw error;
          this.#warn(error.code, 'server ignores ranges mid-way: downloading with one connection');
        }
      } else {
        this.#warn(
          'ERR_RANGE_UNSUPPORTED',
          remote.size === undefined ? 'server sent no length: downloading with one connection' : 'server ignores ranges: downloading with one connection',
        );
      }
      return await this.#single(run);
    } finally {
      await lock.release();
    }
  }

  #fetchContext(run: Run, file: FetchContext['file'], size: number, onWritten: FetchContext['onWritten']): FetchContext {
    const o = this.#options;
    return {
      dispatcher: run.dispatcher,
      url: run.remote.url,
      headers: run.headers,
      file,
      expected: { url: run.remote.url.href, size, etag: run.remote.etag, lastModified: run.remote.lastModified },
      // A connection held back by a bandwidth cap is slow on purpose: only silence counts as a stall then.
      stall: { windowMs: o.stallTimeoutMs, minBytesPerSec: this.#limited() ? 0 : o.minSpeed },
      headersTimeoutMs: o.stallTimeoutMs,
      onWritten,
      limiters: [this.#limiter, ...this.#sharedLimiters],
    };
  }

  /** Multi-connection download with a manifest. */
  async #ranged(run: Run, size: number): Promise<DownloadResult> {
    const o = this.#options;
    const store = new ManifestStore(manifestPath(run.output), { fsync: o.durability === 'power' });
    const decision = await decideResume({
      manifest: store.path,
      part: run.part,
      url: publicUrl(this.url),
      size,
      etag: run.remote.etag,
      lastModified: run.remote.lastModified,
      plan: { connections: o.connections, minSplitSize: o.minSplitSize, alignment: ALIGNMENT },
    });
    if (decision.kind === 'restart') {
      if (decision.remoteChanged && o.ifRemoteChanged === 'fail') {
        throw new DownloadError('ERR_REMOTE_CHANGED', 'remote file changed since the last run; the partial download is kept', { url: run.remote.url.href });
      }
      this.#restart(decision.reason);
    }
    // Refuse a file that cannot fit before creating anything (bytes a resume drops later are few).
    await checkFreeSpace(run.output, size - (decision.kind === 'resume' ? decision.resumedBytes : 0), run.remote.url.href);
    const api = await xxhashApi();
    const file = await openPart(run.part, decision.kind !== 'resume');
    let closed = false;
    const jobs = decision.segments.map(newJob);
    let resumedBytes = 0;
    if (decision.kind === 'resume') {
      const saved = new Map(jobs.map((job, i) => [job, decision.hashes.get(decision.segments[i]!)]));
      const dropped = await verifyResumed(file, jobs, saved, api);
      if (dropped > 0) this.#warn('ERR_INTEGRITY', `${dropped} bytes on disk no longer match their recorded hashes: fetching them again`);
      resumedBytes = decision.resumedBytes - dropped;
      this.emit('resume', { resumedBytes, totalBytes: size });
    }
    const power = o.durability === 'power';
    const checkpoint = new Checkpointer(() =>
      store.save(
        () => ({
          url: publicUrl(this.url),
          size,
          etag: run.remote.etag,
          lastModified: run.remote.lastModified,
          segments: jobs.map((j) => (j.hash === undefined ? [j.start, j.end, j.done] : [j.start, j.end, j.done, hashHex(j.hash)])),
        }),
        // Power-loss safety: the bytes the snapshot claims reach the disk before the claim does.
        power ? () => syncData(file) : undefined,
      ),
    );
    let fetched = 0;
    const stopProgress = reportProgress(jobs, size, resumedBytes, () => fetched, o.progressIntervalMs, (p) => this.#progress(p));
    try {
      if (decision.kind !== 'resume') await file.truncate(size);
      let diskCheck = new DiskCheck(jobs, api);
      let hasher = await PrefixHasher.create(file, o.checksum?.algorithm, (offset, bytes) => diskCheck.observe(offset, bytes));
      let nextAdvance = 0;
      const ctx = {
        ...this.#fetchContext(run, file, size, (_job, bytes) => {
          fetched += bytes;
          checkpoint.written(bytes);
          // The hasher reads in large steps anyway: look for a longer prefix only every few MiB.
          if (fetched >= nextAdvance) {
            nextAdvance = fetched + HASH_STEP;
            hasher.advance(completePrefix(jobs));
          }
        }),
        newHash: () => api.create64(),
      };
      let peak = 0;
      let pending: Job[] = jobs;
      let digest: Digest;
      for (let repairs = 0; ; repairs++) {
        const scheduler = this.#scheduler(run, pending, o.connections, (job, signal, streaming) => fetchJob(ctx, job, signal, streaming));
        try {
          await scheduler.run();
        } finally {
          // Whatever happened, record what is on disk so the next run resumes from there.
          await checkpoint.flush();
        }
        peak = Math.max(peak, scheduler.peakConnections);
        const shifted = await checkSeams(file, jobs);
        digest = await hasher.finish(size); // reads the whole file back: the disk check rides along
        const bad = [...new Set([...shifted, ...diskCheck.bad])];
        if (bad.length === 0) break;
        if (repairs >= REPAIRS) {
          const seam = shifted.length > 0;
          throw new DownloadError(
            seam ? 'ERR_RANGE_MISMATCH' : 'ERR_INTEGRITY',
            seam
              ? `bytes at a segment seam still disagree after ${repairs} re-fetches`
              : `bytes on disk still differ from the bytes received after ${repairs} re-fetches`,
            { url: run.remote.url.href, segment: { start: bad[0]!.start, end: bad[0]!.end } },
          );
        }
        this.#warn(
          shifted.length > 0 ? 'ERR_RANGE_MISMATCH' : 'ERR_INTEGRITY',
          shifted.length > 0
            ? `bytes at a segment seam disagree: fetching ${bad.length} segment(s) again`
            : `bytes on disk differ from the bytes received: fetching ${bad.length} segment(s) again`,
        );
        for (const job of bad) {
          // Its right neighbour's seam is checked again against the new bytes.
          const right = jobs.find((j) => j.start === job.end);
          if (right !== undefined && right.seam === undefined && right.done > 0) right.seam = await readSeam(file, right.start);
          Object.assign(job, newJob({ start: job.start, end: job.end, done: 0 }));
        }
        await checkpoint.flush(); // the manifest must stop claiming the bytes just dropped
        pending = bad;
        diskCheck = new DiskCheck(jobs, api);
        hasher = await PrefixHasher.create(file, o.checksum?.algorithm, (offset, bytes) => diskCheck.observe(offset, bytes));
      }
      this.#checkDigest(digest, run);
      if (o.durability === 'power') await file.sync();
      await file.close();
      closed = true;
      crashPoint('verified');
      await publish(run.part, run.output, o.force, o.durability === 'power');
      crashPoint('published');
      await store.remove();
      return this.#finish(run, size, resumedBytes, fetched, digest, peak);
    } catch (error) {
      const code = error instanceof DownloadError ? error.code : undefined;
      // Bytes that fail verification are never trusted again, nor are those of an older version
      // of a file we are about to download again: the next run starts over.
      if (code === 'ERR_CHECKSUM_MISMATCH' || (code === 'ERR_REMOTE_CHANGED' && o.ifRemoteChanged === 'restart')) {
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

  #scheduler(run: Run, jobs: Job[], connections: number, fetch: ConstructorParameters<typeof Scheduler>[0]['fetch']): Scheduler {
    const o = this.#options;
    return new Scheduler({
      jobs,
      connections,
      minSplitSize: o.minSplitSize,
      alignment: ALIGNMENT,
      retry: o.retry,
      signal: run.signal,
      adaptive: o.adaptiveConnections,
      fetch,
      onRetry: (job, attempt, delayMs, error) =>
        this.emit('retry', { segment: { start: job.start, end: job.end }, attempt, delayMs, code: error.code, message: error.message }),
      onSplit: (_victim, piece) => this.emit('segment', { state: 'split', start: piece.start, end: piece.end }),
      onJobDone: (job) => this.emit('segment', { state: 'done', start: job.start, end: job.end }),
      ...(this.#budget === undefined ? {} : { acquire: this.#acquire(run.remote.url)! }),
    });
  }

  /** One plain GET from byte 0; nothing to resume, so no manifest. */
  async #single(run: Run): Promise<DownloadResult> {
    const o = this.#options;
    await rm(manifestPath(run.output), { force: true });
    const file = await openPart(run.part, true);
    let closed = false;
    const job = newJob({ start: 0, end: run.remote.size ?? Number.MAX_SAFE_INTEGER, done: 0 });
    let fetched = 0;
    const stopProgress = reportProgress([job], run.remote.size, 0, () => fetched, o.progressIntervalMs, (p) => this.#progress(p));
    try {
      const hasher = await PrefixHasher.create(file, o.checksum?.algorithm);
      const ctx = {
        ...this.#fetchContext(run, file, 0, (_job: Job, bytes: number) => {
          fetched += bytes;
        }),
        expected: { url: run.remote.url.href, size: run.remote.size, etag: run.remote.etag, lastModified: run.remote.lastModified },
        maxSize: o.maxSize,
      };
      const scheduler = this.#scheduler(run, [job], 1, async (j, signal) => {
        fetched -= j.done; // a retry starts over: those bytes will be fetched again
        await fetchWhole(ctx, j, signal);
      });
      await scheduler.run();
      const size = job.done;
      await file.truncate(size);
      const digest = await hasher.finish(size);
      this.#checkDigest(digest, run);
      if (o.durability === 'power') await file.sync();
      await file.close();
      closed = true;
      await publish(run.part, run.output, o.force, o.durability === 'power');
      return this.#finish(run, size, 0, fetched, digest, 1);
    } catch (error) {
      if (error instanceof DownloadError && error.code === 'ERR_CHECKSUM_MISMATCH') await rm(run.part, { force: true });
      throw error;
    } finally {
      stopProgress();
      if (!closed) await file.close();
    }
  }

  #checkDigest(digest: Digest, run: Run): void {
    const expected = this.#options.checksum;
    if (expected === undefined) return;
    const actual = digest[expected.algorithm];
    if (actual !== expected.hex) {
      throw new DownloadError('ERR_CHECKSUM_MISMATCH', `${expected.algorithm} is ${String(actual)}, expected ${expected.hex}`, { url: run.remote.url.href });
    }
  }

  #finish(run: Run, size: number, resumedBytes: number, fetched: number, digest: Digest, connectionsUsed: number): DownloadResult {
    const result: DownloadResult = {
      path: run.output,
      size,
      resumed: resumedBytes > 0,
      bytesFetched: fetched,
      digest,
      elapsedMs: Date.now() - run.startedAt,
      connectionsUsed,
    };
    this.#progress({ transferredBytes: size, totalBytes: size, resumedBytes, fetchedBytes: fetched, bytesPerSecond: 0, etaMs: 0, segments: [] });
    this.emit('done', result);
    return result;
  }

  #limited(): boolean {
    return [this.#limiter, ...this.#sharedLimiters].some((l) => l.bytesPerSecond !== Number.POSITIVE_INFINITY);
  }

  #progress(progress: Progress): void {
    this.#options.onProgress?.(progress);
    this.emit('progress', progress);
  }

  #warn(code: string, message: string): void {
    this.emit('warning', { code, message });
  }

  #restart(reason: string): void {
    this.emit('restart', { reason });
    this.#warn('ERR_RESTART', reason);
  }
}

/** Downloads `url` and resolves when the file is complete and verified at its final path. */
export function download(url: string | URL, options: DownloadOptions = {}): Promise<DownloadResult> {
  return new Download(url, options).start();
}

async function syncData(file: FileHandle): Promise<void> {
  journal('S+');
  await file.datasync();
  journal('S-');
}

function parseUrl(url: string | URL): URL {
  // The WHATWG parser silently drops CR/LF/TAB: refuse them before it can (catalogue case 50).
  if (/[\r\n\t\0]/.test(String(url))) throw new DownloadError('ERR_INVALID_OPTION', 'URL contains CR, LF, TAB or NUL');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new DownloadError('ERR_INVALID_OPTION', `invalid URL: ${String(url)}`, { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DownloadError('ERR_INVALID_OPTION', `unsupported protocol ${parsed.protocol} (http and https only)`);
  }
  return parsed;
}

function defaultName(remote: RemoteInfo, requested: URL): string {
  const suggested = filenameFromDisposition(remote.contentDisposition) ?? filenameFromUrl(remote.url) ?? filenameFromUrl(requested);
  return suggested === undefined ? 'download' : safeBaseName(suggested);
}
