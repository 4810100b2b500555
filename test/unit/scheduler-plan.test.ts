/**
 * The in-order hand-out (issue 14, point 3) on a scripted clock: the scheduler's decisions depend on
 * measured rates and first-byte times, which a loaded machine skews, so the plan itself is pinned
 * here with fake timers and connections that deliver exactly their scripted rate (and, where a case
 * needs it, a burst first: the first rate then reads several times the link's, as it did on a
 * loaded CI machine). The download test (test/download/prefix.test.ts) checks what holds whatever
 * plan the real rates lead to.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newJob, Scheduler, type Job } from '../../src/schedule/scheduler.js';
import { completePrefix } from '../../src/transfer/progress.js';

const MiB = 1024 * 1024;
/** Each connection's bytes arrive every TICK_MS of simulated time. */
const TICK_MS = 10;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Link {
  /** Each connection's rate. */
  bytesPerSecond?: number;
  /** Bytes the first response delivers at once with its first read (what piled up in buffers). */
  burstBytes?: number;
  firstByteMs?: number;
}

/** Runs a scheduler over one fresh job of `size` bytes; returns the prefix when the received bytes first pass `at` of the file. */
async function prefixWhenReceived(size: number, connections: number, at: number, link: Link = {}): Promise<{ prefix: number; jobs: Job[] }> {
  const { bytesPerSecond = 3 * MiB, burstBytes = 0, firstByteMs = 20 } = link;
  const jobs = [newJob({ start: 0, end: size, done: 0 })];
  let prefixThen: number | undefined;
  const scheduler = new Scheduler({
    jobs,
    connections,
    minSplitSize: 256 * 1024,
    alignment: 64 * 1024,
    blockAlignment: MiB,
    retry: { attempts: 0, minDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
    signal: new AbortController().signal,
    firstByteMs,
    now: () => Date.now(),
    fetch: async (job, signal, streaming) => {
      await new Promise((resolve) => setTimeout(resolve, firstByteMs)); // the first byte's wait
      streaming();
      let burst = job.start === 0 ? burstBytes : 0;
      // The job's end may shrink while it runs (a piece given away, a steal): read it every tick.
      while (job.done < job.end - job.start) {
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
        if (signal.aborted) throw signal.reason;
        const n = Math.min((bytesPerSecond * TICK_MS) / 1000 + burst, job.end - job.start - job.done);
        burst = 0;
        job.received += n;
        job.done += n;
        const received = jobs.reduce((sum, j) => sum + j.done, 0);
        if (prefixThen === undefined && received >= at * size) prefixThen = completePrefix(jobs);
      }
    },
  });
  let finished = false;
  const run = scheduler.run().finally(() => {
    finished = true;
  });
  while (!finished) await vi.advanceTimersByTimeAsync(TICK_MS);
  await run;
  return { prefix: prefixThen!, jobs };
}

describe('the in-order hand-out', () => {
  it('keeps the contiguous prefix close behind the bytes received (4 connections, 48 MiB)', async () => {
    const size = 48 * MiB;
    const { prefix, jobs } = await prefixWhenReceived(size, 4, 0.75);
    // Four equal segments, one per connection, would have the first one three quarters done: 19 %.
    expect(prefix).toBeGreaterThanOrEqual(0.5 * size);
    // The file was cut into many request-sized pieces, not four quarters.
    expect(jobs.length).toBeGreaterThan(8);
    expect(Math.max(...jobs.map((j) => j.end - j.start))).toBeLessThan(size / 4);
    // Together the pieces are the file, once each.
    const sorted = [...jobs].sort((a, b) => a.start - b.start);
    sorted.forEach((job, i) => expect(job.start).toBe(i === 0 ? 0 : sorted[i - 1]!.end));
    expect(sorted.at(-1)!.end).toBe(size);
    expect(completePrefix(jobs)).toBe(size);
  });

  it('still hands out in order when the first rate was a burst (the pieces shrink to fit, no shorter than a worthwhile request)', async () => {
    const size = 48 * MiB;
    // 1 MiB at once, then 3 MiB/s: the first response's rate reads several times the link's.
    const { prefix, jobs } = await prefixWhenReceived(size, 4, 0.75, { burstBytes: MiB });
    expect(prefix).toBeGreaterThanOrEqual(0.4 * size);
    expect(jobs.length).toBeGreaterThan(8);
    expect(completePrefix(jobs)).toBe(size);
  });

  it('does not shrink the pieces below the shortest request worth its first-byte wait (100 ms away)', async () => {
    const size = 48 * MiB;
    // At 60 MiB/s per connection, eight first-byte waits of transfer (12 MiB per connection) are more
    // than 48 MiB holds for an in-order hand-out: an equal split, one request per connection, rather
    // than many shorter requests that would each wait 100 ms.
    const { jobs } = await prefixWhenReceived(size, 4, 0.75, { bytesPerSecond: 60 * MiB, firstByteMs: 100 });
    expect(jobs.length).toBe(4);
    expect(completePrefix(jobs)).toBe(size);
  });

  it('cuts a short file into an equal split instead, which is all a prefix can follow', async () => {
    // 8 MiB at 4 connections holds fewer than two pieces per connection.
    const size = 8 * MiB;
    const { prefix, jobs } = await prefixWhenReceived(size, 4, 0.75);
    expect(jobs.length).toBe(4);
    expect(prefix).toBeLessThan(0.5 * size);
    expect(completePrefix(jobs)).toBe(size);
  });
});
