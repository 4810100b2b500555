/** The typed events a Download emits; the CLI's --json output uses the same shapes. */
import type { ErrorCode } from './errors.js';

export interface SegmentView {
  start: number;
  end: number;
  /** Bytes written so far (from `start`). */
  done: number;
  /** Whether a connection is working on this segment now. */
  active: boolean;
  /** Current throughput of that connection in bytes/s (0 when idle). */
  bytesPerSecond: number;
}

export interface Progress {
  /** Bytes of the file that are on disk (resumed + fetched). */
  transferredBytes: number;
  /** File size, undefined when the server did not say. */
  totalBytes: number | undefined;
  /** Bytes that were already on disk when this run started. */
  resumedBytes: number;
  /** Bytes fetched from the network by this run. */
  fetchedBytes: number;
  /** Smoothed throughput of this run. */
  bytesPerSecond: number;
  etaMs: number | undefined;
  /**
   * Bytes from the start of the file that are all on disk: a reader (a media player, an extractor)
   * may read the `.part` this far. Pieces are handed out in file order, so this grows steadily.
   */
  prefixBytes: number;
  segments: SegmentView[];
}

export interface DownloadResult {
  path: string;
  /** The file at `path` was already the remote's current file: nothing was downloaded. */
  alreadyComplete: boolean;
  size: number;
  /** Whether this run continued a previous one. */
  resumed: boolean;
  /** Bytes received from the network in this run. */
  bytesFetched: number;
  /**
   * `xxh64blocks`: segdl's digest of the file (an xxh64 of its 1 MiB blocks' xxh64s and its size,
   * see `hashFile`), always; plus the standard digest named by `checksum`, when one was given.
   */
  digest: { xxh64blocks: string } & Partial<Record<'sha256' | 'sha512' | 'sha1' | 'md5' | 'xxh64', string>>;
  elapsedMs: number;
  connectionsUsed: number;
  /** Time from the last byte on disk to a verified file: the part of verification the download could not hide. */
  verifyMs: number;
}

export interface StartInfo {
  /** The URL that answers (after redirects), without credentials. */
  url: string;
  path: string;
  totalBytes: number | undefined;
  /** Connections allowed for this download (it may use fewer, see `done`). */
  connections: number;
  acceptsRanges: boolean;
}

export interface DownloadEvents {
  /** The remote was probed and the output path chosen. */
  start: [StartInfo];
  /** Throttled (at most every `progressIntervalMs`). */
  progress: [Progress];
  /** A segment started, finished or was split off another one. */
  segment: [{ state: 'start' | 'done' | 'split'; start: number; end: number }];
  retry: [{ segment: { start: number; end: number } | undefined; attempt: number; delayMs: number; code: ErrorCode; message: string }];
  resume: [{ resumedBytes: number; totalBytes: number }];
  restart: [{ reason: string }];
  warning: [{ code: string; message: string }];
  done: [DownloadResult];
}
