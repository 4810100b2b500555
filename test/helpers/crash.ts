/**
 * Helpers for the crash/resume tests (test/crash): a seeded PRNG, an independent reader and
 * writer for the manifest format (so a test can corrupt it and re-sign it), byte-range
 * arithmetic, and checks of what a manifest claims against the bytes in the .part.
 */
import { spawn } from 'node:child_process';
import { open, readFile, readdir, writeFile } from 'node:fs/promises';
import xxhash from 'xxhash-wasm';
import { dataRange } from '../../fixtures/data.js';
import { Download, type DownloadOptions, type DownloadResult } from '../../src/index.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** The kill sequence's PRNG: a failing sequence can be replayed from its seed. */
export { mulberry32 as prng } from './prng.js';

/** The manifest body as segdl writes it (version 2); kept loose so tests can break it. */
export interface ManifestBody {
  version: number;
  url: string;
  size: number;
  etag?: string | undefined;
  lastModified?: string | undefined;
  blockBytes?: number;
  segments: Array<[number, number, number, string?]>;
  pieces?: Array<[number, number, string]>;
  updatedAt?: string;
  [extra: string]: unknown;
}

export function manifestOf(output: string): string {
  return `${output}.segdl.json`;
}

export async function xxh64Hex(text: string): Promise<string> {
  return (await xxhash()).h64ToString(text);
}

/**
 * Reads `<output>.segdl.json` without the engine's code: the first line's envelope and body (the
 * snapshot), then every appended checkpoint line up to the first torn or unsigned one, applied
 * as the format says (segments replaced by their start, pieces added).
 */
export async function readManifest(path: string): Promise<ManifestBody> {
  const [first, ...rest] = (await readFile(path, 'utf8')).split('\n');
  const outer = JSON.parse(first!) as { body: string; checksum: string };
  if (outer.checksum !== (await xxh64Hex(outer.body))) throw new Error(`${path}: checksum does not match`);
  const data = JSON.parse(outer.body) as ManifestBody;
  const segments = new Map(data.segments.map((s) => [s[0], s]));
  const pieces = [...(data.pieces ?? [])];
  for (const line of rest) {
    if (line === '') continue;
    let envelope: { body: string; checksum: string };
    try {
      envelope = JSON.parse(line) as { body: string; checksum: string };
    } catch {
      break;
    }
    if (envelope.checksum !== (await xxh64Hex(envelope.body))) break;
    const delta = JSON.parse(envelope.body) as Pick<ManifestBody, 'segments' | 'pieces'>;
    for (const s of delta.segments) segments.set(s[0], s);
    pieces.push(...(delta.pieces ?? []));
  }
  return { ...data, segments: [...segments.values()].sort((a, b) => a[0] - b[0]), pieces };
}

/** Writes a body string with a correct checksum (a syntactically valid, signed manifest). */
export async function writeSignedBody(path: string, body: string): Promise<void> {
  await writeFile(path, JSON.stringify({ body, checksum: await xxh64Hex(body) }));
}

export async function writeManifest(path: string, data: ManifestBody): Promise<void> {
  await writeSignedBody(path, JSON.stringify(data));
}

export interface ByteRange {
  start: number;
  /** Exclusive. */
  end: number;
}

/** The byte ranges a manifest says are done: [start, start + done) of each segment. */
export function claimedRanges(data: ManifestBody): ByteRange[] {
  return data.segments.filter(([, , done]) => done > 0).map(([start, , done]) => ({ start, end: start + done }));
}

export function totalLength(ranges: readonly ByteRange[]): number {
  return ranges.reduce((sum, r) => sum + (r.end - r.start), 0);
}

