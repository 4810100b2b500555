#!/usr/bin/env node
/**
 * The `segdl` command. Errors are one line (`segdl: ERR_CODE: message`), exit codes follow
 * DESIGN §4, and SIGINT/SIGTERM stop the download with its state saved for the next run.
 * Only what the command uses is loaded: the TTY frame, batches, lists, netrc and checksum files
 * each on demand, so `segdl URL` starts as fast as it can.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { Download } from '../download.js';
import { DownloadError } from '../errors.js';
import type { DownloadOptions } from '../options.js';
import { parseCommand, UsageError, type DownloadCommand } from './args.js';
import { EXIT, exitFlushed } from './exit.js';
import { attachReporter, resultLine, type ReportMode } from './report.js';
import { version } from './version.js';

/**
 * `-o -`: the file goes to fd 1 through fs writes (on libuv's threads), so a slow reader blocks a
 * worker thread, never the event loop. `process.stdout` is not touched before the end: Node would
 * set the pipe non-blocking, and the writes would fail with EAGAIN whenever the reader lags.
 */
function stdoutStream(): Writable {
  return createWriteStream('/dev/stdout', { fd: 1, autoClose: false });
}

async function runDownload(url: string, options: DownloadOptions, command: DownloadCommand): Promise<number> {
  const toStdout = options.output === '-';
  const download = new Download(url, toStdout ? { ...options, output: stdoutStream() } : options);
  const mode: ReportMode = command.json ? 'json' : command.quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain';
  // JSON lines go to stdout, which never carries the file at the same time (-o - refuses --json).
  const reporter = attachReporter(download, mode, process.stderr, mode === 'json' ? process.stdout : process.stderr, mode === 'tty' ? await import('./frame.js') : undefined);
  let signalExit: number | undefined;
  const onSignal = (name: 'SIGINT' | 'SIGTERM') => () => {
    signalExit = name === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
    download.abort(new DownloadError('ERR_ABORTED', `interrupted by ${name}; run the same command again to resume`));
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const result = await download.start();
    reporter.close();
    if (mode === 'json') process.stdout.write(`${JSON.stringify({ event: 'result', ...result })}\n`);
    else if (mode !== 'quiet') process.stderr.write(`${resultLine(result)}\n`);
    return EXIT.ok;
  } catch (error) {
    reporter.close();
    report(error, command.debug, command.json);
    if (signalExit !== undefined) return signalExit;
    if (error instanceof DownloadError && error.code === 'ERR_OUTPUT_CLOSED') return EXIT.outputClosed;
    return error instanceof DownloadError && error.code === 'ERR_CHECKSUM_MISMATCH' ? EXIT.checksum : EXIT.failed;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

async function run(command: DownloadCommand): Promise<number> {
  // The common case needs nothing more: one URL, no lists, no credentials file, no checksum file.
  if (!command.batch && command.netrcFile === undefined && command.checksumFile === undefined) return runDownload(command.urls[0]!, command.options, command);
  const jobs = await (await import('./jobs.js')).prepareJobs(command);
  if (!command.batch) return runDownload(jobs[0]!.url, jobs[0]!.options, command);
  return (await import('./batch.js')).runBatch(jobs, command);
}

function report(error: unknown, debug: boolean, json: boolean): void {
  const code = error instanceof DownloadError || error instanceof UsageError ? error.code : 'ERR_INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  if (json) process.stdout.write(`${JSON.stringify({ event: 'error', code, message })}\n`);
  process.stderr.write(`segdl: ${code}: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
}

async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const command = parseCommand(argv);
    switch (command.kind) {
      case 'help':
        process.stdout.write((await import('./usage.js')).USAGE);
        return EXIT.ok;
      case 'version':
        process.stdout.write(`${version()}\n`);
        return EXIT.ok;
      case 'serve':
        // Loaded only when asked for: a download never pays for the server's modules.
        return await (await import('./serve-command.js')).runServe(command.argv, process.stdout);
      case 'hash':
        return await (await import('./hash-command.js')).runHash(command.argv, process.stdout, process.stderr);
      case 'daemon':
        return await (await import('./daemon-command.js')).runDaemon(command.argv, process.stdout, process.stderr, version());
      case 'download':
        return await run(command);
    }
  } catch (error) {
    report(error, debug, false);
    return error instanceof UsageError || (error instanceof DownloadError && error.code === 'ERR_INVALID_OPTION') ? EXIT.usage : EXIT.failed;
  }
}

// What the launcher sets before loading the bundle (src/cli/launch.cts), also when run unbundled.
setFlagsFromString('--wasm-tiering-budget=50000000');
// More libuv threads than the default 4, so 8-16 connections' positional writes run in parallel.
process.env.UV_THREADPOOL_SIZE ??= '16';
void main(process.argv.slice(2)).then(exitFlushed);
