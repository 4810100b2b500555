/** Command-line parsing with node:util parseArgs: one table of options; the usage text is in usage.ts. */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { DownloadOptions } from '../options.js';
import { parseSize } from '../units.js';
import { version } from './version.js';

/** parseArgs with positionals, its complaints turned into usage errors (exit 2). */
export function parseOrUsage<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: T }>> {
  try {
    return parseArgs({ args, allowPositionals: true, options });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'ERR_USAGE';
}

export interface DownloadCommand {
  kind: 'download';
  /** URLs given as arguments. */
  urls: string[];
  /** `-i`: a list in aria2's format (`-` for stdin). */
  inputFile: string | undefined;
  /** Options for every download (an input file's lines add their own). */
  options: DownloadOptions;
  /** Many files: several URLs, or an input file. */
  batch: boolean;
  dir: string | undefined;
  jobs: number;
  maxConnections: number;
  checksumFile: string | undefined;
  /** The .netrc to read (`--netrc`: ~/.netrc). */
  netrcFile: string | undefined;
  quiet: boolean;
  json: boolean;
  debug: boolean;
}

export type Command = DownloadCommand | { kind: 'help' } | { kind: 'version' } | { kind: 'serve' | 'daemon' | 'hash'; argv: string[] };

function sizeOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = parseSize(text);
  if (value === undefined) throw new UsageError(`--${name} expects a size like 500K, 10M or 1.5G, got ${text}`);
  return value;
}

function intOption(name: string, text: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} expects a whole number, got ${text}`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`--${name} expects a number from ${min} to ${max}, got ${text}`);
  return value;
}

function secondsOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) throw new UsageError(`--${name} expects seconds (like 5 or 0.5), got ${text}`);
  return Math.max(1, Math.round(Number(text) * 1000));
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`--ca: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new UsageError(`--header expects "Name: value", got ${text}`);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}

