/**
 * The resume state: a JSON sidecar next to the output, saved atomically (temp file, rename)
 * under one mutex. It only ever records bytes whose writes had completed before the snapshot,
 * so a process killed at any instant never trusts bytes that are not in the file.
 */
import { Mutex } from 'async-mutex';
import { open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeAtomic } from './atomic-write.js';
import { validateSegments, type Segment } from '../schedule/plan.js';
import { crashPoint } from '../test-hooks.js';
import { xxhashApi } from '../verify/verify.js';

const MANIFEST_VERSION = 1;

export interface ManifestData {
  version: typeof MANIFEST_VERSION;
  /** The URL without credentials: identifies the download, never used to authenticate. */
  url: string;
  size: number;
  etag: string | undefined;
  lastModified: string | undefined;
  /**
   * Segments as [start, end, done, xxh64 of the done bytes]: compact for files with many splits.
   * The hash lets a resumed run check the bytes on disk before trusting them.
   */
  segments: Array<[number, number, number, string?]>;
  updatedAt: string;
}

export type ManifestLoad =
  | { state: 'missing' }
  | { state: 'invalid'; reason: string }
  | { state: 'ok'; data: ManifestData; segments: SavedSegment[] };

export interface SavedSegment extends Segment {
  /** xxh64 (16 hex digits) of [start, start + done), when the run that saved it computed one. */
  hash: string | undefined;
}

export function manifestPath(output: string): string {
  return `${output}.segdl.json`;
}

/** The URL as stored: no userinfo (catalogue case 56), no fragment. */
export function publicUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  copy.hash = '';
  return copy.href;
}

async function bodyChecksum(body: string): Promise<string> {
  return (await xxhashApi()).h64ToString(body);
}

export async function loadManifest(path: string): Promise<ManifestLoad> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { state: 'invalid', reason: text.length === 0 ? 'empty' : 'not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || !('body' in parsed) || !('checksum' in parsed)) {
    return { state: 'invalid', reason: 'not a segdl manifest' };
  }
  const { body, checksum } = parsed as { body: unknown; checksum: unknown };
  if (typeof body !== 'string' || checksum !== (await bodyChecksum(body))) {
    return { state: 'invalid', reason: 'checksum does not match its contents' };
  }
  // A matching checksum proves the body is what some writer signed, not that it is well-formed.
  let data: ManifestData;
  try {
    data = JSON.parse(body) as ManifestData;
  } catch {
    return { state: 'invalid', reason: 'body is not valid JSON' };
  }
  if (typeof data !== 'object' || data === null) return { state: 'invalid', reason: 'body is not an object' };
  if (data.version !== MANIFEST_VERSION) return { state: 'invalid', reason: `unknown version ${String(data.version)}` };
  if (!Number.isSafeInteger(data.size) || data.size < 0 || !Array.isArray(data.segments) || typeof data.url !== 'string') {
    return { state: 'invalid', reason: 'bad url, size or segment list' };
  }
  if (data.segments.some((s) => !Array.isArray(s) || s.length < 3 || s.length > 4)) return { state: 'invalid', reason: 'bad segment entry' };
  const segments = data.segments.map(([start, end, done, hash]) => ({ start, end, done, hash }));
  if (segments.some((s) => s.hash !== undefined && !/^[0-9a-f]{16}$/.test(String(s.hash)))) return { state: 'invalid', reason: 'bad segment hash' };
  const problem = validateSegments(segments, data.size);
  if (problem !== undefined) return { state: 'invalid', reason: problem };
  return { state: 'ok', data, segments };
}

/** Saves snapshots of one download's state; concurrent saves are serialised, never interleaved. */
export class ManifestStore {
  readonly #path: string;
  readonly #mutex = new Mutex();
  readonly #fsync: boolean;

  constructor(path: string, options: { fsync: boolean }) {
    this.#path = path;
    this.#fsync = options.fsync;
  }

  get path(): string {
    return this.#path;
  }

  /**
   * `snapshot` is taken inside the lock, just before writing, so a save never records
   * an older state after a newer one. `beforeWrite` (e.g. fdatasync of the data file) runs
   * between the snapshot and the write.
   */
  save(snapshot: () => Omit<ManifestData, 'version' | 'updatedAt'>, beforeWrite?: () => Promise<void>): Promise<void> {
    return this.#mutex.runExclusive(async () => {
      const data: ManifestData = { version: MANIFEST_VERSION, ...snapshot(), updatedAt: new Date().toISOString() };
      // Runs after the snapshot: whatever it makes durable covers every byte the snapshot claims.
      await beforeWrite?.();
      const body = JSON.stringify(data);
      const text = JSON.stringify({ body, checksum: await bodyChecksum(body) });
      await writeAtomic(this.#path, text, { fsync: this.#fsync, onTempWritten: () => crashPoint('manifest-temp-written') });
      crashPoint('manifest-renamed');
      if (this.#fsync) await syncDirectory(dirname(this.#path));
    });
  }

  /** Deletes the manifest (and any temp file) once the download is complete. */
  remove(): Promise<void> {
    return this.#mutex.runExclusive(async () => {
      await rm(this.#path, { force: true });
      await rm(`${this.#path}.tmp`, { force: true });
    });
  }
}

export async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
