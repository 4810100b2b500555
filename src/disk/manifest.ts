/**
 * The resume state, `<output>.segdl.json`: one line with a full snapshot, then one line per
 * checkpoint with only what changed since (the segments that moved, the block pieces hashed), so
 * a save costs the same with 16 segments or 16,000. Every line is a signed envelope
 * `{"body": "<json>", "checksum": "<xxh64 of body>"}`; a torn or unsigned line ends the file for a
 * reader (what it claimed is simply not trusted). Once the appended lines outweigh the snapshot,
 * the next save writes a fresh snapshot atomically (temp file, rename). Saves run under one mutex
 * and only ever record bytes whose writes had completed before the snapshot was taken, so a
 * process killed at any instant never trusts bytes that are not in the file.
 */
import { Mutex } from 'async-mutex';
import { constants } from 'node:fs';
import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeAtomic } from './atomic-write.js';
import { validateSegments, type Segment } from '../schedule/plan.js';
import { crashPoint, rewriteEveryCheckpoint } from '../test-hooks.js';
import { BLOCK_BYTES, type Piece } from '../verify/blocks.js';
import { xxhashApi } from '../verify/verify.js';

const MANIFEST_VERSION = 2;

/** [start, end, done, xxh64 of the done bytes in the block being filled (absent when done ends on a block boundary)]. */
export type SavedSegmentEntry = [number, number, number, string?];
/** [offset, length, xxh64]: a hashed piece of one block (the whole block, or one segment's part of it). */
export type SavedPieceEntry = [number, number, string];

export interface ManifestData {
  version: typeof MANIFEST_VERSION;
  /** The URL without credentials: identifies the download, never used to authenticate. */
  url: string;
  size: number;
  etag: string | undefined;
  lastModified: string | undefined;
  /** The block size the pieces refer to (src/verify/blocks.ts). */
  blockBytes: number;
  segments: SavedSegmentEntry[];
  /** The hashes a resumed run checks the disk against before trusting a byte. */
  pieces: SavedPieceEntry[];
  updatedAt: string;
}

/** What one checkpoint appends: segments by their start (new or changed), pieces hashed since. */
export interface ManifestDelta {
  segments: SavedSegmentEntry[];
  pieces: SavedPieceEntry[];
}

export type ManifestLoad =
  | { state: 'missing' }
  | { state: 'invalid'; reason: string }
  | { state: 'ok'; data: ManifestData; segments: SavedSegment[]; pieces: Piece[] };

export interface SavedSegment extends Segment {
  /** xxh64 of the done bytes in the block being filled, when done does not end on a block boundary. */
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

async function envelope(body: string): Promise<string> {
  return `${JSON.stringify({ body, checksum: (await xxhashApi()).h64ToString(body) })}\n`;
}

/** The body of one signed line, or undefined when the line is torn, unsigned or not an envelope. */
async function openEnvelope(line: string): Promise<string | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !('body' in parsed) || !('checksum' in parsed)) return undefined;
  const { body, checksum } = parsed as { body: unknown; checksum: unknown };
  if (typeof body !== 'string' || checksum !== (await xxhashApi()).h64ToString(body)) return undefined;
  return body;
}

const HEX64 = /^[0-9a-f]{16}$/;

function badSegmentEntry(s: unknown): boolean {
  return !Array.isArray(s) || s.length < 3 || s.length > 4 || (s.length === 4 && (typeof s[3] !== 'string' || !HEX64.test(s[3])));
}

function badPieceEntry(p: unknown, size: number): boolean {
  if (!Array.isArray(p) || p.length !== 3) return true;
  const [offset, length, hash] = p as unknown[];
  return (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    (offset as number) < 0 ||
    (length as number) <= 0 ||
    (offset as number) + (length as number) > size ||
    typeof hash !== 'string' ||
    !HEX64.test(hash)
  );
}

