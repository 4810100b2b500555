/**
 * The public entry: a Download probes its URL (and mirrors), picks the output, takes the lock,
 * and hands the transfer to the ranged or single-stream mode; it owns the events and options.
 */
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Dispatcher } from 'undici';
import { directPoolFor, dispatcherFor } from './http/dispatchers.js';
import type { ConnectionBudget } from './schedule/connection-budget.js';
import type { Scheduler } from './schedule/scheduler.js';
import { DownloadError, toDownloadError } from './errors.js';
import type { DownloadEvents, DownloadResult, Progress } from './events.js';
import { checkExistingOutput, confirmCurrent, type ExistingOutput } from './disk/existing-output.js';
import { filenameFromDisposition, filenameFromUrl, safeBaseName } from './disk/filename.js';
import { acquireLock, type OutputLock } from './disk/lock.js';
import { manifestPath, publicUrl } from './disk/manifest.js';
import { checkConnections, resolveOptions, type DownloadOptions, type ResolvedOptions } from './options.js';
import { FIRST_WINDOW, probeSource, requestFirst, type FirstResponse, type RemoteInfo } from './http/first-request.js';
import { readPriorState, type PriorState } from './disk/prior-state.js';
import { SEAM_BYTES } from './transfer/fetch-job.js';
import { RateLimiter } from './transfer/rate-limit.js';
import { SourcePool, sourceOf, type Source } from './transfer/sources.js';
import type { TransferContext, TransferOutcome } from './transfer/transfer.js';
import { xxhashApi, type Digest } from './verify/verify.js';
import { transferRanged } from './transfer/transfer-ranged.js';
import { transferSingle } from './transfer/transfer-single.js';
import { transferStream } from './transfer/transfer-stream.js';
import type { Writable } from 'node:stream';
import { withoutCredentials } from './http/transport.js';

/** The result's `path` when the output is a stream. */
const STREAM_PATH = '-';

export class Download extends EventEmitter<DownloadEvents> {
  readonly url: URL;
  readonly #mirrors: URL[];
  readonly #options: ResolvedOptions;
  readonly #controller = new AbortController();
  readonly #limiter: RateLimiter;
  /** Limits shared with other downloads (a queue's), set by the queue. */
  readonly #sharedLimiters: RateLimiter[] = [];
  #budget: { budget: ConnectionBudget; priority: number } | undefined;
  #running: Promise<DownloadResult> | undefined;
  /** The multi-connection scheduler at work, for live `connections` changes. */
  #scheduler: Scheduler | undefined;

  /** Validates the options at once: a bad value throws ERR_INVALID_OPTION here, not later. */
  constructor(url: string | URL, options: DownloadOptions = {}) {
    super();
    this.url = parseUrl(url);
    this.#options = resolveOptions(options);
    this.#mirrors = this.#options.mirrors.map(parseUrl);
    this.#limiter = new RateLimiter(this.#options.maxSpeed);
  }

  /** This download's bandwidth cap in bytes/s (Infinity: none). Takes effect at once, also mid-download. */
  get maxSpeed(): number {
    return this.#limiter.bytesPerSecond;
  }

  set maxSpeed(bytesPerSecond: number) {
    this.#limiter.bytesPerSecond = bytesPerSecond;
  }

  /** Connections for this download. Setting it takes effect at once: more start (taking work by stealing), fewer as running segments end. */
  get connections(): number {
    return this.#options.connections;
  }

  set connections(connections: number) {
    // Unchanged is no change: the scheduler keeps what it learned (a host's refusals).
    if (checkConnections(connections) === this.#options.connections) return;
    this.#options.connections = connections;
    this.#scheduler?.setConnections(connections);
  }

  /** @internal Counts this download's bytes against a limit shared with others (DownloadQueue). */
  shareLimiter(limiter: RateLimiter): void {
    this.#sharedLimiters.push(limiter);
  }

  /** @internal Takes a slot of a connection budget shared with others for every request (DownloadQueue). */
  shareBudget(budget: ConnectionBudget, priority: number): void {
    this.#budget = { budget, priority };
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
    const dispatcher = await dispatcherFor(o);
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
      this.#scheduler = undefined;
    }
  }

