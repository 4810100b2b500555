/** User-facing options, their defaults, and the one place that validates them. */
import type { Dispatcher } from 'undici';
import { DownloadError } from './errors.js';
import type { Progress } from './events.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry.js';

export const HASH_ALGORITHMS = ['sha256', 'sha512', 'sha1', 'md5', 'xxh64'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

export interface DownloadOptions {
  /** Output path. @default a safe name from Content-Disposition or the URL, in the current directory */
  output?: string;
  /** Connections (and workers) for this download. @default 8 */
  connections?: number;
  /** Expected digest, `algo:hex` with algo one of sha256, sha512, sha1, md5, xxh64. */
  checksum?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  retry?: Partial<RetryOptions>;
  /** Abort a connection that received no bytes for this long, and retry its segment. @default 15000 */
  stallTimeoutMs?: number;
  /** Stops the download, saves its state and rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** An undici Dispatcher to send requests through (proxy, custom TLS, tests). @default a keep-alive Agent */
  dispatcher?: Dispatcher;
  onProgress?: (progress: Progress) => void;
  /** Overwrite a file that already exists at the output path. @default false */
  force?: boolean;
  /** Never cut a range into pieces smaller than this when planning or stealing work. @default 256 KiB */
  minSplitSize?: number;
  /** 'process' survives a killed process (no fsync); 'power' also survives power loss (fsync). @default 'process' */
  durability?: 'process' | 'power';
  /** Refuse files larger than this many bytes. @default no limit */
  maxSize?: number;
  /** Milliseconds between progress events. @default 100 */
  progressIntervalMs?: number;
}

export interface ResolvedOptions {
  output: string | undefined;
  connections: number;
  checksum: { algorithm: HashAlgorithm; hex: string } | undefined;
  headers: Record<string, string>;
  retry: RetryOptions;
  stallTimeoutMs: number;
  signal: AbortSignal | undefined;
  dispatcher: Dispatcher | undefined;
  onProgress: ((progress: Progress) => void) | undefined;
  force: boolean;
  minSplitSize: number;
  durability: 'process' | 'power';
  maxSize: number;
  progressIntervalMs: number;
}

const MAX_CONNECTIONS = 64;

function invalid(message: string): DownloadError {
  return new DownloadError('ERR_INVALID_OPTION', message);
}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`Expected \`${name}\` to be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Parses `algo:hex` into a checksum spec. */
export function parseChecksum(text: string): { algorithm: HashAlgorithm; hex: string } {
  const match = /^([a-z0-9]+)[:=]([0-9a-fA-F]+)$/.exec(text.trim());
  const algorithm = match?.[1] as HashAlgorithm | undefined;
  if (!match || algorithm === undefined || !HASH_ALGORITHMS.includes(algorithm)) {
    throw invalid(`Expected \`checksum\` as ALGO:HEX with ALGO one of ${HASH_ALGORITHMS.join(', ')}, got ${text}`);
  }
  const hex = match[2]!.toLowerCase();
  const bytes = { sha256: 32, sha512: 64, sha1: 20, md5: 16, xxh64: 8 }[algorithm];
  if (hex.length !== bytes * 2) throw invalid(`Expected a ${algorithm} digest of ${bytes * 2} hex digits, got ${hex.length}`);
  return { algorithm, hex };
}

/** Header names and values must not smuggle CR/LF into the request (catalogue case 50). */
function checkHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw invalid(`Invalid header name ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw invalid(`Header ${name} contains CR, LF or NUL`);
    const lower = name.toLowerCase();
    if (lower === 'range' || lower === 'if-range' || lower === 'accept-encoding') {
      throw invalid(`Header ${name} is managed by segdl and cannot be set`);
    }
    out[lower] = value;
  }
  return out;
}

export function resolveOptions(options: DownloadOptions = {}): ResolvedOptions {
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  integerIn('retry.attempts', retry.attempts, 0, 1000);
  integerIn('retry.minDelayMs', retry.minDelayMs, 0, 3_600_000);
  integerIn('retry.maxDelayMs', retry.maxDelayMs, retry.minDelayMs, 3_600_000);
  integerIn('retry.maxRetryAfterMs', retry.maxRetryAfterMs, 0, 86_400_000);
  const durability = options.durability ?? 'process';
  if (durability !== 'process' && durability !== 'power') throw invalid(`Expected \`durability\` to be 'process' or 'power', got ${String(durability)}`);
  if (options.output !== undefined && (typeof options.output !== 'string' || options.output === '')) {
    throw invalid('Expected `output` to be a non-empty path');
  }
  return {
    output: options.output,
    connections: integerIn('connections', options.connections ?? 8, 1, MAX_CONNECTIONS),
    checksum: options.checksum === undefined ? undefined : parseChecksum(options.checksum),
    headers: checkHeaders(options.headers ?? {}),
    retry,
    stallTimeoutMs: integerIn('stallTimeoutMs', options.stallTimeoutMs ?? 15_000, 100, 3_600_000),
    signal: options.signal,
    dispatcher: options.dispatcher,
    onProgress: options.onProgress,
    force: options.force ?? false,
    minSplitSize: integerIn('minSplitSize', options.minSplitSize ?? 256 * 1024, 4096, 2 ** 40),
    durability,
    maxSize: integerIn('maxSize', options.maxSize ?? Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER),
    progressIntervalMs: integerIn('progressIntervalMs', options.progressIntervalMs ?? 100, 0, 60_000),
  };
}