export async function loadManifest(path: string): Promise<ManifestLoad> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    throw error;
  }
  if (text.length === 0) return { state: 'invalid', reason: 'empty' };
  const lines = text.split('\n');
  let first: unknown;
  try {
    first = JSON.parse(lines[0]!);
  } catch {
    return { state: 'invalid', reason: 'not valid JSON' };
  }
  if (typeof first !== 'object' || first === null || !('body' in first) || !('checksum' in first)) return { state: 'invalid', reason: 'not a segdl manifest' };
  const body = await openEnvelope(lines[0]!);
  if (body === undefined) return { state: 'invalid', reason: 'checksum does not match its contents' };
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
  if (data.blockBytes !== BLOCK_BYTES) return { state: 'invalid', reason: `block size ${String(data.blockBytes)} is not ${BLOCK_BYTES}` };
  if (!Array.isArray(data.pieces)) return { state: 'invalid', reason: 'bad piece list' };
  if (data.segments.some(badSegmentEntry)) return { state: 'invalid', reason: 'bad segment entry' };
  if (data.pieces.some((p) => badPieceEntry(p, data.size))) return { state: 'invalid', reason: 'bad piece entry' };
  const bySegmentStart = new Map(data.segments.map((s) => [s[0], s]));
  const pieces = [...data.pieces];
  // The checkpoints after the snapshot, up to the first line that is torn or does not make sense.
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const deltaBody = await openEnvelope(line);
    if (deltaBody === undefined) break;
    let delta: ManifestDelta;
    try {
      delta = JSON.parse(deltaBody) as ManifestDelta;
    } catch {
      break;
    }
    if (!Array.isArray(delta.segments) || !Array.isArray(delta.pieces) || delta.segments.some(badSegmentEntry) || delta.pieces.some((p) => badPieceEntry(p, data.size))) break;
    for (const s of delta.segments) bySegmentStart.set(s[0], s);
    pieces.push(...delta.pieces);
  }
  data.segments = [...bySegmentStart.values()].sort((a, b) => a[0] - b[0]);
  data.pieces = pieces;
  const segments = data.segments.map(([start, end, done, hash]) => ({ start, end, done, hash }));
  const problem = validateSegments(segments, data.size);
  if (problem !== undefined) return { state: 'invalid', reason: problem };
  return { state: 'ok', data, segments, pieces: pieces.map(([offset, length, hash]) => ({ offset, length, hash: BigInt(`0x${hash}`) })) };
}

/** Appended checkpoints may outweigh the snapshot this many times before a fresh snapshot is written. */
const REWRITE_RATIO = 2;
const MIN_APPEND_BYTES = 64 * 1024;

export interface ManifestSnapshot {
  /** Everything: the first save, and whenever the appended lines have grown past the snapshot. */
  full(): Omit<ManifestData, 'version' | 'updatedAt' | 'blockBytes'>;
  /** What changed since the last snapshot or delta. */
  delta(): ManifestDelta;
}

/** Saves one download's state; concurrent saves are serialised, never interleaved. */
export class ManifestStore {
  readonly #path: string;
  readonly #mutex = new Mutex();
  readonly #fsync: boolean;
  /** The manifest open for appending, once this store has written its snapshot. */
  #appendTo: FileHandle | undefined;
  #snapshotBytes = 0;
  #appendedBytes = 0;
  #rewrite = true;

  constructor(path: string, options: { fsync: boolean }) {
    this.#path = path;
    this.#fsync = options.fsync;
  }

  get path(): string {
    return this.#path;
  }

  /** The next save writes a full snapshot (after a repair dropped bytes the appended lines claim). */
  rewriteNext(): void {
    this.#rewrite = true;
  }

  /**
   * The snapshot is taken inside the lock, just before writing, so a save never records an older
   * state after a newer one. `beforeWrite` (e.g. fdatasync of the data file) runs between the
   * snapshot and the write: whatever it makes durable covers every byte the snapshot claims.
   */
  save(snapshot: ManifestSnapshot, beforeWrite?: () => Promise<void>): Promise<void> {
    return this.#mutex.runExclusive(async () => {
      const full = this.#rewrite || rewriteEveryCheckpoint || this.#appendTo === undefined || this.#appendedBytes > Math.max(MIN_APPEND_BYTES, REWRITE_RATIO * this.#snapshotBytes);
      if (full) {
        const data: ManifestData = { version: MANIFEST_VERSION, blockBytes: BLOCK_BYTES, ...snapshot.full(), updatedAt: new Date().toISOString() };
        await beforeWrite?.();
        const text = await envelope(JSON.stringify(data));
        await this.#closeAppend();
        await writeAtomic(this.#path, text, { fsync: this.#fsync, onTempWritten: () => crashPoint('manifest-temp-written') });
        crashPoint('manifest-renamed');
        if (this.#fsync) await syncDirectory(dirname(this.#path));
        this.#appendTo = await open(this.#path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
        this.#snapshotBytes = text.length;
        this.#appendedBytes = 0;
        this.#rewrite = false;
        return;
      }
      const delta = snapshot.delta();
      if (delta.segments.length === 0 && delta.pieces.length === 0) return;
      await beforeWrite?.();
      const line = await envelope(JSON.stringify(delta));
      await this.#appendTo!.write(line);
      if (this.#fsync) await this.#appendTo!.sync();
      this.#appendedBytes += line.length;
      crashPoint('manifest-appended');
    });
  }

  async #closeAppend(): Promise<void> {
    const handle = this.#appendTo;
    this.#appendTo = undefined;
    await handle?.close();
  }

  /** Stops appending (the download ends, whether or not it finished). */
  close(): Promise<void> {
    return this.#mutex.runExclusive(() => this.#closeAppend());
  }

  /** Deletes the manifest (and any temp file) once the download is complete. */
  remove(): Promise<void> {
    return this.#mutex.runExclusive(async () => {
      await this.#closeAppend();
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
