/**
 * A download streamed to a Writable (`-o -`, or a Writable as `output`): no .part, no manifest,
 * nothing to resume. With ranges, pieces are handed out in file order within a window past the
 * bytes already written out (src/stream/ordered-output.ts), over every connection; without, one
 * stream from byte 0. The digests are computed as the bytes pass, in order.
 */
import type { Writable } from 'node:stream';
import { planRanges } from '../schedule/plan.js';
import { newJob, type Job } from '../schedule/scheduler.js';
import { OrderedOutput, STREAM_WINDOW_BYTES } from '../stream/ordered-output.js';
import { InOrderDigest } from '../verify/in-order-digest.js';
import { fetchWhole } from './fetch-job.js';
import { reportProgress } from './progress.js';
import { sourceFetch } from './source-fetch.js';
import type { Source, SourcePool } from './sources.js';
import { ALIGNMENT, checkDigest, fetchContextFor, makeScheduler, type TransferContext, type TransferOutcome } from './transfer.js';

/** `pool` and `size` when the server serves ranges of a known length; otherwise one stream from `source`. */
export async function transferStream(
  ctx: TransferContext,
  writable: Writable,
  ranged: { pool: SourcePool; size: number } | undefined,
  source: Source,
  size: number | undefined,
): Promise<TransferOutcome> {
  const o = ctx.options;
  const digest = await InOrderDigest.create(o.checksum?.algorithm);
  const output = new OrderedOutput(writable, digest, source.url.href);
  let fetched = 0;
  const onWritten = (_job: Job, bytes: number) => {
    fetched += bytes;
  };
  try {
    let final: number;
    let connectionsUsed = 1;
    if (ranged !== undefined) {
      const total = ranged.size;
      const connections = ctx.firstByteMs === undefined ? o.connections : 1;
      const jobs = planRanges(total === 0 ? [] : [{ start: 0, end: total }], { connections, minSplitSize: o.minSplitSize, alignment: ALIGNMENT }).map((r) => newJob({ ...r, done: 0 }));
      const byStart = new Map(jobs.map((j) => [j.start, j]));
      // A fresh segment's seam is checked as its first bytes go out (nothing can be fetched again after).
      output.seamAt = (offset) => byStart.get(offset)?.seam;
      const stopProgress = reportProgress(jobs, total, 0, () => fetched, o.progressIntervalMs, (p) => ctx.progress(p));
      try {
        const { fetch } = sourceFetch(ctx, ranged.pool, output, total, onWritten, undefined);
        const scheduler = makeScheduler(ctx, jobs, o.connections, source.url, fetch, {
          firstByteMs: ctx.firstByteMs,
          onSplit: (_victim, piece) => byStart.set(piece.start, piece),
          window: () => output.emitted + STREAM_WINDOW_BYTES,
          maxPieceBytes: Math.max(1024 * 1024, Math.floor(STREAM_WINDOW_BYTES / o.connections)),
        });
        ctx.onScheduler?.(scheduler);
        output.onAdvance = () => scheduler.nudge();
        await scheduler.run();
        await output.finish(total);
        connectionsUsed = scheduler.peakConnections;
      } finally {
        stopProgress();
      }
      final = total;
    } else {
      const job = newJob({ start: 0, end: size ?? Number.MAX_SAFE_INTEGER, done: 0 });
      const stopProgress = reportProgress([job], size, 0, () => fetched, o.progressIntervalMs, (p) => ctx.progress(p));
      try {
        const fetchCtx = {
          ...fetchContextFor(ctx, source, output, 0, onWritten),
          expected: { url: source.url.href, size, etag: source.etag, lastModified: source.lastModified },
          maxSize: o.maxSize,
        };
        // A retry would start again at byte 0, after bytes went out: the output refuses it (ERR_STREAM_BROKEN).
        const scheduler = makeScheduler(ctx, [job], 1, source.url, async (j, signal) => {
          fetched -= j.done;
          await fetchWhole(fetchCtx, j, signal, () => {});
        });
        await scheduler.run();
        final = job.done;
        await output.finish(final);
      } finally {
        stopProgress();
      }
    }
    const result = digest.finish();
    checkDigest(ctx, result, source.url.href);
    return { size: final, resumedBytes: 0, fetched, digest: result, connectionsUsed, verifyMs: 0 };
  } finally {
    output.release();
  }
}
