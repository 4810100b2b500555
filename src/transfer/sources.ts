/**
 * Where a download's bytes come from: the URL and its mirrors. Each attempt takes the source
 * with the best measured speed per connection (untried ones first, failing ones last); a mirror
 * that keeps failing, or that sent bytes failing a seam or disk check, is dropped for the rest of
 * the download. A source whose link expired (401/403/410) can be refreshed through the caller's
 * hook, keeping all progress, if the new link serves the same file.
 */
import { DownloadError } from '../errors.js';
import type { RemoteInfo } from '../http/first-request.js';

export interface Source {
  url: URL;
  etag: string | undefined;
  lastModified: string | undefined;
  headers: Record<string, string>;
  primary: boolean;
  /** Bytes/s per connection, smoothed over finished attempts (0 until one finishes). */
  speed: number;
  active: number;
  /** Consecutive failed attempts. */
  failures: number;
  /** Attempts in flight: their live rate counts until the first one finishes. */
  inFlight: Set<{ bytes: () => number; started: number }>;
  tried: boolean;
  dropped: boolean;
  refreshing: Promise<boolean> | undefined;
}

/** Statuses with which signed links say they expired. */
const EXPIRED_STATUSES = new Set([401, 403, 410]);
/** Consecutive failures after which a mirror is dropped (the primary never is). */
const MIRROR_FAILURES = 3;

export type RefreshUrl = (url: string, status: number) => string | URL | undefined | Promise<string | URL | undefined>;

export class SourcePool {
  readonly #sources: Source[];
  readonly #size: number;
  readonly #probe: (url: URL) => Promise<RemoteInfo>;
  readonly #refreshUrl: RefreshUrl | undefined;
  readonly #warn: (message: string) => void;

  constructor(sources: Source[], size: number, options: { probe: (url: URL) => Promise<RemoteInfo>; refreshUrl: RefreshUrl | undefined; warn: (message: string) => void }) {
    this.#sources = sources;
    this.#size = size;
    this.#probe = options.probe;
    this.#refreshUrl = options.refreshUrl;
    this.#warn = options.warn;
  }

  get usable(): Source[] {
    return this.#sources.filter((s) => !s.dropped);
  }

  /** The source for the next attempt: untried first, then the best speed per connection, failing ones last. */
  pick(): Source {
    const candidates = this.usable;
    if (candidates.length === 0) throw new DownloadError('ERR_RETRIES_EXHAUSTED', 'every source of this download failed or was dropped');
    const now = Date.now();
    const score = (s: Source) => (s.failures > 0 ? -s.failures : !s.tried ? Number.POSITIVE_INFINITY : this.#speedOf(s, now) / (s.active + 1));
    const best = candidates.reduce((a, b) => (score(b) > score(a) || (score(b) === score(a) && b.active < a.active) ? b : a));
    best.tried = true;
    return best;
  }

  /** Per-connection speed: finished attempts' average, or what the attempts in flight show. */
  #speedOf(source: Source, now: number): number {
    if (source.speed > 0) return source.speed;
    let bytes = 0;
    let seconds = 0;
    for (const attempt of source.inFlight) {
      bytes += attempt.bytes();
      seconds += (now - attempt.started) / 1000;
    }
    return seconds > 0 ? bytes / seconds : 0;
  }

  succeeded(source: Source, bytes: number, ms: number): void {
    source.failures = 0;
    if (ms <= 0 || bytes <= 0) return;
    const speed = (bytes * 1000) / ms;
    source.speed = source.speed === 0 ? speed : source.speed * 0.7 + speed * 0.3;
  }

  /** Records a failure; returns the error to hand on (a mirror's becomes a retryable drop notice). */
  failed(source: Source, error: DownloadError, retryable: boolean): DownloadError {
    source.failures++;
    if (source.primary || this.usable.length <= 1) return error;
    // A mirror that errs (not merely overloaded) is dropped at once: the others can do its work.
    const broken = !retryable || (error.status !== undefined && error.status >= 500 && error.status !== 503);
    if (broken || source.failures >= MIRROR_FAILURES) {
      this.drop(source, error.message);
      return new DownloadError('ERR_MIRROR_DROPPED', `mirror ${source.url.host} dropped: ${error.message}`, { url: source.url.href, cause: error });
    }
    return error;
  }

  drop(source: Source, reason: string): void {
    if (source.dropped || source.primary) return;
    source.dropped = true;
    this.#warn(`mirror ${source.url.href} dropped: ${reason}`);
  }

  /** Whether `error` means an expired link that the caller's hook may renew. */
  expired(error: unknown): error is DownloadError & { status: number } {
    return this.#refreshUrl !== undefined && error instanceof DownloadError && error.code === 'ERR_HTTP_STATUS' && EXPIRED_STATUSES.has(error.status ?? 0);
  }

  /** Asks the hook for a new link (once at a time per source); true when the source now uses it. */
  refresh(source: Source, status: number): Promise<boolean> {
    source.refreshing ??= this.#refresh(source, status).finally(() => {
      source.refreshing = undefined;
    });
    return source.refreshing;
  }

  async #refresh(source: Source, status: number): Promise<boolean> {
    const next = await this.#refreshUrl?.(source.url.href, status);
    if (next === undefined) return false;
    const url = new URL(next);
    const info = await this.#probe(url);
    const sameValidator = source.etag === undefined || info.etag === undefined || source.etag === info.etag;
    if (info.size !== this.#size || !info.acceptsRanges || !sameValidator) {
      this.#warn(`refreshed link for ${source.url.host} serves another file (size ${String(info.size)}): not used`);
      return false;
    }
    source.url = info.url;
    source.failures = 0;
    return true;
  }
}

/** A source from a probe; `primary` is the URL the download was asked for. */
export function sourceOf(info: RemoteInfo, headers: Record<string, string>, primary: boolean): Source {
  return {
    url: info.url,
    etag: info.etag,
    lastModified: info.lastModified,
    headers,
    primary,
    speed: 0,
    active: 0,
    failures: 0,
    inFlight: new Set(),
    tried: false,
    dropped: false,
    refreshing: undefined,
  };
}
