/**
 * segdl's error codes as aria2's exit/error codes (aria2 manual, "EXIT STATUS"), so clients show
 * the message they know: 3 not found, 6 network, 9 no space, 13 file exists, 22 bad response,
 * 24 auth, 29 overloaded, 32 checksum, and so on.
 */
import { DownloadError, type ErrorCode } from '../errors.js';

const BY_CODE: Partial<Record<ErrorCode, number>> = {
  ERR_RANGE_MISMATCH: 22,
  ERR_PROTOCOL: 22,
  ERR_REMOTE_CHANGED: 22,
  ERR_RANGE_UNSUPPORTED: 8,
  ERR_INCOMPLETE: 6,
  ERR_NETWORK: 6,
  ERR_BLOCKED_ADDRESS: 6,
  ERR_TLS: 1,
  ERR_STALLED: 2,
  ERR_INTEGRITY: 32,
  ERR_CHECKSUM_MISMATCH: 32,
  ERR_LOCKED: 11,
  ERR_TARGET_EXISTS: 13,
  ERR_DISK_FULL: 9,
  ERR_IO: 17,
  ERR_OUTPUT_CLOSED: 17,
  ERR_STREAM_BROKEN: 22,
  ERR_TOO_LARGE: 1,
  ERR_INVALID_OPTION: 28,
  ERR_UNSAFE_FILENAME: 16,
  ERR_MIRROR_DROPPED: 6,
  ERR_ABORTED: 31,
};

function byStatus(status: number | undefined): number {
  if (status === 404 || status === 410) return 3;
  if (status === 401 || status === 403 || status === 407) return 24;
  if (status === 429 || status === 503) return 29;
  return 22;
}

/** aria2's errorCode for a failure (1, "unknown error", for anything that is not a DownloadError). */
export function aria2ErrorCode(error: unknown): number {
  if (!(error instanceof DownloadError)) return 1;
  // A spent retry budget is reported by what kept failing.
  if (error.code === 'ERR_RETRIES_EXHAUSTED') return error.cause === undefined ? 1 : aria2ErrorCode(error.cause);
  if (error.code === 'ERR_HTTP_STATUS') return byStatus(error.status);
  if (error.code === 'ERR_NETWORK' && (error.cause as { code?: unknown } | undefined)?.code === 'ENOTFOUND') return 19;
  return BY_CODE[error.code] ?? 1;
}
