/**
 * Turns the command line into the downloads to run: URLs and input-file entries, each with its
 * options (the entry's own over the command line's), netrc credentials for its host and its
 * checksum-file entry. Everything is read and checked here, before the first byte is fetched,
 * so a bad line or a missing entry stops the command with exit 2 and nothing on disk.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { Download } from '../download.js';
import { DownloadError } from '../errors.js';
import { dispatcherFor } from '../http/dispatchers.js';
import { filenameFromUrl, safeBaseName } from '../disk/filename.js';
import { resolveOptions, type DownloadOptions } from '../options.js';
import { UsageError, type DownloadCommand } from './args.js';
import { fetchText, isUrl, readLocalText } from './fetch-text.js';
import type { InputEntry } from './input-file.js';

// Loaded only by a command that uses them.
type NetrcModule = typeof import('./netrc.js');
type ChecksumModule = typeof import('./checksum-file.js');
interface Netrc {
  lib: NetrcModule;
  entries: ReturnType<NetrcModule['parseNetrc']>;
}
interface Checksums {
  lib: ChecksumModule;
  entries: ReturnType<ChecksumModule['parseChecksumFile']>;
  source: string;
}

export interface Job {
  url: string;
  options: DownloadOptions;
  /** Where the job came from, for messages: `urls.txt:3` or `argument 2`. */
  origin: string;
}

export async function prepareJobs(command: DownloadCommand): Promise<Job[]> {
  const entries: Array<InputEntry & { origin: string }> = command.urls.map((url, i) => ({ line: 0, url, mirrors: [], options: {}, dir: undefined, origin: `argument ${i + 1}` }));
  if (command.inputFile !== undefined) {
    const { parseInputFile } = await import('./input-file.js');
    const source = command.inputFile === '-' ? 'stdin' : command.inputFile;
    for (const entry of parseInputFile(await readLocalText(command.inputFile, '-i'), source)) entries.push({ ...entry, origin: `${source}:${entry.line}` });
  }
  const netrc = command.netrcFile === undefined ? undefined : await readNetrc(command.netrcFile);
  const checksums = command.checksumFile === undefined ? undefined : await readChecksums(command, netrc);
  const root = command.dir ?? '.';
  return entries.map((entry) => {
    const { origin } = entry;
    try {
      const options: DownloadOptions = { ...command.options, ...entry.options, headers: { ...command.options.headers, ...entry.options.headers } };
      if (entry.mirrors.length > 0) options.mirrors = entry.mirrors;
      // In a batch every file lands inside the directory (-d, or the current one): names from lists and servers never leave it.
      if (command.batch) options.directory = entry.dir === undefined ? root : inside(root, entry.dir);
      if (netrc !== undefined) addNetrcAuthorization(options, entry.url, netrc);
      if (checksums !== undefined && options.checksum === undefined) options.checksum = checksumOf(checksums, entry.url, options);
      if (command.batch) new Download(entry.url, options); // a bad URL or value stops the batch before it starts
      return { url: entry.url, options, origin };
    } catch (error) {
      if (command.batch && (error instanceof UsageError || (error instanceof DownloadError && error.code === 'ERR_INVALID_OPTION'))) throw new UsageError(`${origin}: ${error.message}`);
      throw error;
    }
  });
}

function inside(root: string, dir: string): string {
  const path = resolve(root, dir);
  const rel = relative(resolve(root), path);
  if (isAbsolute(dir) || rel === '..' || rel.startsWith(`..${sep}`)) throw new UsageError(`dir=${dir} is outside ${root === '.' ? 'the current directory' : root}: a list can only name directories inside it`);
  return path;
}

async function readNetrc(path: string): Promise<Netrc> {
  const lib = await import('./netrc.js');
  return { lib, entries: lib.parseNetrc(await readLocalText(path, '--netrc'), path) };
}

function addNetrcAuthorization(options: DownloadOptions, url: string, netrc: Netrc): void {
  const headers = options.headers ?? {};
  if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) return; // -H wins, as -u does in curl
  const target = new URL(url);
  const entry = netrc.lib.netrcFor(netrc.entries, target.hostname, target.username === '' ? undefined : decodeURIComponent(target.username));
  if (entry !== undefined) options.headers = { ...headers, authorization: netrc.lib.basicAuthorization(entry) };
}

async function readChecksums(command: DownloadCommand, netrc: Netrc | undefined): Promise<Checksums> {
  const lib = await import('./checksum-file.js');
  const source = command.checksumFile!;
  if (!isUrl(source)) return { lib, source, entries: lib.parseChecksumFile(await readLocalText(source, '--checksum-file'), source) };
  // Fetched like the downloads: same proxy, CA, user agent and credentials.
  const options: DownloadOptions = { ...command.options };
  if (netrc !== undefined) addNetrcAuthorization(options, source, netrc);
  const resolved = resolveOptions(options);
  return { lib, source, entries: lib.parseChecksumFile(await fetchText(await dispatcherFor(resolved), new URL(source), resolved.headers), source) };
}

function checksumOf(checksums: Checksums, url: string, options: DownloadOptions): string {
  const named = (typeof options.output === 'string' ? options.output : undefined) ?? filenameFromUrl(new URL(url));
  if (named === undefined) throw new UsageError(`cannot tell which entry of ${checksums.source} is for ${url} (it names no file): give -o or out=`);
  return checksums.lib.checksumFor(checksums.entries, safeBaseName(named.split(/[/\\]/).pop() ?? named), checksums.source);
}
