/**
 * The scheduler's plan on a scripted clock: the in-order hand-out (issue 14, point 3) and the
 * decision on the first response's rate (issue 13, point 2). Both depend on measured rates and
 * first-byte times, which a loaded machine skews, so they are pinned here with fake timers and
 * connections that deliver exactly their scripted rate (and, where a case needs it, a burst first:
 * the first rate then reads several times the link's, as it did on a loaded CI machine). The
 * download test (test/download/prefix.test.ts) checks what holds whatever plan real rates lead to.
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
  /** The download's first request asks for this much (segdl's bounded first window); later requests ask for the rest of their job. */
  firstWindowBytes?: number;
}

interface Run {
  /** The contiguous prefix when the received bytes first passed `at` of the file. */
  prefix: number;
  jobs: Job[];
  /** Every request: its job, and the range it asked for. */
  requests: Array<{ job: Job; start: number; end: number }>;
}

/** Runs a scheduler over one fresh job of `size` bytes on scripted connections. */
async function scriptedRun(size: number, connections: number, at: number, link: Link = {}): Promise<Run> {
  const { bytesPerSecond = 3 * MiB, burstBytes = 0, firstByteMs = 20, firstWindowBytes } = link;
  const jobs = [newJob({ start: 0, end: size, done: 0 })];
  const requests: Run['requests'] = [];
  let prefixThen: number | undefined;
  const tick = () => new Promise((resolve) => setTimeout(resolve, TICK_MS));
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
    fetch: async (job, signal, streaming, pace) => {
      let burst = job.start === 0 ? burstBytes : 0;
      let flowing = false;
      // One request after another, as src/transfer/fetch-job.ts sends them; the job's end may shrink
      // while one runs (a piece given away, a steal): read it every tick.
      while (job.done < job.end - job.start) {
        pace.beforeRequest?.(job);
        const from = job.start + job.done;
        const asked = from === 0 && firstWindowBytes !== undefined ? Math.min(job.end, firstWindowBytes) : job.end;
        requests.push({ job, start: from, end: asked });
        await new Promise((resolve) => setTimeout(resolve, firstByteMs)); // the first byte's wait
        if (!flowing) streaming();
        flowing = true;
        while (job.start + job.done < Math.min(asked, job.end)) {
          await tick();
          if (signal.aborted) throw signal.reason;
          const n = Math.min((bytesPerSecond * TICK_MS) / 1000 + burst, Math.min(asked, job.end) - job.start - job.done);
          burst = 0;
          job.received += n;
          job.done += n;
          const received = jobs.reduce((sum, j) => sum + j.done, 0);
          if (prefixThen === undefined && received >= at * size) prefixThen = completePrefix(jobs);
        }
      }
    },
  });
  let finished = false;
  const run = scheduler.run().finally(() => {
    finished = true;
  });
  while (!finished) await vi.advanceTimersByTimeAsync(TICK_MS);
  await run;
  return { prefix: prefixThen!, jobs, requests };
}

describe('the in-order hand-out', () => {
  it('keeps the contiguous prefix close behind the bytes received (4 connections, 48 MiB)', async () => {
    const size = 48 * MiB;
    const { prefix, jobs } = await scriptedRun(size, 4, 0.75);
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
    const { prefix, jobs } = await scriptedRun(size, 4, 0.75, { burstBytes: MiB });
    expect(prefix).toBeGreaterThanOrEqual(0.4 * size);
    expect(jobs.length).toBeGreaterThan(8);
    expect(completePrefix(jobs)).toBe(size);
  });

  it('does not shrink the pieces below the shortest request worth its first-byte wait (100 ms away)', async () => {
    const size = 48 * MiB;
    // At 60 MiB/s per connection, eight first-byte waits of transfer (12 MiB per connection) are more
    // than 48 MiB holds for an in-order hand-out: an equal split, one request per connection, rather
    // than many shorter requests that would each wait 100 ms.
    const { jobs } = await scriptedRun(size, 4, 0.75, { bytesPerSecond: 60 * MiB, firstByteMs: 100 });
    expect(jobs.length).toBe(4);
    expect(completePrefix(jobs)).toBe(size);
  });

  it('cuts a short file into an equal split instead, which is all a prefix can follow', async () => {
    // 8 MiB at 4 connections holds fewer than two pieces per connection.
    const size = 8 * MiB;
    const { prefix, jobs } = await scriptedRun(size, 4, 0.75);
    expect(jobs.length).toBe(4);
    expect(prefix).toBeLessThan(0.5 * size);
    expect(completePrefix(jobs)).toBe(size);
  });
});

describe('a first response that ends before its rate decides', () => {
  // segdl's first request asks for a bounded window (16 MiB); on a fast link far away it arrives
  // whole within the measuring window, and its job's next request would ask for the rest of the file.
  const far = { bytesPerSecond: 1600 * MiB, firstByteMs: 100, firstWindowBytes: 16 * MiB };

  it('is decided on before its job asks for more: one connection is enough for 48 MiB more, and nothing is asked twice', async () => {
    const size = 64 * MiB;
    const { requests, jobs } = await scriptedRun(size, 16, 1, far);
    // The rest takes about 30 ms at this rate, against 100 ms for any new connection's first byte.
    expect(requests.map((r) => [r.start, r.end])).toEqual([
      [0, 16 * MiB],
      [16 * MiB, size],
    ]);
    expect(completePrefix(jobs)).toBe(size);
  });

  it('where more connections pay, the next request asks only for what its job keeps after the plan', async () => {
    const size = 1024 * MiB;
    const { requests, jobs } = await scriptedRun(size, 16, 1, far);
    const first = requests.filter((r) => r.job === jobs[0]);
    expect(first.length).toBeGreaterThanOrEqual(2);
    expect(jobs.length).toBeGreaterThan(1);
    // Asked for no byte that another connection was then given (which the server would push anyway).
    for (const r of first) expect(r.end).toBeLessThanOrEqual(jobs[0]!.end);
    expect(completePrefix(jobs)).toBe(size);
  });
});
