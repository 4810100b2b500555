/**
 * A file already at the output path is the user's, and is never overwritten without `force`.
 * Three cases still succeed without a download: it is our own finished download whose manifest
 * was not removed yet (killed right after the final rename: catalogue case 41), the caller gave a
 * checksum and the file already matches it, or it is provably the remote's current file — the
 * same size and an mtime equal to the server's Last-Modified (segdl gives a published file that
 * mtime, as curl -R and wget do), or a 304 to If-Modified-Since that names the same Last-Modified.
 */
import { constants } from 'node:fs';
import { lstat, open, rm } from 'node:fs/promises';
import { DownloadError } from '../errors.js';
import { loadManifest } from './manifest.js';
import type { HashAlgorithm } from '../options.js';
import { regularFileSize } from './output-files.js';
import { BlockLedger } from '../verify/blocks.js';
import { hashFile } from '../verify/hash-file.js';
import { checkResumed, hashOnDisk } from '../verify/resume-check.js';
import { xxhashApi, type Digest } from '../verify/verify.js';

export interface ExistingOutputInput {
  output: string;
  part: string;
  manifest: string;
  force: boolean;
  checksum: { algorithm: HashAlgorithm; hex: string } | undefined;
  /** The download's identity in the manifest. */
  url: string;
}

export type ExistingOutput =
  | { kind: 'none' }
  | { kind: 'done'; size: number; digest: Digest }
  /** A file nothing local proves finished: only the server can say it is current. */
  | { kind: 'unproven'; size: number };

/** What the disk alone says about a file at the output (no request needed). */
export async function checkExistingOutput(input: ExistingOutputInput): Promise<ExistingOutput> {
  // Killed between publishing's link() and its unlink of the .part: both names are one file.
  if (await sameFile(input.output, input.part)) await rm(input.part);
  const size = await regularFileSize(input.output);
  if (size === undefined) {
    if (!input.force && (await exists(input.output))) throw targetExists(input.output);
    return { kind: 'none' };
  }
  if (input.force) return { kind: 'none' };
  const finished = await finishedEarlier(input, size);
  if (finished !== undefined) {
    await rm(input.manifest, { force: true });
    return { kind: 'done', size, digest: finished };
  }
  if (input.checksum !== undefined) {
    const digest = await hashFile(input.output, { algorithm: input.checksum.algorithm });
    if (digest[input.checksum.algorithm] === input.checksum.hex) return { kind: 'done', size, digest };
  }
  return { kind: 'unproven', size };
}

export interface RemoteVersion {
  size: number | undefined;
  /** The server's Last-Modified, as it sent it. */
  lastModified: string | undefined;
  /** The server answered 304 to If-Modified-Since (the output's mtime). */
  notModified: boolean;
}

/**
 * An unproven file is accepted as the remote's current one if its mtime is the server's
 * Last-Modified and (unless the server said 304 to that very date) its size is the remote's;
 * never by either alone. Otherwise it is the user's file: refused.
 */
export async function confirmCurrent(output: string, size: number, remote: RemoteVersion): Promise<ExistingOutput> {
  const modified = remote.lastModified === undefined ? Number.NaN : Date.parse(remote.lastModified);
  if (!Number.isNaN(modified)) {
    // To the nanosecond: segdl sets a whole second; any later write to the file moves it off that.
    const { mtimeNs } = await lstat(output, { bigint: true });
    // A 304 carries no size: it says the file has not changed since that very Last-Modified.
    if (mtimeNs === BigInt(modified) * 1_000_000n && (remote.notModified || remote.size === size)) {
      return { kind: 'done', size, digest: await hashFile(output) };
    }
  }
  throw targetExists(output);
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([lstat(a).catch(() => undefined), lstat(b).catch(() => undefined)]);
  return x !== undefined && y !== undefined && x.isFile() && x.ino === y.ino && x.dev === y.dev;
}

function targetExists(output: string): DownloadError {
  return new DownloadError('ERR_TARGET_EXISTS', `${output} already exists (use force / --force to overwrite)`);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** The digest of the file if the manifest next to it describes exactly it, complete, with every piece matching its recorded hash. */
async function finishedEarlier(input: ExistingOutputInput, size: number): Promise<Digest | undefined> {
  if ((await regularFileSize(input.part)) !== undefined) return undefined;
  const loaded = await loadManifest(input.manifest);
  if (loaded.state !== 'ok') return undefined;
  const { data, segments } = loaded;
  // The manifest and the disk are proof enough: the file is what that run downloaded and verified.
  if (data.url !== input.url || data.size !== size) return undefined;
  if (segments.some((s) => s.done !== s.end - s.start)) return undefined;
  const api = await xxhashApi();
  const file = await open(input.output, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const ledger = new BlockLedger(size, (offset, length) => hashOnDisk(file, offset, length, api));
    const check = await checkResumed(file, segments, new Map(segments.map((s) => [s, s.hash])), loaded.pieces, ledger, api);
    return check.dropped === 0 ? { xxh64blocks: await ledger.digest(api) } : undefined;
  } finally {
    await file.close();
  }
}
