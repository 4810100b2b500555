/**
 * The public entry: a Download probes its URL (and mirrors), picks the output, takes the lock,
 * and hands the transfer to the ranged or single-stream mode; it owns the events and options.
 */
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Dispatcher } from 'undici';
import { dispatcherFor } from './http/dispatchers.js';
import type { ConnectionBudget } from './schedule/connection-budget.js';
import { DownloadError, toDownloadError } from './errors.js';
import type { DownloadEvents, DownloadResult, Progress } from './events.js';
import { checkExistingOutput } from './disk/existing-output.js';
import { filenameFromDisposition, filenameFromUrl, safeBaseName } from './disk/filename.js';
import { acquireLock } from './disk/lock.js';
import { manifestPath, publicUrl } from './disk/manifest.js';
import { resolveOptions, type DownloadOptions, type ResolvedOptions } from './options.js';
import { probeRemote, type RemoteInfo } from './http/probe.js';
import { RateLimiter } from './transfer/rate-limit.js';
import { SourcePool, sourceOf, type Source } from './transfer/sources.js';
import type { TransferContext, TransferOutcome } from './transfer/transfer.js';
import { transferRanged } from './transfer/transfer-ranged.js';
import { transferSingle } from './transfer/transfer-single.js';
import { withoutCredentials } from './http/transport.js';

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
    }
  }

  async #attempt(dispatcher: Dispatcher, signal: AbortSignal): Promise<DownloadResult> {
    const o = this.#options;
    const startedAt = Date.now();
    const probe = (url: URL) => this.#probe(dispatcher, url, signal);
    const remote = await probe(this.url);
    if (remote.size !== undefined && remote.size > o.maxSize) {
      throw new DownloadError('ERR_TOO_LARGE', `file is ${remote.size} bytes, the limit is ${o.maxSize}`, { url: remote.url.href });
    }
    const output = resolve(o.directory ?? '', o.output ?? defaultName(remote, this.url));
    if (o.directory !== undefined) await mkdir(dirname(output), { recursive: true });
    const lock = await acquireLock(output);
    try {
      const primary = sourceOf(remote, this.#headersFor(remote.url), true);
      const existing = await checkExistingOutput({
        output,
        part: `${output}.part`,
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
        return this.#finish(output, startedAt, { size: existing.size, resumedBytes: existing.size, fetched: 0, digest: existing.digest, connectionsUsed: 0, verifyMs: 0 });
      }
      const ctx = this.#context(dispatcher, signal, output);
      if (remote.size !== undefined && remote.acceptsRanges) {
        const mirrors = await this.#mirrorSources(probe, remote);
        const pool = new SourcePool([primary, ...mirrors], remote.size, {
          probe,
          refreshUrl: o.refreshUrl,
          warn: (message) => this.#warn('ERR_MIRROR_DROPPED', message),
        });
        try {
          return this.#finish(output, startedAt, await transferRanged(ctx, pool, remote.size));
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
    } finally {
      await lock.release();
    }
  }

  async #probe(dispatcher: Dispatcher, url: URL, signal: AbortSignal): Promise<RemoteInfo> {
    const release = await this.#acquire(url)?.(signal);
    try {
      return await probeRemote({ dispatcher, url, headers: this.#headersFor(url), signal });
    } finally {
      release?.();
    }
  }

  /**
   * Mirrors join only if they serve the same file: same size, ranges, and the same strong ETag
   * where both have one. The others are left out with a warning, never mixed in.
   */
  async #mirrorSources(probe: (url: URL) => Promise<RemoteInfo>, remote: RemoteInfo): Promise<Source[]> {
    const probed = await Promise.allSettled(this.#mirrors.map((url) => probe(url)));
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

  #context(dispatcher: Dispatcher, signal: AbortSignal, output: string): TransferContext {
    return {
      options: this.#options,
      dispatcher,
      signal,
      manifestUrl: publicUrl(this.url),
      output,
      part: `${output}.part`,
      limiters: [this.#limiter, ...this.#sharedLimiters],
      acquire: this.#budget === undefined ? undefined : (url) => this.#acquire(url)!,
      emit: this.emit.bind(this) as TransferContext['emit'],
      progress: (p) => this.#progress(p),
      warn: (code, message) => this.#warn(code, message),
      restart: (reason) => this.#restart(reason),
    };
  }

  #finish(output: string, startedAt: number, outcome: TransferOutcome): DownloadResult {
    const result: DownloadResult = {
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

function defaultName(remote: RemoteInfo, requested: URL): string {
  const suggested = filenameFromDisposition(remote.contentDisposition) ?? filenameFromUrl(remote.url) ?? filenameFromUrl(requested);
  return suggested === undefined ? 'download' : safeBaseName(suggested);
}