const OPTIONS = {
  output: { type: 'string', short: 'o' },
  dir: { type: 'string', short: 'd' },
  'input-file': { type: 'string', short: 'i' },
  jobs: { type: 'string', short: 'j' },
  'max-connections': { type: 'string' },
  connections: { type: 'string', short: 'c' },
  checksum: { type: 'string' },
  'checksum-file': { type: 'string' },
  header: { type: 'string', short: 'H', multiple: true },
  'user-agent': { type: 'string', short: 'U' },
  netrc: { type: 'boolean' },
  'netrc-file': { type: 'string' },
  proxy: { type: 'string' },
  'no-proxy': { type: 'boolean' },
  'connect-timeout': { type: 'string' },
  retries: { type: 'string' },
  'stall-timeout': { type: 'string' },
  'min-speed': { type: 'string' },
  'max-speed': { type: 'string' },
  mirror: { type: 'string', multiple: true },
  adaptive: { type: 'boolean' },
  'block-private': { type: 'boolean' },
  ca: { type: 'string' },
  'fail-if-changed': { type: 'boolean' },
  'min-split': { type: 'string' },
  durability: { type: 'string' },
  'max-size': { type: 'string' },
  force: { type: 'boolean', short: 'f' },
  quiet: { type: 'boolean', short: 'q' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type Values = ReturnType<typeof parseOrUsage<typeof OPTIONS>>['values'];

export function parseCommand(argv: string[]): Command {
  if (argv[0] === 'serve' || argv[0] === 'daemon' || argv[0] === 'hash') return { kind: argv[0], argv: argv.slice(1) };
  const { values, positionals } = parseOrUsage(argv, OPTIONS);
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const inputFile = values['input-file'];
  if (positionals.length === 0 && inputFile === undefined) throw new UsageError('missing URL (or -i FILE)');
  const batch = positionals.length > 1 || inputFile !== undefined;
  checkCombinations(values, batch);
  return {
    kind: 'download',
    urls: positionals,
    inputFile,
    options: downloadOptions(values),
    batch,
    dir: values.dir,
    jobs: intOption('jobs', values.jobs, 1, 64) ?? 5,
    maxConnections: intOption('max-connections', values['max-connections'], 1, 1024) ?? 16,
    checksumFile: values['checksum-file'],
    netrcFile: values['netrc-file'] ?? (values.netrc ? join(homedir(), '.netrc') : undefined),
    quiet: values.quiet ?? false,
    json: values.json ?? false,
    debug: values.debug ?? false,
  };
}

function checkCombinations(values: Values, batch: boolean): void {
  if (values.output === '-') {
    // Stdout is a stream: nothing that needs a file (or stdout itself) goes with it.
    if (batch) throw new UsageError('-o - streams one file to stdout; for many, use -d DIR');
    if (values.durability === 'power') throw new UsageError('-o - streams to stdout: --durability power needs a file (a stream cannot be synced or resumed)');
    if (values.json) throw new UsageError('-o - writes the file to stdout: --json would mix with it (progress goes to stderr; -q for none)');
    if (values.dir !== undefined) throw new UsageError('-o - streams to stdout: --dir needs a file name');
  }
  if (values.dir === '') throw new UsageError('--dir needs a directory');
  if (batch && values.output !== undefined) throw new UsageError('-o names one file; for many, use -d DIR (and out= lines in an input file)');
  if (batch && values.checksum !== undefined) throw new UsageError('--checksum is for one file; for many, use --checksum-file or checksum= lines in an input file');
  if (batch && values.mirror !== undefined) throw new UsageError('--mirror is for one file; for many, put mirrors on the URL line of an input file, separated by a TAB');
  if (values.checksum !== undefined && values['checksum-file'] !== undefined) throw new UsageError('give --checksum or --checksum-file, not both');
  if (values.proxy !== undefined && values['no-proxy']) throw new UsageError('give --proxy or --no-proxy, not both');
}

function downloadOptions(values: Values): DownloadOptions {
  const options: DownloadOptions = {};
  if (values.output !== undefined) options.output = values.output;
  if (values.dir !== undefined) options.directory = values.dir;
  const connections = intOption('connections', values.connections);
  if (connections !== undefined) options.connections = connections;
  if (values.checksum !== undefined) options.checksum = values.checksum;
  // The default User-Agent, then -U, then an explicit -H User-Agent.
  const headers: Record<string, string> = { 'user-agent': values['user-agent'] ?? `segdl/${version()}` };
  for (const [name, value] of (values.header ?? []).map(parseHeader)) {
    if (name.toLowerCase() === 'user-agent') delete headers['user-agent'];
    headers[name] = value;
  }
  options.headers = headers;
  if (values.proxy !== undefined) options.proxy = values.proxy;
  if (values['no-proxy']) options.proxy = false;
  const connectTimeout = secondsOption('connect-timeout', values['connect-timeout']);
  if (connectTimeout !== undefined) options.connectTimeoutMs = connectTimeout;
  const retries = intOption('retries', values.retries);
  if (retries !== undefined) options.retry = { attempts: retries };
  const stall = intOption('stall-timeout', values['stall-timeout']);
  if (stall !== undefined) options.stallTimeoutMs = stall;
  const minSpeed = sizeOption('min-speed', values['min-speed']);
  if (minSpeed !== undefined) options.minSpeed = minSpeed;
  const maxSpeed = sizeOption('max-speed', values['max-speed']);
  if (maxSpeed !== undefined) options.maxSpeed = maxSpeed;
  if (values.mirror !== undefined) options.mirrors = values.mirror;
  if (values.adaptive) options.adaptiveConnections = true;
  if (values['block-private']) options.blockPrivateAddresses = true;
  if (values.ca !== undefined) options.ca = readCa(values.ca);
  if (values['fail-if-changed']) options.ifRemoteChanged = 'fail';
  const minSplit = sizeOption('min-split', values['min-split']);
  if (minSplit !== undefined) options.minSplitSize = minSplit;
  const maxSize = sizeOption('max-size', values['max-size']);
  if (maxSize !== undefined) options.maxSize = maxSize;
  if (values.durability !== undefined) {
    if (values.durability !== 'process' && values.durability !== 'power') throw new UsageError(`--durability expects process or power, got ${values.durability}`);
    options.durability = values.durability;
  }
  if (values.force) options.force = true;
  return options;
}
