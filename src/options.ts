/** User-facing options, their defaults, and the one place that validates them. */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Dispatcher } from 'undici';
import type { Writable } from 'node:stream';
import { DownloadError } from './errors.js';
import { parseProxyUrl, resolveProxySettings, type ProxySettings } from './http/proxy.js';
import type { Progress } from './events.js';
import { DEFAULT_RETRY, type RetryOptions } from './schedule/retry.js';
import type { RefreshUrl } from './transfer/sources.js';

export const HASH_ALGORITHMS = ['sha256', 'sha512', 'sha1', 'md5', 'xxh64'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

export interface DownloadOptions {
  /**
   * Output path (relative to `directory`), or a Writable to stream the file into, in order, as it
   * downloads (no .part, no manifest: a stream cannot resume; the Writable is not ended, it stays
   * the caller's). A slow Writable slows the download; memory stays at two 1 MiB buffers per
   * connection; the result's `path` is then `-`.
   * @default a safe name from Content-Disposition or the URL
   */
  output?: string | Writable;
  /**
   * Directory to save in, created if missing. `output` is then a path inside it and can never
   * leave it (no absolute path, no `..` out of it). @default the current directory
   */
  directory?: string;
  /** Connections (and workers) for this download. @default 8 */
  connections?: number;
  /** Expected digest, `algo:hex` with algo one of sha256, sha512, sha1, md5, xxh64. */
  checksum?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  retry?: Partial<RetryOptions>;
  /**
   * Stall window: a connection that delivers less than `minSpeed` bytes/s over this many ms
   * (or nothing at all) is cut and its segment retried. Also the longest wait for response headers.
   * @default 10000
   */
  stallTimeoutMs?: number;
  /** Least throughput a connection must average over the stall window (bytes/s). @default 1024 */
  minSpeed?: number;
  /** What to do when the remote file changes: start over once, or fail with ERR_REMOTE_CHANGED. @default 'restart' */
  ifRemoteChanged?: 'restart' | 'fail';
  /** Extra trusted CA certificate(s) in PEM, for servers with a private or self-signed certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * Start with a few connections and add more only while they raise the total throughput (up to
   * `connections`), instead of growing whenever all connections stream. @default false
   */
  adaptiveConnections?: boolean;
  /** More URLs of the same file; segments go to the faster ones, a failing or lying mirror is dropped. */
  mirrors?: string[];
  /**
   * Called when a link starts failing with 401/403/410 (an expired signed URL): return a new URL
   * for the same file to go on where the download was, or undefined to fail.
   */
  refreshUrl?: RefreshUrl;
  /** Bandwidth cap for this download in bytes/s, shared by all its connections; `Download.maxSpeed` changes it while running. @default no limit */
  maxSpeed?: number;
  /**
   * Refuse to connect to loopback, private and link-local addresses (judged after DNS, on the
   * connected socket), e.g. when the URL comes from an untrusted source. @default false
   */
  blockPrivateAddresses?: boolean;
  /** Stops the download, saves its state and rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * An undici Dispatcher to send requests through (custom TLS, tests, undici's `EnvHttpProxyAgent`);
   * `ca`, `proxy`, `blockPrivateAddresses` and `connectTimeoutMs` then do not apply.
   * @default the process-wide keep-alive pool for these options (shared by every download and queue)
   */
  dispatcher?: Dispatcher;
  /**
   * Proxy for every request: `http://`, `https://`, `socks5://` (names resolved here) or
   * `socks5h://` (names resolved by the proxy), with `user:password@` if it needs them; `false` for none.
   * @default from the environment as curl reads it: `http_proxy`, `HTTPS_PROXY`/`https_proxy`,
   * `ALL_PROXY`/`all_proxy`, and `NO_PROXY`/`no_proxy` for the hosts that bypass it
   */
  proxy?: string | false;
  /** Longest wait for a connection to be ready (TCP, TLS, a proxy's tunnel), in ms. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * Read http and https range bodies straight into the write buffers over segdl's own keep-alive
   * connections (the first request, proxies, redirects and odd framings always go through
   * undici). `false` sends every request through undici.
   * @default true, unless the environment says `SEGDL_RECEIVE=undici`; never with a `dispatcher` or a proxy
   */
  directReceive?: boolean;
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
  /** The Writable the download streams into, when `output` is one. */
  stream: Writable | undefined;
  directory: string | undefined;
  connections: number;
  checksum: { algorithm: HashAlgorithm; hex: string } | undefined;
  headers: Record<string, string>;
  retry: RetryOptions;
  stallTimeoutMs: number;
  minSpeed: number;
  ifRemoteChanged: 'restart' | 'fail';
  ca: string | Buffer | Array<string | Buffer> | undefined;
  blockPrivateAddresses: boolean;
  maxSpeed: number;
  adaptiveConnections: boolean;
  mirrors: string[];
  refreshUrl: RefreshUrl | undefined;
  signal: AbortSignal | undefined;
  dispatcher: Dispatcher | undefined;
  /** The proxies requests may use (the option or the environment, read once); undefined: none. */
  proxy: ProxySettings | undefined;
  connectTimeoutMs: number;
  directReceive: boolean;
  onProgress: ((progress: Progress) => void) | undefined;
  force: boolean;
  minSplitSize: number;
  durability: 'process' | 'power';
  maxSize: number;
  progressIntervalMs: number;
}

const MAX_CONNECTIONS = 64;
export const DEFAULT_CONNECTIONS = 8;

function invalid(message: string): DownloadError {
  return new DownloadError('ERR_INVALID_OPTION', message);
}

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`Expected \`${name}\` to be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** A connection count for one download, as `connections` takes it (also live: `Download.connections`). */
export function checkConnections(value: unknown): number {
  return integerIn('connections', value, 1, MAX_CONNECTIONS);
}

function checkMirrors(mirrors: unknown): string[] {
  if (mirrors === undefined) return [];
  if (!Array.isArray(mirrors) || mirrors.some((m) => typeof m !== 'string')) throw invalid('Expected `mirrors` to be an array of URL strings');
  return mirrors as string[];
}

/** A positive rate; undefined (or Infinity) is no limit. */
function positive(name: string, value: unknown): number {
  if (value === undefined) return Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) throw invalid(`Expected \`${name}\` to be a positive number of bytes per second, got ${String(value)}`);
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw invalid(`Expected \`${name}\` to be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${String(value)}`);
  return value as T;
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

