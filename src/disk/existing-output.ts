/**
 * A file already at the output path is the user's, and is never overwritten without `force`.
 * Two cases still succeed without a download: it is our own finished download whose manifest
 * was not removed yet (killed right after the final rename: catalogue case 41), or the caller
 * gave a checksum and the file already matches it.
 */
import { constants } from 'node:fs';
import { lstat, open, rm } from 'node:fs/promises';
import { DownloadError } from '../errors.js';
import { loadManifest } from './manifest.js';
import type { HashAlgorithm } from '../options.js';
import { regularFileSize } from './output-files.js';
import { newJob } from '../schedule/scheduler.js';
import { DiskCheck } from '../verify/segment-check.js';
import { PrefixHasher, xxhashApi, type Digest } from '../verify/verify.js';

export interface ExistingOutputInput {
  output: string;
  part: string;
  manifest: string;
  force: boolean;
  checksum: { algorithm: HashAlgorithm; hex: string } | undefined;
  url: string;
  size: number | undefined;
  etag: string | undefined;
}

export type ExistingOutput = { kind: 'none' } | { kind: 'done'; size: number; digest: Digest };

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
    const digest = await hashFile(input.output, size, input.checksum.algorithm);
    if (digest[input.checksum.algorithm] === input.checksum.hex) return { kind: 'done', size, digest };
  }
  throw targetExists(input.output);
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

/** The digest of the file if the manifest next to it describes exactly it, complete, with matching segment hashes. */
async function finishedEarlier(input: ExistingOutputInput, size: number): Promise<Digest | undefined> {
  if ((await regularFileSize(input.part)) !== undefined) return undefined;
  const loaded = await loadManifest(input.manifest);
  if (loaded.state !== 'ok') return undefined;
  const { data, segments } = loaded;
  if (data.url !== input.url || data.size !== size || data.size !== input.size || data.etag !== input.etag) return undefined;
  if (segments.some((s) => s.done !== s.end - s.start || s.hash === undefined)) return undefined;
  const api = await xxhashApi();
  const jobs = segments.map((s) => {
    const job = newJob(s);
    const recorded = BigInt(`0x${s.hash!}`);
    job.hash = { update: () => undefined, digest: () => recorded };
    return job;
  });
  const check = new DiskCheck(jobs, api);
  const digest = await hashFile(input.output, size, undefined, (offset, bytes) => check.observe(offset, bytes));
  return check.bad.length === 0 ? digest : undefined;
}

async function hashFile(path: string, size: number, algorithm: HashAlgorithm | undefined, observe?: (offset: number, bytes: Buffer) => void): Promise<Digest> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const hasher = await PrefixHasher.create(file, algorithm, observe);
    return await hasher.finish(size);
  } finally {
    await file.close();
  }
}
