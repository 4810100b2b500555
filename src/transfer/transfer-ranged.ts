/**
 * Multi-connection mode: resume or plan, schedule jobs over the sources, checkpoint, check seams
 * and the disk, repair what failed, verify, publish. The manifest always matches the disk.
 */
import { rm } from 'node:fs/promises';
import { debuglog } from 'node:util';
import { Checkpointer } from '../disk/checkpoint.js';
import { DownloadError, isRetryable, toDownloadError } from '../errors.js';
import { fetchJob } from './fetch-job.js';
import { manifestPath, ManifestStore } from '../disk/manifest.js';
import { checkFreeSpace, openPart, publish } from '../disk/output-files.js';
import { completePrefix, reportProgress } from './progress.js';
import { decideResume } from '../disk/resume.js';
import { newJob, type Job, type RequestPace } from '../schedule/scheduler.js';
import { checkSeams, readSeam } from '../verify/seams.js';
import { DiskCheck, hashHex, verifyResumed } from '../verify/segment-check.js';
import type { Source, SourcePool } from './sources.js';
import { crashPoint } from '../test-hooks.js';
import { ALIGNMENT, checkDigest, fetchContextFor, makeScheduler, stampMtime, syncData, type TransferContext, type TransferOutcome } from './transfer.js';
import { PrefixHasher, xxhashApi, type Digest } from '../verify/verify.js';

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
  const jobs = decision.segments.map(newJob);
  let resumedBytes = 0;
  if (decision.kind === 'resume') {
    const saved = new Map(jobs.map((job, i) => [job, decision.hashes.get(decision.segments[i]!)]));
    const dropped = await verifyResumed(file, jobs, saved, api);
    if (dropped > 0) ctx.warn('ERR_INTEGRITY', `${dropped} bytes on disk no longer match their recorded hashes: fetching them again`);
    resumedBytes = decision.resumedBytes - dropped;
    ctx.emit('resume', { resumedBytes, totalBytes: size });
  }
  const checkpoint = new Checkpointer(() =>
    store.save(
      () => ({
        url: ctx.manifestUrl,
        size,
        etag: primary.etag,
        lastModified: primary.lastModified,
        segments: jobs.map((j) => (j.hash === undefined ? [j.start, j.end, j.done] : [j.start, j.end, j.done, hashHex(j.hash)])),
      }),
      // Power-loss safety: the bytes the snapshot claims reach the disk before the claim does.
      o.durability === 'power' ? () => syncData(file) : undefined,
    ),
  );
  let fetched = 0;
  const stopProgress = reportProgress(jobs, size, resumedBytes, () => fetched, o.progressIntervalMs, (p) => ctx.progress(p));
  try {
    if (decision.kind !== 'resume') await file.truncate(size);
    let diskCheck = new DiskCheck(jobs, api);
    let hasher = await PrefixHasher.create(file, o.checksum?.algorithm, (offset, bytes) => diskCheck.observe(offset, bytes));
    let nextAdvance = 0;
    const onWritten = (_job: Job, bytes: number) => {
      fetched += bytes;
      checkpoint.written(bytes);
      // The hasher reads in large steps anyway: look for a longer prefix only every few MiB.
      if (fetched >= nextAdvance) {
        nextAdvance = fetched + HASH_STEP;
        hasher.advance(completePrefix(jobs));
      }
    };
    /** Which sources wrote bytes into each job: a job that fails a check convicts its mirrors. */
    const contributors = new Map<Job, Set<Source>>();
    const fetch = async (job: Job, signal: AbortSignal, streaming: () => void, pace: RequestPace) => {
      const source = pool.pick();
      const fetchCtx = () => ({ ...fetchContextFor(ctx, source, file, size, onWritten), newHash: () => api.create64() });
      const startBytes = job.received;
      const started = Date.now();
      (contributors.get(job) ?? contributors.set(job, new Set()).get(job)!).add(source);
      source.active++;
      const attempt = { bytes: () => job.received - startBytes, started };
      source.inFlight.add(attempt);
      try {
        try {
          await fetchJob(fetchCtx(), job, signal, streaming, pace);
        } catch (error) {
          // An expired signed link: renew it through the caller's hook and go on where we were.
          if (signal.aborted || !pool.expired(error) || !(await pool.refresh(source, error.status))) throw error;
          await fetchJob(fetchCtx(), job, signal, streaming, pace);
        }
        pool.succeeded(source, job.received - startBytes, Date.now() - started);
      } catch (raw) {
        if (signal.aborted) throw raw;
        const error = toDownloadError(raw);
        throw pool.failed(source, error, isRetryable(error));
      } finally {
        source.active--;
        source.inFlight.delete(attempt);
      }
    };
    let peak = 0;
    let verifyMs = 0;
    let lastByteAt = 0;
    let pending: Job[] = jobs;
    let digest: Digest;
    for (let repairs = 0; ; repairs++) {
      const scheduler = makeScheduler(ctx, pending, o.connections, primary.url, fetch, repairs === 0 ? ctx.firstByteMs : undefined);
      ctx.onScheduler?.(scheduler);
      try {
        await scheduler.run();
      } finally {
        // Whatever happened, record what is on disk so the next run resumes from there.
        await checkpoint.flush();
      }
      peak = Math.max(peak, scheduler.peakConnections);
      lastByteAt = performance.now();
      const shifted = await checkSeams(file, jobs);
      digest = await hasher.finish(size); // reads the whole file back: the disk check rides along
      verifyMs = performance.now() - lastByteAt;
      debug('verified %d ms after the last byte', Math.round(verifyMs));
      const caught = [...new Set([...shifted, ...diskCheck.bad])];
      if (caught.length === 0) break;
      // A mirror caught lying once is trusted nowhere: every segment it wrote into is fetched again
      // (two neighbours from the same liar agree at their seam, so the seams alone miss some).
      const convicted = new Set([...caught].flatMap((job) => [...(contributors.get(job) ?? [])].filter((source) => !source.primary)));
      const bad = jobs.filter((job) => caught.includes(job) || [...(contributors.get(job) ?? [])].some((source) => convicted.has(source)));
      const what = shifted.length > 0 ? 'bytes at a segment seam disagree' : 'bytes on disk differ from the bytes received';
      if (repairs >= REPAIRS) {
        throw new DownloadError(shifted.length > 0 ? 'ERR_RANGE_MISMATCH' : 'ERR_INTEGRITY', `${what} after ${repairs} re-fetches`, {
          url: primary.url.href,
          segment: { start: bad[0]!.start, end: bad[0]!.end },
        });
      }
      ctx.warn(shifted.length > 0 ? 'ERR_RANGE_MISMATCH' : 'ERR_INTEGRITY', `${what}: fetching ${bad.length} segment(s) again`);
      for (const job of bad) {
        for (const source of contributors.get(job) ?? []) pool.drop(source, `${what} in bytes it sent`);
        contributors.delete(job);
        // Its right neighbour's seam is checked again against the new bytes.
        const right = jobs.find((j) => j.start === job.end);
        if (right !== undefined && right.seam === undefined && right.done > 0) right.seam = await readSeam(file, right.start);
        Object.assign(job, newJob({ start: job.start, end: job.end, done: 0 }));
      }
      await checkpoint.flush(); // the manifest must stop claiming the bytes just dropped
      pending = bad;
      diskCheck = new DiskCheck(jobs, api);
      hasher = await PrefixHasher.create(file, o.checksum?.algorithm, (offset, bytes) => diskCheck.observe(offset, bytes));
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
    if (!closed) await file.close();
  }
}
