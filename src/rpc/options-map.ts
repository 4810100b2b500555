/**
 * aria2's option names and string values, checked and turned into segdl's queue item options.
 * Values are kept as aria2 reports them (sizes in bytes, booleans as "true"/"false"). Options
 * segdl has no use for (BitTorrent, FTP, aria2's own tuning) are accepted and ignored, as aria2
 * itself ignores options it does not know.
 */
import { DEFAULT_CONNECTIONS } from '../options.js';
import type { QueueItemOptions } from '../queue.js';
import { parseSize } from '../units.js';
import { checkGid } from './gid.js';
import type { DownloadRoots } from './paths.js';
import { RpcError } from './rpc-error.js';

export type OptionSet = Record<string, string>;

/** Most connections one download may have (segdl's limit; aria2's `split` has none). */
const MAX_SPLIT = 64;

type Check = (value: string, roots: DownloadRoots) => string;

function problem(name: string): RpcError {
  return new RpcError(`We encountered a problem while processing the option '--${name}'.`);
}

const integer =
  (name: string, min: number, max: number, clamp = false): Check =>
  (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || (n > max && !clamp)) throw problem(name);
    return String(Math.min(n, max));
  };

const size =
  (name: string, min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (value) => {
    const n = parseSize(value);
    if (n === undefined || n < min || n > max) throw problem(name);
    return String(n);
  };

const boolean =
  (name: string): Check =>
  (value) => {
    if (value !== 'true' && value !== 'false') throw problem(name);
    return value;
  };

const text =
  (name: string): Check =>
  (value) => {
    if (/[\r\n\0]/.test(value)) throw problem(name);
    return value;
  };

/** aria2's `TYPE=DIGEST` names for the digests segdl computes. */
const CHECKSUM_TYPES: Record<string, string> = { 'sha-1': 'sha1', 'sha-256': 'sha256', 'sha-512': 'sha512', md5: 'md5' };

const checksum: Check = (value) => {
  const match = /^([a-z0-9-]+)=([0-9a-fA-F]+)$/.exec(value.trim());
  if (match === null || CHECKSUM_TYPES[match[1]!.toLowerCase()] === undefined) throw problem('checksum');
  return `${match[1]!.toLowerCase()}=${match[2]!.toLowerCase()}`;
};

const proxy: Check = (value) => {
  if (value === '') return value;
  let url: URL;
  try {
    url = new URL(value.includes('://') ? value : `http://${value}`);
  } catch {
    throw problem('all-proxy');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw problem('all-proxy');
  return url.href;
};

const headerLines: Check = (value) => {
  for (const line of value.split('\n')) {
    if (line !== '' && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\0]*$/.test(line)) throw problem('header');
  }
  return value;
};

/** Options a download takes (addUri, changeOption) and their defaults' home, the global set. */
const DOWNLOAD: Record<string, Check> = {
  dir: (value, roots) => roots.checkDir(value),
  out: (value, roots) => roots.checkOut(value),
  header: headerLines,
  'user-agent': text('user-agent'),
  referer: text('referer'),
  'all-proxy': proxy,
  split: integer('split', 1, MAX_SPLIT, true),
  'max-connection-per-server': integer('max-connection-per-server', 1, 16),
  'min-split-size': size('min-split-size', 4096, 1024 * 1024 * 1024),
  'max-download-limit': size('max-download-limit', 0),
  'max-tries': integer('max-tries', 0, 1000),
  checksum,
  pause: boolean('pause'),
  gid: (value) => checkGid(value),
  'allow-overwrite': boolean('allow-overwrite'),
};

/** Options that exist only globally (changeGlobalOption). */
const GLOBAL_ONLY: Record<string, Check> = {
  'max-concurrent-downloads': integer('max-concurrent-downloads', 1, 1000),
  'max-overall-download-limit': size('max-overall-download-limit', 0),
};

/** Per-download options that make no sense as global defaults. */
const NOT_GLOBAL = new Set(['out', 'gid', 'pause', 'checksum']);

export const GLOBAL_DEFAULTS: OptionSet = {
  split: String(DEFAULT_CONNECTIONS),
  'max-connection-per-server': String(DEFAULT_CONNECTIONS),
  'min-split-size': String(256 * 1024),
  'max-download-limit': '0',
  'max-tries': '5',
  'allow-overwrite': 'false',
  'max-concurrent-downloads': '5',
  'max-overall-download-limit': '0',
};

/** Values as aria2 takes them: strings, or numbers and booleans from lax clients; `header` may be a list. */
function asText(name: string, value: unknown): string {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join('\n');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw problem(name);
}

/** Checks a client's option struct for a download (`global`: for changeGlobalOption); unknown names are dropped. */
export function checkOptions(raw: unknown, roots: DownloadRoots, scope: 'download' | 'global'): OptionSet {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RpcError('The parameter at 1 has wrong type.');
  const out: OptionSet = {};
  for (const [name, value] of Object.entries(raw)) {
    const check = scope === 'global' ? (NOT_GLOBAL.has(name) ? undefined : (DOWNLOAD[name] ?? GLOBAL_ONLY[name])) : DOWNLOAD[name];
    if (check !== undefined) out[name] = check(asText(name, value), roots);
  }
  return out;
}

/** The queue item options for a download with these URIs and its effective options (global merged with its own). */
export function toItemOptions(uris: string[], o: OptionSet): QueueItemOptions {
  const options: QueueItemOptions = {};
  const headers: Record<string, string> = {};
  for (const line of (o['header'] ?? '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  if (o['user-agent'] !== undefined) headers['user-agent'] = o['user-agent'];
  // aria2's `referer=*` means "the URI itself".
  if (o['referer'] !== undefined) headers['referer'] = o['referer'] === '*' ? uris[0]! : o['referer'];
  if (Object.keys(headers).length > 0) options.headers = headers;
  if (o['dir'] !== undefined) options.directory = o['dir'];
  if (o['out'] !== undefined) options.output = o['out'];
  if (uris.length > 1) options.mirrors = uris.slice(1);
  options.connections = connectionsFor(uris, o);
  if (o['min-split-size'] !== undefined) options.minSplitSize = Number(o['min-split-size']);
  const limit = Number(o['max-download-limit'] ?? 0);
  if (limit > 0) options.maxSpeed = limit;
  if (o['max-tries'] !== undefined) options.retry = { attempts: Number(o['max-tries']) };
  if (o['checksum'] !== undefined) {
    const [type, hex] = o['checksum'].split('=') as [string, string];
    options.checksum = `${CHECKSUM_TYPES[type]!}:${hex}`;
  }
  if (o['allow-overwrite'] === 'true') options.force = true;
  if (o['pause'] === 'true') options.paused = true;
  return options;
}

/** aria2 opens at most `split` connections, and at most `max-connection-per-server` to each of its servers. */
export function connectionsFor(uris: string[], o: OptionSet): number {
  const split = Number(o['split'] ?? DEFAULT_CONNECTIONS);
  const perServer = Number(o['max-connection-per-server'] ?? DEFAULT_CONNECTIONS);
  return Math.max(1, Math.min(split, perServer * uris.length, MAX_SPLIT));
}
