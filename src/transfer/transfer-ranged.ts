/**
 * Multi-connection mode: resume or plan, schedule jobs over the sources, checkpoint, check seams
 * and the disk, repair what failed, verify, publish. The manifest always matches the disk.
 */
import { rm } from 'node:fs/promises';
import { debuglog } from 'node:util';
import { Checkpointer } from '../disk/checkpoint.js';
import { DownloadError } from '../errors.js';
import { manifestPath, ManifestStore, type SavedPieceEntry, type SavedSegmentEntry } from '../disk/manifest.js';
import { checkFreeSpace, openPart, publish } from '../disk/output-files.js';
import { completePrefix, reportProgress } from './progress.js';
import { decideResume } from '../disk/resume.js';
import { newJob, type Job } from '../schedule/scheduler.js';
import { checkSeams, readSeam } from '../verify/seams.js';
import { checkResumed, hashOnDisk } from '../verify/resume-check.js';
import { BlockLedger, hex64, type Piece } from '../verify/blocks.js';
import { PieceHashing } from '../verify/piece-hashing.js';
import { fileTarget } from '../disk/writer.js';
import type { SourcePool } from './sources.js';
import { crashPoint } from '../test-hooks.js';
import { ALIGNMENT, checkDigest, makeScheduler, stampMtime, syncData, type TransferContext, type TransferOutcome } from './transfer.js';
import { sourceFetch } from './source-fetch.js';
import { orderedHash, PrefixHasher, xxhashApi, type Digest } from '../verify/verify.js';

const debug = debuglog('segdl');

/** Written bytes between two looks for a longer complete prefix to hash. */
const HASH_STEP = 4 * 1024 * 1024;
/** Rounds of re-fetching segments that failed a seam or disk check before giving up. */
const REPAIRS = 2;