/** Sorted, merged union of ranges. */
export function union(ranges: readonly ByteRange[]): ByteRange[] {
  const out: ByteRange[] = [];
  for (const r of [...ranges].filter((x) => x.end > x.start).sort((a, b) => a.start - b.start)) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** Parts of `ranges` not covered by `cover`. */
export function uncovered(ranges: readonly ByteRange[], cover: readonly ByteRange[]): ByteRange[] {
  const merged = union(cover);
  const out: ByteRange[] = [];
  for (const r of union(ranges)) {
    let pos = r.start;
    for (const c of merged) {
      if (c.end <= pos || c.start >= r.end) continue;
      if (c.start > pos) out.push({ start: pos, end: c.start });
      pos = Math.max(pos, c.end);
    }
    if (pos < r.end) out.push({ start: pos, end: r.end });
  }
  return out;
}

/** Ranges (within `ranges`) where the file's bytes differ from the data stream `seed`. */
export async function wrongBytes(path: string, ranges: readonly ByteRange[], seed = 'segdl'): Promise<ByteRange[]> {
  const file = await open(path, 'r');
  const bad: ByteRange[] = [];
  try {
    for (const r of ranges) {
      const length = r.end - r.start;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, r.start);
      const expected = dataRange(seed, r.start, length);
      let first = -1;
      for (let i = 0; i < length; i++) {
        if (i >= bytesRead || buffer[i] !== expected[i]) {
          first = i;
          break;
        }
      }
      if (first >= 0) bad.push({ start: r.start + first, end: r.end });
    }
  } finally {
    await file.close();
  }
  return bad;
}

/** Overwrites [start, end) of `path` with bytes that differ from the data stream at every position. */
export async function scribble(path: string, ranges: readonly ByteRange[], seed = 'segdl'): Promise<void> {
  const file = await open(path, 'r+');
  try {
    for (const r of ranges) {
      const garbage = dataRange(seed, r.start, r.end - r.start).map((b) => b ^ 0xa5);
      await file.write(garbage, 0, garbage.length, r.start);
    }
  } finally {
    await file.close();
  }
}

/** Flips every bit of one byte of `path`. */
export async function flipByte(path: string, position: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    const one = Buffer.alloc(1);
    await file.read(one, 0, 1, position);
    one[0] = one[0]! ^ 0xff;
    await file.write(one, 0, 1, position);
  } finally {
    await file.close();
  }
}

export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** A pid that certainly belonged to a process which has exited (a child we waited for). */
export function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

/** --json lines of a CLI run. */
export function jsonEvents(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface ApiRun {
  result: DownloadResult | undefined;
  error: unknown;
  warnings: Array<{ code: string; message: string }>;
  restarts: string[];
  resumes: number[];
}

/** Runs a download through the API, collecting what it reported; never throws. */
export async function runDownload(url: string, options: DownloadOptions): Promise<ApiRun> {
  const dl = new Download(url, options);
  const run: ApiRun = { result: undefined, error: undefined, warnings: [], restarts: [], resumes: [] };
  dl.on('warning', (w) => run.warnings.push(w));
  dl.on('restart', (r) => run.restarts.push(r.reason));
  dl.on('resume', (r) => run.resumes.push(r.resumedBytes));
  try {
    run.result = await dl.start();
  } catch (error) {
    run.error = error;
  }
  return run;
}

/**
 * A real interrupted download: aborts through the signal once `fraction` of `size` is on disk,
 * so the engine saves its state the way it does for Ctrl-C. Returns the manifest it left.
 */
export async function interruptAt(url: string, output: string, size: number, fraction: number, options: DownloadOptions = {}): Promise<ManifestBody> {
  const controller = new AbortController();
  const stop = new Error('test interrupt');
  const run = await runDownload(url, {
    output,
    connections: 4,
    progressIntervalMs: 10,
    ...options,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.transferredBytes >= size * fraction && !controller.signal.aborted) controller.abort(stop);
    },
  });
  if (run.error !== stop) throw new Error(`expected the test interrupt, got ${String(run.error ?? 'success')}`);
  return readManifest(manifestOf(output));
}