function checkDirectory(directory: unknown, output: string | undefined): string | undefined {
  if (directory === undefined) return undefined;
  if (typeof directory !== 'string' || directory === '') throw invalid('Expected `directory` to be a non-empty path');
  if (output !== undefined) {
    const inside = relative(resolve(directory), resolve(directory, output));
    if (isAbsolute(output) || inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw invalid(`Expected \`output\` to be a path inside \`directory\`, got ${output}`);
    }
  }
  return directory;
}

function checkProxy(proxy: unknown, dispatcher: Dispatcher | undefined): ProxySettings | undefined {
  if (proxy !== undefined && proxy !== false && typeof proxy !== 'string') throw invalid(`Expected \`proxy\` to be a proxy URL or false, got ${String(proxy)}`);
  if (dispatcher !== undefined) {
    if (typeof proxy === 'string') throw invalid('`proxy` and `dispatcher` cannot be combined: give the proxy to your dispatcher');
    return undefined; // the caller's dispatcher decides
  }
  return resolveProxySettings(typeof proxy === 'string' ? parseProxyUrl(proxy) : proxy, process.env);
}

function isWritable(value: unknown): value is Writable {
  return typeof value === 'object' && value !== null && typeof (value as Writable).write === 'function' && typeof (value as Writable).on === 'function';
}

export function resolveOptions(options: DownloadOptions = {}): ResolvedOptions {
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  integerIn('retry.attempts', retry.attempts, 0, 1000);
  integerIn('retry.minDelayMs', retry.minDelayMs, 0, 3_600_000);
  integerIn('retry.maxDelayMs', retry.maxDelayMs, retry.minDelayMs, 3_600_000);
  integerIn('retry.maxRetryAfterMs', retry.maxRetryAfterMs, 0, 86_400_000);
  const durability = oneOf('durability', options.durability ?? 'process', ['process', 'power'] as const);
  const stream = isWritable(options.output) ? options.output : undefined;
  if (stream !== undefined) {
    // What needs a file cannot apply to a stream: say so rather than ignore it.
    if (durability === 'power') throw invalid('`durability: power` needs a file: a stream (`output` Writable, `-o -`) cannot be synced or resumed');
    if (options.directory !== undefined) throw invalid('`directory` needs a file name: the output is a stream');
  } else if (options.output !== undefined && (typeof options.output !== 'string' || options.output === '')) {
    throw invalid('Expected `output` to be a non-empty path or a Writable');
  }
  const output = stream === undefined ? (options.output as string | undefined) : undefined;
  const directory = checkDirectory(options.directory, output);
  return {
    output,
    stream,
    directory,
    connections: checkConnections(options.connections ?? DEFAULT_CONNECTIONS),
    checksum: options.checksum === undefined ? undefined : parseChecksum(options.checksum),
    headers: checkHeaders(options.headers ?? {}),
    retry,
    stallTimeoutMs: integerIn('stallTimeoutMs', options.stallTimeoutMs ?? 10_000, 100, 3_600_000),
    minSpeed: integerIn('minSpeed', options.minSpeed ?? 1024, 0, Number.MAX_SAFE_INTEGER),
    ifRemoteChanged: oneOf('ifRemoteChanged', options.ifRemoteChanged ?? 'restart', ['restart', 'fail'] as const),
    ca: options.ca,
    blockPrivateAddresses: options.blockPrivateAddresses ?? false,
    maxSpeed: positive('maxSpeed', options.maxSpeed),
    adaptiveConnections: options.adaptiveConnections ?? false,
    mirrors: checkMirrors(options.mirrors),
    refreshUrl: options.refreshUrl,
    signal: options.signal,
    dispatcher: options.dispatcher,
    proxy: checkProxy(options.proxy, options.dispatcher),
    connectTimeoutMs: integerIn('connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 1, 3_600_000),
    directReceive: options.directReceive ?? process.env['SEGDL_RECEIVE'] !== 'undici',
    onProgress: options.onProgress,
    force: options.force ?? false,
    minSplitSize: integerIn('minSplitSize', options.minSplitSize ?? 256 * 1024, 4096, 2 ** 40),
    durability,
    maxSize: integerIn('maxSize', options.maxSize ?? Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER),
    progressIntervalMs: integerIn('progressIntervalMs', options.progressIntervalMs ?? 100, 0, 60_000),
  };
}