export async function transferRanged(ctx: TransferContext, pool: SourcePool, size: number): Promise<TransferOutcome> {
  const o = ctx.options;
  const primary = pool.usable.find((s) => s.primary)!;
  const store = new ManifestStore(manifestPath(ctx.output), { fsync: o.durability === 'power' });
  const decision = await decideResume({
    manifest: store.path,
    part: ctx.part,
    url: ctx.manifestUrl,
    size,
    etag: primary.etag,
    lastModified: primary.lastModified,
    // One job per missing range: how many connections share them is decided once the first response streams.
    plan: { connections: ctx.firstByteMs === undefined ? o.connections : 1, minSplitSize: o.minSplitSize, alignment: ALIGNMENT },
  });
  if (decision.kind === 'restart') {
    if (decision.remoteChanged && o.ifRemoteChanged === 'fail') {
      throw new DownloadError('ERR_REMOTE_CHANGED', 'remote file changed since the last run; the partial download is kept', { url: primary.url.href });
    }
    ctx.restart(decision.reason);
  }
  // Refuse a file that cannot fit before creating anything (bytes a resume drops later are few).
  await checkFreeSpace(ctx.output, size - (decision.kind === 'resume' ? decision.resumedBytes : 0), primary.url.href);
  const api = await xxhashApi();
  const file = await openPart(ctx.part, decision.kind !== 'resume');
  let closed = false;
  const ledger = new BlockLedger(size, (offset, length) => hashOnDisk(file, offset, length, api));
  let segments = decision.segments;
  let resumedBytes = 0;
  if (decision.kind === 'resume') {
    const check = await checkResumed(file, decision.segments, decision.hashes, decision.pieces, ledger, api);
    if (check.dropped > 0) ctx.warn('ERR_INTEGRITY', `${check.dropped} bytes on disk no longer match their recorded hashes: fetching them again`);
    segments = check.segments;
    resumedBytes = decision.resumedBytes - check.dropped;
    ctx.emit('resume', { resumedBytes, totalBytes: size });
  }
  const jobs = segments.map(newJob);
  const hashing = new PieceHashing(api, ledger);
  /** Jobs whose state changed since the last checkpoint: all a checkpoint appends. */
  const dirty = new Set<Job>();
  const entry = (j: Job): SavedSegmentEntry => (j.pieceDigest === undefined ? [j.start, j.end, j.done] : [j.start, j.end, j.done, hex64(j.pieceDigest)]);
  const pieceEntry = (p: Piece): SavedPieceEntry => [p.offset, p.length, hex64(p.hash)];
  const checkpoint = new Checkpointer(() =>
    store.save(
      {
        full: () => {
          dirty.clear();
          return { url: ctx.manifestUrl, size, etag: primary.etag, lastModified: primary.lastModified, segments: jobs.map(entry), pieces: ledger.take(true).map(pieceEntry) };
        },
        delta: () => {
          const changed = [...dirty];
          dirty.clear();
          return { segments: changed.map(entry), pieces: ledger.take().map(pieceEntry) };
        },
      },
      // Power-loss safety: the bytes the snapshot claims reach the disk before the claim does.
      o.durability === 'power' ? () => syncData(file) : undefined,
    ),
  );
  let fetched = 0;
  const stopProgress = reportProgress(jobs, size, resumedBytes, () => fetched, o.progressIntervalMs, (p) => ctx.progress(p));
  const target = fileTarget(file);
  try {
    if (decision.kind !== 'resume') await file.truncate(size);
    const standard = o.checksum?.algorithm;
    const newPrefixHasher = async () => (standard === undefined ? undefined : new PrefixHasher(file, await orderedHash(standard)));
    let hasher = await newPrefixHasher();
    let nextAdvance = 0;
    const onWritten = (job: Job, bytes: number) => {
      fetched += bytes;
      dirty.add(job);
      checkpoint.written(bytes);
      // The hasher reads in large steps anyway: look for a longer prefix only every few MiB.
      if (hasher !== undefined && fetched >= nextAdvance) {
        nextAdvance = fetched + HASH_STEP;
        hasher.advance(completePrefix(jobs));
      }
    };
    const { fetch, contributors } = sourceFetch(ctx, pool, target, size, onWritten, hashing);
    const onSplit = (victim: Job, piece: Job) => {
      dirty.add(victim);
      dirty.add(piece);
    };
    let peak = 0;
    let verifyMs = 0;
    let lastByteAt = 0;
    let pending: Job[] = jobs;
    let digest: Digest;
    for (let repairs = 0; ; repairs++) {
      const scheduler = makeScheduler(ctx, pending, o.connections, primary.url, fetch, { firstByteMs: repairs === 0 ? ctx.firstByteMs : undefined, onSplit });
      ctx.onScheduler?.(scheduler);
      try {
        await scheduler.run();
      } finally {
        // Whatever happened, record what is on disk so the next run resumes from there.
        await checkpoint.flush();
      }
      peak = Math.max(peak, scheduler.peakConnections);
      lastByteAt = performance.now();
      const caught = await checkSeams(file, jobs);
      if (caught.length === 0) {
        // Every block was hashed as it was written: the digest is a hash of those hashes.
        digest = { xxh64blocks: await ledger.digest(api) };
        if (hasher !== undefined) digest[standard!] = await hasher.finish(size);
        verifyMs = performance.now() - lastByteAt;
        debug('verified %d ms after the last byte', Math.round(verifyMs));
        break;
      }
      // A mirror caught lying once is trusted nowhere: every segment it wrote into is fetched again
      // (two neighbours from the same liar agree at their seam, so the seams alone miss some).
      const convicted = new Set([...caught].flatMap((job) => [...(contributors.get(job) ?? [])].filter((source) => !source.primary)));
      const bad = jobs.filter((job) => caught.includes(job) || [...(contributors.get(job) ?? [])].some((source) => convicted.has(source)));
      const what = 'bytes at a segment seam disagree';
      if (repairs >= REPAIRS) {
        throw new DownloadError('ERR_RANGE_MISMATCH', `${what} after ${repairs} re-fetches`, {
          url: primary.url.href,
          segment: { start: bad[0]!.start, end: bad[0]!.end },
        });
      }
      ctx.warn('ERR_RANGE_MISMATCH', `${what}: fetching ${bad.length} segment(s) again`);
      for (const job of bad) {
        for (const source of contributors.get(job) ?? []) pool.drop(source, `${what} in bytes it sent`);
        contributors.delete(job);
        // Its right neighbour's seam is checked again against the new bytes.
        const right = jobs.find((j) => j.start === job.end);
        if (right !== undefined && right.seam === undefined && right.done > 0) right.seam = await readSeam(file, right.start);
        ledger.forget(job.start, job.end);
        Object.assign(job, newJob({ start: job.start, end: job.end, done: 0 }));
        dirty.add(job);
      }
      // The manifest must stop claiming the bytes just dropped, and the pieces hashed from them.
      store.rewriteNext();
      await checkpoint.flush();
      pending = bad;
      hasher = await newPrefixHasher();
    }
    checkDigest(ctx, digest, primary.url.href);
    await stampMtime(file, primary.lastModified);
    if (o.durability === 'power') await file.sync();
    await file.close();
    closed = true;
    crashPoint('verified');
    await publish(ctx.part, ctx.output, o.force, o.durability === 'power');
    crashPoint('published');
    await store.remove();
    debug('published %d ms after the last byte', Math.round(performance.now() - lastByteAt));
    return { size, resumedBytes, fetched, digest, connectionsUsed: peak, verifyMs };
  } catch (error) {
    const code = error instanceof DownloadError ? error.code : undefined;
    // Bytes that fail verification are never trusted again, nor are those of an older version
    // of a file we are about to download again: the next run starts over.
    if (code === 'ERR_CHECKSUM_MISMATCH' || (code === 'ERR_REMOTE_CHANGED' && o.ifRemoteChanged === 'restart')) {
      await store.remove();
      await rm(ctx.part, { force: true });
    }
    throw error;
  } finally {
    stopProgress();
    checkpoint.stop();
    await store.close();
    if (!closed) await file.close();
  }
}

