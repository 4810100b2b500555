/**
 * aria2's input-file format (`aria2c -i`), so existing lists work unchanged: one download per
 * line, several URIs on a line separated by TABs are mirrors of one file, `#` starts a comment,
 * and indented `name=value` lines set options for the download above them. A line that cannot be
 * read is a usage error naming its line, before anything is downloaded.
 */
import { parseChecksum, type DownloadOptions } from '../options.js';
import { parseSize } from '../units.js';
import { parseHeader, UsageError } from './args.js';

export interface InputEntry {
  /** 1-based line of the URI line. */
  line: number;
  url: string;
  mirrors: string[];
  /** The entry's own options (they win over the command line's). */
  options: DownloadOptions;
  /** `dir=`: where this file goes (relative to `-d`). */
  dir: string | undefined;
}

type OptionSetter = (entry: InputEntry, value: string, fail: (message: string) => never) => void;

const BOOLEAN: Record<string, boolean> = { true: true, false: false };

/** aria2's spelling of hash types (`sha-256`) to segdl's (`sha256`). */
const HASH_TYPES: Record<string, string> = { 'sha-1': 'sha1', 'sha-256': 'sha256', 'sha-512': 'sha512', md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha512: 'sha512', xxh64: 'xxh64' };

const OPTIONS: Record<string, OptionSetter> = {
  out: (entry, value, fail) => {
    if (value === '') return fail('out= needs a file name');
    entry.options.output = value;
  },
  dir: (entry, value, fail) => {
    if (value === '') return fail('dir= needs a directory');
    entry.dir = value;
  },
  checksum: (entry, value, fail) => {
    const match = /^([a-z0-9-]+)[=:]([0-9a-f]+)$/i.exec(value);
    const algorithm = match ? HASH_TYPES[match[1]!.toLowerCase()] : undefined;
    if (!match || algorithm === undefined) return fail(`checksum= expects TYPE=DIGEST with TYPE sha-1, sha-256, sha-512 or md5, got ${value}`);
    try {
      parseChecksum(`${algorithm}:${match[2]}`);
    } catch (error) {
      return fail((error as Error).message);
    }
    entry.options.checksum = `${algorithm}:${match[2]}`;
  },
  header: (entry, value) => {
    const [name, text] = parseHeader(value);
    entry.options.headers = { ...entry.options.headers, [name]: text };
  },
  'user-agent': (entry, value) => {
    entry.options.headers = { ...entry.options.headers, 'user-agent': value };
  },
  referer: (entry, value) => {
    entry.options.headers = { ...entry.options.headers, referer: value };
  },
  'max-download-limit': (entry, value, fail) => {
    const rate = parseSize(value);
    if (rate === undefined) return fail(`max-download-limit= expects a rate like 500K or 2M, got ${value}`);
    // aria2: 0 means no limit.
    if (rate > 0) entry.options.maxSpeed = rate;
  },
  split: (entry, value, fail) => {
    if (!/^\d+$/.test(value)) return fail(`split= expects a whole number of connections, got ${value}`);
    entry.options.connections = Number(value);
  },
  'allow-overwrite': (entry, value, fail) => {
    const flag = BOOLEAN[value];
    if (flag === undefined) return fail(`allow-overwrite= expects true or false, got ${value}`);
    entry.options.force = flag;
  },
  // segdl always continues a download it has state for; accepted so aria2 lists need no edit.
  continue: (_entry, value, fail) => {
    if (BOOLEAN[value] === undefined) return fail(`continue= expects true or false, got ${value}`);
  },
};

export function parseInputFile(text: string, source: string): InputEntry[] {
  const entries: InputEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const fail = (message: string): never => {
      throw new UsageError(`${source}:${line}: ${message}`);
    };
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    if (/^[ \t]/.test(raw)) {
      const current = entries.at(-1) ?? fail('an option line must follow a URI line');
      const option = raw.trim();
      const eq = option.indexOf('=');
      if (eq <= 0) return fail(`expected an option as name=value, got ${JSON.stringify(option)}`);
      const name = option.slice(0, eq).trim();
      const setter = OPTIONS[name] ?? fail(`unknown option ${name} (segdl reads ${Object.keys(OPTIONS).join(', ')})`);
      try {
        setter(current, option.slice(eq + 1).trim(), fail);
      } catch (error) {
        if (error instanceof UsageError && !error.message.startsWith(`${source}:`)) return fail(error.message);
        throw error;
      }
      return;
    }
    const urls = raw.split('\t').map((u) => u.trim()).filter((u) => u !== '');
    for (const url of urls) checkUrl(url, fail);
    entries.push({ line, url: urls[0]!, mirrors: urls.slice(1), options: {}, dir: undefined });
  });
  if (entries.length === 0) throw new UsageError(`${source}: no URIs in the input file`);
  return entries;
}

function checkUrl(text: string, fail: (message: string) => never): void {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    fail(`not a URL: ${text}`);
  }
  if (url!.protocol !== 'http:' && url!.protocol !== 'https:') return fail(`only http and https URLs can be downloaded, got ${text}`);
}
