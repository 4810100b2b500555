/** Throttled, smoothed progress snapshots built from the scheduler's jobs. */
import type { Progress } from '../events.js';
import type { Job } from '../schedule/scheduler.js';

/** Calls `emit` every `intervalMs` until the returned function is called. */
export function reportProgress(
  jobs: readonly Job[],
  total: number | undefined,
  resumedBytes: number,
  fetched: () => number,
  intervalMs: number,
  emit: (progress: Progress) => void,
): () => void {
  let lastBytes = fetched();
  let lastAt = Date.now();
  let speed = 0;
  const tick = () => {
    const now = Date.now();
    const bytes = fetched();
    const instant = ((bytes - lastBytes) * 1000) / Math.max(1, now - lastAt);
    speed = speed === 0 ? instant : speed * 0.7 + instant * 0.3; // smoothed, so the ETA does not jump
    lastBytes = bytes;
    lastAt = now;
    const transferred = resumedBytes + bytes;
    emit({
      transferredBytes: transferred,
      totalBytes: total,
      resumedBytes,
      fetchedBytes: bytes,
      bytesPerSecond: speed,
      etaMs: total !== undefined && speed > 0 ? ((total - transferred) * 1000) / speed : undefined,
      prefixBytes: completePrefix(jobs),
      segments: jobs.map((j) => ({
        start: j.start,
        end: j.end,
        done: j.done,
        active: j.active,
        bytesPerSecond: j.active ? ((j.received - j.attemptStartBytes) * 1000) / Math.max(1, now - j.attemptStartedAt) : 0,
      })),
    });
  };
  const timer = setInterval(tick, Math.max(intervalMs, 10));
  timer.unref();
  return () => clearInterval(timer);
}

/** The first byte not yet on disk, scanning segments in file order (linear in the segments). */
export function completePrefix(jobs: readonly Job[]): number {
  const byStart = new Map<number, Job>();
  for (const job of jobs) byStart.set(job.start, job);
  let prefix = 0;
  for (;;) {
    const next = byStart.get(prefix);
    if (next === undefined || next.end === next.start) return prefix;
    prefix = next.start + next.done;
    if (next.done < next.end - next.start) return prefix;
  }
}
