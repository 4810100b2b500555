/**
 * Many downloads from one command, through one DownloadQueue: `-j` files at once, connections
 * capped per file, per host and in all. One failure never stops the others; the exit code is 0
 * only if every file succeeded. Ctrl-C (or SIGTERM) stops every download with its state saved,
 * so the same command resumes them all.
 */
import pLimit from 'p-limit';
import { publicUrl } from '../disk/manifest.js';
import { DownloadError } from '../errors.js';
import type { DownloadResult } from '../events.js';
import { DownloadQueue } from '../queue.js';
import type { DownloadCommand } from './args.js';
import { BatchReporter, describeError, type BatchFrames } from './batch-report.js';
import type { Job } from './jobs.js';
import { EXIT } from './exit.js';

type Outcome =
  | { job: Job; id: number; state: 'done'; result: DownloadResult }
  | { job: Job; id: number | undefined; state: 'failed'; error: unknown }
  | { job: Job; id: number | undefined; state: 'interrupted' | 'not started' };

export async function runBatch(jobs: Job[], command: DownloadCommand): Promise<number> {
  const mode = command.json ? 'json' : command.quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain';
  const frames: BatchFrames | undefined = mode === 'tty' ? { ...(await import('./frame.js')), ...(await import('./batch-frame.js')) } : undefined;
  const reporter = new BatchReporter(mode, jobs.length, process.stderr, process.stdout, frames);
  // 8 per host (the queue's default), more if one file asks for more; --max-connections in all.
  const perHost = Math.max(8, ...jobs.map((j) => j.options.connections ?? 8));
  const queue = new DownloadQueue({ maxConnections: command.maxConnections, maxConnectionsPerHost: perHost });
  // The queue makes an item's Download when its turn comes (again after a pause): follow each one.
  queue.on('download', ({ id, download }) => reporter.attach(id, download));
  const limit = pLimit(command.jobs);
  let signal: 'SIGINT' | 'SIGTERM' | undefined;
  const dropped: Array<() => void> = [];
  const onSignal = (name: 'SIGINT' | 'SIGTERM') => () => {
    signal ??= name;
    limit.clearQueue();
    for (const drop of dropped) drop();
    queue.cancel();
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const run = async (job: Job): Promise<Outcome> => {
      if (signal !== undefined) return { job, id: undefined, state: 'not started' };
      const item = queue.add(job.url, job.options);
      try {
        const result = await item;
        reporter.finished(item.id, result);
        return { job, id: item.id, state: 'done', result };
      } catch (error) {
        if (signal !== undefined && error instanceof DownloadError && error.code === 'ERR_ABORTED') {
          reporter.interrupted(item.id);
          return { job, id: item.id, state: 'interrupted' };
        }
        reporter.failed(item.id, error);
        return { job, id: item.id, state: 'failed', error };
      }
    };
    const outcomes = await Promise.all(
      jobs.map(
        (job) =>
          new Promise<Outcome>((resolve) => {
            let started = false;
            // clearQueue() drops a job still waiting for its turn without settling it: settle it here.
            dropped.push(() => started || resolve({ job, id: undefined, state: 'not started' }));
            limit(() => {
              started = true;
              return run(job);
            }).then(resolve, (error: unknown) => resolve({ job, id: undefined, state: 'failed', error }));
          }),
      ),
    );
    reporter.close();
    return close(outcomes, command, signal, reporter);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

function close(outcomes: Outcome[], command: DownloadCommand, signal: 'SIGINT' | 'SIGTERM' | undefined, reporter: BatchReporter): number {
  const count = (state: Outcome['state']) => outcomes.filter((o) => o.state === state).length;
  if (command.json) {
    const downloads = outcomes.map((o) => ({
      id: o.id ?? null,
      url: publicUrl(new URL(o.job.url)),
      state: o.state,
      path: reporter.pathOf(o.id),
      ...(o.state === 'done' ? { size: o.result.size, bytesFetched: o.result.bytesFetched, resumed: o.result.resumed, digest: o.result.digest } : {}),
      ...(o.state === 'failed' ? describeError(o.error) : {}),
    }));
    const summary = { event: 'summary', files: outcomes.length, succeeded: count('done'), failed: count('failed'), interrupted: count('interrupted'), notStarted: count('not started'), downloads };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  }
  const failed = outcomes.filter((o): o is Extract<Outcome, { state: 'failed' }> => o.state === 'failed');
  if (failed.length > 0) {
    process.stderr.write(`segdl: ${failed.length} of ${outcomes.length} downloads failed:\n`);
    for (const o of failed) {
      const { code, message } = describeError(o.error);
      process.stderr.write(`segdl:   ${o.job.origin}: ${publicUrl(new URL(o.job.url))}: ${code}: ${message}\n`);
    }
  }
  if (signal !== undefined) {
    const saved = count('interrupted');
    process.stderr.write(`segdl: ERR_ABORTED: interrupted by ${signal}; ${count('done')} done, ${saved} saved, ${count('not started')} not started: run the same command again to resume\n`);
    return signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
  }
  if (failed.length === 0 && !command.quiet && !command.json) process.stderr.write(`segdl: all ${outcomes.length} downloads done\n`);
  return failed.length === 0 ? EXIT.ok : EXIT.failed;
}
