/**
 * Every failure segdl reports is a DownloadError with a stable `code`. Callers (and the retry
 * policy) match on codes, never on message text.
 */
export type ErrorCode =
  /** An HTTP status the engine cannot use (4xx other than 408/429, or 5xx after retries). */
  | 'ERR_HTTP_STATUS'
  /** A 206 whose Content-Range/Content-Length does not match what was asked. */
  | 'ERR_RANGE_MISMATCH'
  /** A malformed or contradictory response (bad Content-Range, multipart, encoding). */
  | 'ERR_PROTOCOL'
  /** The server answered a ranged request with the full body (no range support mid-way). */
  | 'ERR_RANGE_UNSUPPORTED'
  /** The remote file changed (size or strong validator) since the download started. */
  | 'ERR_REMOTE_CHANGED'
  /** The connection ended before the body did. */
  | 'ERR_INCOMPLETE'
  /** A network-level failure (reset, refused, DNS). */
  | 'ERR_NETWORK'
  /** The host resolved to a private, loopback or link-local address while those are blocked. */
  | 'ERR_BLOCKED_ADDRESS'
  /**
   * The proxy could not be used: unreachable, it refused or dropped the CONNECT tunnel, it asked
   * for credentials (407), or it did not answer within the connect timeout. Never retried: a
   * proxy that refuses now refuses the next try too (and undici's own ProxyAgent spins on it).
   */
  | 'ERR_PROXY'
  /** The server's certificate was refused (self-signed, expired, wrong host): never retried, never bypassed. */
  | 'ERR_TLS'
  /** No bytes (or too few) arrived within the stall window. */
  | 'ERR_STALLED'
  /** A segment or the download used up its retry budget; `cause` is the last failure. */
  | 'ERR_RETRIES_EXHAUSTED'
  /** Bytes on disk differ from the bytes received (torn or tampered .part) and re-fetching did not fix it. */
  | 'ERR_INTEGRITY'
  /** The verified digest differs from the expected one. */
  | 'ERR_CHECKSUM_MISMATCH'
  /** Another process holds the lock on this output. */
  | 'ERR_LOCKED'
  /** A file exists at the final path and overwriting was not allowed. */
  | 'ERR_TARGET_EXISTS'
  /** ENOSPC / EFBIG while writing or from the free-space check. */
  | 'ERR_DISK_FULL'
  /** Any other file-system failure. */
  | 'ERR_IO'
  /** The stream the download writes to (`-o -`, a Writable output) closed or failed: its reader went away. */
  | 'ERR_OUTPUT_CLOSED'
  /**
   * A download streamed to an output cannot go on: bytes already handed on would have to come
   * again (the server lost range support, a seam disagreed after its bytes were written out).
   */
  | 'ERR_STREAM_BROKEN'
  /** The file is larger than `maxSize`. */
  | 'ERR_TOO_LARGE'
  /** A bad option or argument. */
  | 'ERR_INVALID_OPTION'
  /** A server-supplied file name that cannot be made safe. */
  | 'ERR_UNSAFE_FILENAME'
  /** A mirror failed or lied and was dropped; the segment is retried from another source. */
  | 'ERR_MIRROR_DROPPED'
  /** The caller aborted. */
  | 'ERR_ABORTED';

export interface DownloadErrorContext {
  url?: string | undefined;
  /** The segment's byte range [start, end) when the failure belongs to one segment. */
  segment?: { start: number; end: number } | undefined;
  status?: number | undefined;
  /** Milliseconds the server asked us to wait (Retry-After). */
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

export class DownloadError extends Error {
  override readonly name: string = 'DownloadError';
  readonly code: ErrorCode;
  readonly url: string | undefined;
  readonly segment: { start: number; end: number } | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, context: DownloadErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.code = code;
    this.url = context.url;
    this.segment = context.segment;
    this.status = context.status;
    this.retryAfterMs = context.retryAfterMs;
  }
}

const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_NETWORK',
  'ERR_MIRROR_DROPPED',
  'ERR_INCOMPLETE',
  'ERR_STALLED',
  // A shifted or short range from a flaky proxy is worth one more try; the budget bounds it.
  'ERR_RANGE_MISMATCH',
]);

/**
 * Statuses that mean "try again later", per RFC 9110 and common CDN practice. 404 is among them
 * because it only reaches the retry policy mid-download (a missing file fails at the probe): an
 * edge that briefly loses the object must not cost the download (curl t3035), and a persistent
 * 404 still fails once the segment's retry budget is spent.
 */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([404, 408, 425, 429, 500, 502, 503, 504]);

/** Whether a failure may succeed when the same request is repeated. Decided from codes only. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof DownloadError)) return false;
  if (error.code === 'ERR_HTTP_STATUS') return error.status !== undefined && RETRYABLE_STATUSES.has(error.status);
  return RETRYABLE_CODES.has(error.code);
}

/** Maps a Node/undici low-level error to a DownloadError, keeping it as `cause`. */
export function toDownloadError(error: unknown, url?: string): DownloadError {
  if (error instanceof DownloadError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC' || code === 'EFBIG') {
    return new DownloadError('ERR_DISK_FULL', `disk full while writing (${code}): free some space and run the same command again to resume`, { url, cause: error });
  }
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && isFsCode(code)) {
    return new DownloadError('ERR_IO', `file system error ${code}`, { url, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  // undici's parser refusing the framing (bad chunk sizes, conflicting or malformed Content-Length):
  // the server is broken, and asking again will not help.
  if ((typeof code === 'string' && (code.startsWith('HPE_') || code === 'UND_ERR_HEADERS_OVERFLOW')) || (error as Error | null)?.name === 'HTTPParserError') {
    return new DownloadError('ERR_PROTOCOL', `malformed response: ${message}`, { url, cause: error });
  }
  // The connection closed before the body reached its announced length.
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return new DownloadError('ERR_INCOMPLETE', `response ended early: ${message}`, { url, cause: error });
  }
  if (typeof code === 'string' && TLS_CODE.test(code)) {
    return new DownloadError('ERR_TLS', `TLS certificate problem (${code}): ${message}`, { url, cause: error });
  }
  return new DownloadError('ERR_NETWORK', `network error: ${message}`, { url, cause: error });
}

/** Node's and OpenSSL's certificate failure codes. */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|ERR_SSL|ERR_TLS/;

const FS_CODES = new Set(['EACCES', 'EPERM', 'EIO', 'EROFS', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOENT', 'EBADF', 'EMFILE', 'ENFILE', 'ELOOP']);
function isFsCode(code: string): boolean {
  return FS_CODES.has(code);
}
