/** Command-line parsing with node:util parseArgs: one table of options, one usage text. */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { DownloadOptions } from '../options.js';
import { parseSize } from '../units.js';

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

export const USAGE = `Usage:
  segdl <url> [options]              download a file with many connections, resumably
  segdl serve <file|dir> [options]   run a local range server (with fault injection)
  segdl daemon [options]             serve aria2's JSON-RPC for aria2 clients (see daemon --help)

Download options:
  -o, --output FILE        where to save (default: name from the server or the URL,
                           or "download" when neither names a file: a URL ending in /)
  -c, --connections N      connections to use, 1-64 (default 8)
      --checksum ALGO:HEX  verify against sha256/sha512/sha1/md5/xxh64 before the final rename
  -H, --header "K: V"      extra request header (repeatable)
      --retries N          retries per segment after a failure (default 5)
      --stall-timeout MS   restart a connection slower than --min-speed over MS (default 10000)
      --min-speed RATE     least bytes/s a connection must average (default 1K)
      --max-speed RATE     cap the whole download at RATE bytes/s, e.g. 5M
      --mirror URL         another URL of the same file (repeatable)
      --adaptive           add connections only while they raise throughput
      --block-private      refuse loopback/private/link-local addresses (after DNS)
      --ca FILE            trust this PEM certificate (self-signed or private CA)
      --fail-if-changed    fail with ERR_REMOTE_CHANGED instead of starting over
      --min-split SIZE     smallest piece to split off (default 256K)
      --durability MODE    process (default) or power (fsync every checkpoint)
      --max-size SIZE      refuse files larger than SIZE
  -f, --force              overwrite an existing file at the output path
  -q, --quiet              print errors only
      --json               print one JSON object per event, then the result
      --debug              print stack traces on errors
  -h, --help               show this help
  -v, --version            print the version

Exit codes: 0 done and verified, 1 failed, 2 usage error, 3 checksum mismatch,
            130 interrupted (SIGINT), 143 terminated (SIGTERM); the next run resumes.

Sizes and rates take K, M, G, T suffixes (binary: 1.5G = 1.5 × 2^30).

Examples:
  segdl https://example.com/big.iso                          # 8 connections, name from the server
  segdl -c 16 -o disk.img --checksum sha256:<hex> URL        # verified before it gets its name
  segdl URL                                                  # again after Ctrl-C, kill -9, a crash: resumes
  segdl -H "Authorization: Bearer $TOKEN" --max-speed 20M URL
  segdl --mirror https://mirror2.example/big.iso URL         # mix two servers, drop a bad one
  segdl --json URL | jq -c 'select(.event == "result")'      # machine-readable events
  segdl serve ./files --rate 8M --slow-every 4 --slow-rate 1M   # a local test server with stragglers
`;

export interface DownloadCommand {
  kind: 'download';
  url: string;
  options: DownloadOptions;
  quiet: boolean;
  json: boolean;
  debug: boolean;
}

export type Command = DownloadCommand | { kind: 'help' } | { kind: 'version' } | { kind: 'serve' | 'daemon'; argv: string[] };

function sizeOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = parseSize(text);
  if (value === undefined) throw new UsageError(`--${name} expects a size like 500K, 10M or 1.5G, got ${text}`);
  return value;
}

function intOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} expects a whole number, got ${text}`);
  return Number(text);
}

function readCa(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`--ca: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new UsageError(`--header expects "Name: value", got ${text}`);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}

export function parseCommand(argv: string[]): Command {
  if (argv[0] === 'serve' || argv[0] === 'daemon') return { kind: argv[0], argv: argv.slice(1) };
  const { values, positionals } = parseOrUsage(argv, {
    output: { type: 'string', short: 'o' },
    connections: { type: 'string', short: 'c' },
    checksum: { type: 'string' },
    header: { type: 'string', short: 'H', multiple: true },
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
  });
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing URL' : `expected one URL, got ${positionals.length}`);
  const options: DownloadOptions = {};
  if (values.output !== undefined) options.output = values.output;
  const connections = intOption('connections', values.connections);
  if (connections !== undefined) options.connections = connections;
  if (values.checksum !== undefined) options.checksum = values.checksum;
  if (values.header !== undefined) options.headers = Object.fromEntries(values.header.map(parseHeader));
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
  return { kind: 'download', url: positionals[0]!, options, quiet: values.quiet ?? false, json: values.json ?? false, debug: values.debug ?? false };
}