  async #attempt(dispatcher: Dispatcher, signal: AbortSignal): Promise<DownloadResult> {
    const o = this.#options;
    const startedAt = Date.now();
    // Compiled now, beside the first request: after undici's parser (also wasm) has compiled, V8
    // takes ~150 ms longer to compile another module, and the first body would wait for it.
    void xxhashApi().catch(() => {});
    if (o.stream !== undefined) return this.#stream(dispatcher, signal, o.stream, startedAt);
    // An output named by the caller is locked and looked at before anything is asked of the server.
    let held = o.output === undefined ? undefined : await this.#hold(this.#outputPath(o.output));
    try {
      if (held?.existing.kind === 'done') return this.#already(held.output, held.existing, undefined, startedAt);
      // Otherwise the server may name the file: what an earlier run left at the guessed name shapes the first request.
      const guess = held?.output ?? this.#outputPath(defaultName(undefined, this.url));
      let first = await this.#requestFirst(dispatcher, signal, await readPriorState(guess, publicUrl(this.url)));
      try {
        const output = held?.output ?? this.#outputPath(defaultName(first.remote, this.url));
        if (first.kind === 'not-modified' && output !== guess) {
          // The condition was about another file than the one the server names: ask again, plainly.
          first = await this.#requestFirst(dispatcher, signal, { kind: 'none' });
        }
        const remote = first.remote;
        this.#checkSize(remote);
        held ??= await this.#hold(output);
        let existing = held.existing;
        if (existing.kind === 'unproven') {
          existing = await confirmCurrent(output, existing.size, { size: remote.size, lastModified: remote.lastModified, notModified: first.kind === 'not-modified' });
        }
        if (existing.kind === 'done') return this.#already(output, existing, remote, startedAt);
        if (first.kind === 'not-modified') throw new DownloadError('ERR_PROTOCOL', 'server answered 304 to a request that needs the file', { url: remote.url.href });
        return await this.#transfer(dispatcher, signal, first, output, startedAt);
      } finally {
        if (first.kind === 'body') first.body.discard();
      }
    } finally {
      await held?.lock.release();
    }
  }

  /** Where a name goes: inside the download directory, if one was given. */
  #outputPath(name: string): string {
    return resolve(this.#options.directory ?? '', name);
  }

  /** Locks `output` (creating the download directory if needed) and reads what is already there. */
  async #hold(output: string): Promise<{ output: string; lock: OutputLock; existing: ExistingOutput }> {
    const o = this.#options;
    if (o.directory !== undefined) await mkdir(dirname(output), { recursive: true });
    const lock = await acquireLock(output);
    try {
      const existing = await checkExistingOutput({ output, part: `${output}.part`, manifest: manifestPath(output), force: o.force, checksum: o.checksum, url: publicUrl(this.url) });
      return { output, lock, existing };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** The file at `output` is already the one asked for: nothing to download. */
  #already(output: string, existing: { size: number; digest: Digest }, remote: RemoteInfo | undefined, startedAt: number): DownloadResult {
    this.emit('start', {
      url: publicUrl(remote?.url ?? this.url),
      path: output,
      totalBytes: existing.size,
      connections: 0,
      acceptsRanges: remote?.acceptsRanges ?? false,
    });
    return this.#finish(output, startedAt, { size: existing.size, resumedBytes: existing.size, fetched: 0, digest: existing.digest, connectionsUsed: 0, verifyMs: 0 }, true);
  }

  /** With the output locked and free: the ranged or single-stream transfer. */
  async #transfer(dispatcher: Dispatcher, signal: AbortSignal, first: FirstResponse, output: string, startedAt: number): Promise<DownloadResult> {
    const o = this.#options;
    const remote = first.remote;
    const primary = sourceOf(remote, this.#headersFor(remote.url), true);
    const ranged = remote.size !== undefined && remote.acceptsRanges;
    this.emit('start', {
      url: publicUrl(remote.url),
      path: output,
      totalBytes: remote.size,
      connections: ranged ? o.connections : 1,
      acceptsRanges: remote.acceptsRanges,
    });
    const ctx = this.#context(dispatcher, signal, output, first);
    if (ranged) {
      const pool = await this.#sourcePool(dispatcher, signal, remote, primary);
      try {
        return this.#finish(output, startedAt, await transferRanged(ctx, pool, remote.size!));
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
    return this.#finish(output, startedAt, await transferSingle(ctx, primary, remote.size));
  }

  /** The primary source and the mirrors that serve the same file, shared by the connections. */
  async #sourcePool(dispatcher: Dispatcher, signal: AbortSignal, remote: RemoteInfo, primary: Source): Promise<SourcePool> {
    const mirrors = await this.#mirrorSources(dispatcher, remote, signal);
    return new SourcePool([primary, ...mirrors], remote.size!, {
      probe: (url) => this.#probeSource(dispatcher, url, signal),
      refreshUrl: this.#options.refreshUrl,
      warn: (message) => this.#warn('ERR_MIRROR_DROPPED', message),
    });
  }

  /** Streams into a Writable: nothing on disk to lock, look at or resume. */
  /** A file larger than `maxSize` is refused before a byte of it is kept. */
  #checkSize(remote: RemoteInfo): void {
    const limit = this.#options.maxSize;
    if (remote.size !== undefined && remote.size > limit) {
      throw new DownloadError('ERR_TOO_LARGE', `file is ${remote.size} bytes, the limit is ${limit}`, { url: remote.url.href });
    }
  }

  async #stream(dispatcher: Dispatcher, signal: AbortSignal, writable: Writable, startedAt: number): Promise<DownloadResult> {
    const o = this.#options;
    const first = await this.#requestFirst(dispatcher, signal, { kind: 'none' });
    try {
      const remote = first.remote;
      this.#checkSize(remote);
      const primary = sourceOf(remote, this.#headersFor(remote.url), true);
      const ranged = remote.size !== undefined && remote.acceptsRanges;
      this.emit('start', { url: publicUrl(remote.url), path: STREAM_PATH, totalBytes: remote.size, connections: ranged ? o.connections : 1, acceptsRanges: remote.acceptsRanges });
      const ctx = this.#context(dispatcher, signal, STREAM_PATH, first);
      if (!ranged) {
        this.#warn('ERR_RANGE_UNSUPPORTED', remote.size === undefined ? 'server sent no length: streaming with one connection' : 'server ignores ranges: streaming with one connection');
        return this.#finish(STREAM_PATH, startedAt, await transferStream(ctx, writable, undefined, primary, remote.size));
      }
      const pool = await this.#sourcePool(dispatcher, signal, remote, primary);
      try {
        return this.#finish(STREAM_PATH, startedAt, await transferStream(ctx, writable, { pool, size: remote.size! }, primary, remote.size));
      } catch (error) {
        // A file on disk would go on with one connection; bytes already streamed cannot come again.
        if (!(error instanceof DownloadError && error.code === 'ERR_RANGE_UNSUPPORTED')) throw error;
        throw new DownloadError('ERR_STREAM_BROKEN', `server stopped serving ranges mid-way: ${error.message}`, { url: remote.url.href, cause: error });
      }
    } finally {
      if (first.kind === 'body') first.body.discard();
    }
  }

  /** The first request, shaped by what is on disk: the first missing range, or a conditional one for a finished file. */
  async #requestFirst(dispatcher: Dispatcher, signal: AbortSignal, prior: PriorState): Promise<FirstResponse> {
    const o = this.#options;
    if (prior.kind === 'complete') {
      // Every byte is on disk and hashed: verify and publish, nothing to ask the server.
      const { size, etag, lastModified } = prior;
      return { kind: 'known', remote: { url: this.url, size, acceptsRanges: true, etag, lastModified, contentDisposition: undefined }, firstByteMs: undefined };
    }
    let range = { first: 0, last: FIRST_WINDOW - 1 };
    let ifRange: string | undefined;
    let ifModifiedSince: string | undefined;
    if (prior.kind === 'partial') {
      // Its seam with the bytes before it comes along, as for any segment's first request.
      const first = prior.firstMissing >= SEAM_BYTES ? prior.firstMissing - SEAM_BYTES : prior.firstMissing;
      range = { first, last: Math.min(prior.missingEnd, prior.firstMissing + FIRST_WINDOW) - 1 };
      ifRange = prior.etag;
    } else if (prior.kind === 'file' && !o.force) {
      ifModifiedSince = new Date(prior.mtimeMs).toUTCString();
    }
    const release = await this.#acquire(this.url)?.(signal);
    let first: FirstResponse | undefined;
    try {
      first = await requestFirst({
        dispatcher,
        url: this.url,
        headers: this.#headersFor(this.url),
        signal,
        ...range,
        ifRange,
        ifModifiedSince,
        retry: o.retry,
        headersTimeoutMs: o.stallTimeoutMs,
        onRetry: (attempt, delayMs, error) => this.emit('retry', { segment: undefined, attempt, delayMs, code: error.code, message: error.message }),
      });
      return first;
    } finally {
      // A body still to come keeps its connection slot: the job that adopts it takes the slot over.
      if (first?.kind === 'body' && release !== undefined) first.body.holdSlot(release);
      else release?.();
    }
  }

  async #probeSource(dispatcher: Dispatcher, url: URL, signal: AbortSignal, attempts = this.#options.retry.attempts): Promise<RemoteInfo> {
    const release = await this.#acquire(url)?.(signal);
    try {
      const o = this.#options;
      return await probeSource({ dispatcher, url, headers: this.#headersFor(url), signal, retry: { ...o.retry, attempts }, headersTimeoutMs: o.stallTimeoutMs });
    } finally {
      release?.();
    }
  }

  /**
   * Mirrors join only if they serve the same file: same size, ranges, and the same strong ETag
   * where both have one. The others are left out with a warning, never mixed in.
   */
  async #mirrorSources(dispatcher: Dispatcher, remote: RemoteInfo, signal: AbortSignal): Promise<Source[]> {
    // A mirror is optional: one that fails its first request is left out, not retried.
    const probed = await Promise.allSettled(this.#mirrors.map((url) => this.#probeSource(dispatcher, url, signal, 0)));
    const sources: Source[] = [];
    probed.forEach((outcome, i) => {
      const url = this.#mirrors[i]!;
      if (outcome.status === 'rejected') {
        this.#warn('ERR_MIRROR_DROPPED', `mirror ${publicUrl(url)} left out: ${toDownloadError(outcome.reason).message}`);
        return;
      }
      const info = outcome.value;
      const differs =
        info.size !== remote.size
          ? `its size is ${String(info.size)}, not ${String(remote.size)}`
          : !info.acceptsRanges
            ? 'it does not serve ranges'
            : info.etag !== undefined && remote.etag !== undefined && info.etag !== remote.etag
              ? `its ETag ${info.etag} differs from ${remote.etag}`
              : undefined;
      if (differs === undefined) sources.push(sourceOf(info, this.#headersFor(info.url), false));
      else this.#warn('ERR_MIRROR_DROPPED', `mirror ${publicUrl(url)} left out: ${differs}`);
    });
    return sources;
  }

  /** The caller's headers, without credentials for any origin but the requested URL's. */
  #headersFor(url: URL): Record<string, string> {
    return url.origin === this.url.origin ? this.#options.headers : withoutCredentials(this.#options.headers);
  }

  #acquire(url: URL): ((signal: AbortSignal) => Promise<() => void>) | undefined {
    const shared = this.#budget;
    return shared === undefined ? undefined : (signal) => shared.budget.acquire(url.host, shared.priority, signal);
  }

  #context(dispatcher: Dispatcher, signal: AbortSignal, output: string, first: FirstResponse): TransferContext {
    return {
      first: first.kind === 'body' ? { body: first.body } : undefined,
      firstByteMs: first.firstByteMs,
      options: this.#options,
      dispatcher,
      direct: directPoolFor(this.#options),
      signal,
      manifestUrl: publicUrl(this.url),
      output,
      part: `${output}.part`,
      limiters: [this.#limiter, ...this.#sharedLimiters],
      // The first job to ask runs on the first response's connection: it gets that response's slot.
      acquire:
        this.#budget === undefined
          ? undefined
          : (url) => {
              const slot = this.#acquire(url)!;
              return async (jobSignal) => (first.kind === 'body' ? first.body.takeSlot() : undefined) ?? (await slot(jobSignal));
            },
      emit: this.emit.bind(this) as TransferContext['emit'],
      progress: (p) => this.#progress(p),
      warn: (code, message) => this.#warn(code, message),
      restart: (reason) => this.#restart(reason),
      onScheduler: (scheduler) => {
        this.#scheduler = scheduler;
      },
    };
  }

  #finish(output: string, startedAt: number, outcome: TransferOutcome, alreadyComplete = false): DownloadResult {
    const result: DownloadResult = {
      alreadyComplete,
      path: output,
      size: outcome.size,
      resumed: outcome.resumedBytes > 0,
      bytesFetched: outcome.fetched,
      digest: outcome.digest,
      elapsedMs: Date.now() - startedAt,
      connectionsUsed: outcome.connectionsUsed,
      verifyMs: Math.round(outcome.verifyMs),
    };
    this.#progress({
      transferredBytes: outcome.size,
      totalBytes: outcome.size,
      resumedBytes: outcome.resumedBytes,
      fetchedBytes: outcome.fetched,
      bytesPerSecond: 0,
      etaMs: 0,
      prefixBytes: outcome.size,
      segments: [],
    });
    this.emit('done', result);
    return result;
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

/** The server's name for the file, else the last part of the URL, else `download`; `remote` undefined: before any answer. */
function defaultName(remote: RemoteInfo | undefined, requested: URL): string {
  const suggested = filenameFromDisposition(remote?.contentDisposition) ?? (remote && filenameFromUrl(remote.url)) ?? filenameFromUrl(requested);
  return suggested === undefined ? 'download' : safeBaseName(suggested);
}
