/**
 * The `segdl-lib` row: segdl's library in one long-lived child process (lib-driver.ts), so a
 * download pays neither Node's start-up nor module loading, and may reuse pooled sockets. One
 * warm-up download of the scenario's file first (not counted), then the timed downloads back to
 * back: "warm" means no idle gap in which keep-alive sockets could time out.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fromCounts, jobFor, timeoutMs, type RunRecord, type RunSetup } from './cell.js';
import { verifyOutput } from './measure.js';
import type { Tool } from './tools.js';

export interface LibJob {
  url: string;
  output: string;
  connections: number;
}

export type LibReply =
  | { kind: 'ready' }
  | { kind: 'done'; wallMs: number; cpuMs: number; userMs: number; maxRssKiB: number; verifyMs: number }
  | { kind: 'failed'; error: string };

/** Starts the driver, warms it up with one download, then `runs` timed downloads; `onRun` sees each. */
export async function runLibrary(setup: RunSetup, tool: Tool, runs: number, onRun: (record: RunRecord, index: number) => void): Promise<RunRecord[]> {
  const { server, scenario, data } = setup;
  const base = tool.command(jobFor(scenario, server.urlFor(data.name), ''));
  const timeout = timeoutMs(scenario, tool);
  // The CLI raises libuv's pool to 16 for positional writes; do the same so only warmth differs.
  const child = fork(base.args[0]!, base.args.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' },
  });
  const driver = new Driver(child);
  const records: RunRecord[] = [];
  try {
    const hello = await driver.next(30_000);
    if (hello.kind !== 'ready') throw new Error(`lib-driver did not start: ${hello.kind === 'failed' ? hello.error : hello.kind}`);
    const warm = await downloadOnce(setup, tool, driver, 'warm-up', timeout);
    for (let i = 0; i < runs; i++) {
      const record = warm.ok ? await downloadOnce(setup, tool, driver, String(i), timeout) : { ok: false as const, error: `warm-up: ${warm.error}` };
      records.push(record);
      onRun(record, i);
      if (!record.ok) break;
    }
  } catch (error) {
    const record: RunRecord = { ok: false, error: `${(error as Error).message}${driver.stderr ? `: ${driver.stderr}` : ''}` };
    records.push(record);
    onRun(record, records.length - 1);
  } finally {
    await driver.close();
  }
  return records;
}

async function downloadOnce(setup: RunSetup, tool: Tool, driver: Driver, name: string, timeout: number): Promise<RunRecord> {
  const { server, scenario, data } = setup;
  const dir = join(setup.workDir, 'out', `${scenario.id}-${tool.name}-${name}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const output = join(dir, data.name);
  try {
    const counting = server.count();
    driver.send({ url: server.urlFor(data.name), output, connections: scenario.connections });
    const reply = await driver.next(timeout);
    const counts = await counting.settle();
    if (reply.kind !== 'done') return { ok: false, error: reply.kind === 'failed' ? reply.error : 'driver answered out of turn' };
    const wrong = await verifyOutput(output, data.size, data.sha256);
    if (wrong !== undefined) return { ok: false, error: wrong };
    return { ok: true, wallS: reply.wallMs / 1000, cpuS: reply.cpuMs / 1000, userS: reply.userMs / 1000, maxRssKiB: reply.maxRssKiB, verifyMs: reply.verifyMs, ...fromCounts(counts) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One request, one reply, in turn, over the child's IPC channel. */
class Driver {
  readonly #child: ChildProcess;
  readonly #replies: LibReply[] = [];
  #waiting: ((reply: LibReply | Error) => void) | undefined;
  #stderr = '';
  #exited = false;

  constructor(child: ChildProcess) {
    this.#child = child;
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.#stderr = (this.#stderr + s).slice(-2000)));
    child.on('message', (reply: LibReply) => this.#deliver(reply));
    child.once('exit', (code, signal) => {
      this.#exited = true;
      this.#deliver(new Error(`lib-driver exited (${signal ?? `exit ${code}`})`));
    });
  }

  get stderr(): string {
    return this.#stderr.trim().split('\n').slice(-3).join(' | ');
  }

  send(job: LibJob): void {
    this.#child.send(job);
  }

  async next(timeoutMs: number): Promise<LibReply> {
    const queued = this.#replies.shift();
    if (queued) return queued;
    if (this.#exited) throw new Error('lib-driver is gone');
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await new Promise<LibReply | Error>((done) => {
        this.#waiting = done;
        timer = setTimeout(() => done(new Error(`no reply from lib-driver after ${timeoutMs / 1000} s`)), timeoutMs);
      });
      if (reply instanceof Error) throw reply;
      return reply;
    } finally {
      clearTimeout(timer);
      this.#waiting = undefined;
    }
  }

  #deliver(reply: LibReply | Error): void {
    if (this.#waiting) this.#waiting(reply);
    else if (!(reply instanceof Error)) this.#replies.push(reply);
  }

  async close(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((done) => this.#child.once('exit', () => done()));
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
