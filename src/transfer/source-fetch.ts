/**
 * One attempt at a job from one of the download's sources, as the scheduler asks for it: a source
 * is picked per attempt (mirrors share the work), an expired signed link is renewed through the
 * caller's hook, and the outcome is booked to the source. Which sources wrote into each job is
 * kept, so a job that fails a check convicts the mirrors that wrote it.
 */
import { isRetryable, toDownloadError } from '../errors.js';
import type { WriteTarget } from '../disk/writer.js';
import type { Job, RequestPace, SchedulerParams } from '../schedule/scheduler.js';
import type { PieceHashing } from '../verify/piece-hashing.js';
import { fetchJob, type FetchContext } from './fetch-job.js';
import type { Source, SourcePool } from './sources.js';
import { fetchContextFor, type TransferContext } from './transfer.js';

export function sourceFetch(
  ctx: TransferContext,
  pool: SourcePool,
  target: WriteTarget,
  size: number,
  onWritten: FetchContext['onWritten'],
  hashing: PieceHashing | undefined,
): { fetch: SchedulerParams['fetch']; contributors: Map<Job, Set<Source>> } {
  const contributors = new Map<Job, Set<Source>>();
  const fetch = async (job: Job, signal: AbortSignal, streaming: () => void, pace: RequestPace) => {
    const source = pool.pick();
    const fetchCtx = (): FetchContext => ({ ...fetchContextFor(ctx, source, target, size, onWritten), ...(hashing === undefined ? {} : { hashing }) });
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
  return { fetch, contributors };
}
