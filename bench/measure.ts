/**
 * Runs one command under GNU time (`-f '%e %U %S %M' -o FILE`) and returns wall, CPU and peak
 * RSS of that command alone; then checks the file it produced. A wrong file is a failure,
 * never a number.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256File } from '../fixtures/data.js';
import type { Command } from './tools.js';

const GNU_TIME = '/usr/bin/time';

export interface Measured {
  /** Exit code, or undefined when the process died of a signal. */
  exitCode: number | undefined;
  signal: string | undefined;
  /** Wall seconds from spawn to exit (the harness's clock: finer than time's 10 ms). */
  wallS: number;
  /** From GNU time; undefined when /usr/bin/time is missing. */
  userS: number | undefined;
  sysS: number | undefined;
  maxRssKiB: number | undefined;
  /** Last lines of stderr, for failure messages. */
  stderrTail: string;
  /** Whether `stopWhen` fired and the tool was SIGKILLed. */
  killed: boolean;
  /** The last non-empty line of stdout, when the command asked for it (`stdout: 'last-line'`). */
  lastLine?: string | undefined;
  /** sha256 (hex) of everything the command wrote to stdout (`stdout: 'sha256'`). */
  stdoutSha256?: string | undefined;
}

export interface MeasureOptions {
  cwd: string;
  timeoutMs: number;
  /** Polled every 20 ms; when it returns true the tool itself (not GNU time) gets SIGKILL. */
  stopWhen?: () => boolean;
}

export const hasGnuTime = (): boolean => existsSync(GNU_TIME);

/** The process being measured now, so Ctrl-C on the harness can take it down too. */
let current: { pid: number } | undefined;
export function killCurrent(): void {
  if (current) killGroup(current.pid);
}

export async function measure(command: Command, options: MeasureOptions): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'segdl-bench-'));
  const timeFile = join(dir, 'time');
  const timed = hasGnuTime();
  const [cmd, args] = timed ? [GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, command.cmd, ...command.args]] : [command.cmd, command.args];
  // `| sha256sum`: the tool's stdout is the hasher's stdin, a kernel pipe this process never reads.
  const hasher = command.stdout === 'sha256' ? spawn('sha256sum', [], { stdio: ['pipe', 'pipe', 'ignore'] }) : undefined;
  const hashed = hasher === undefined ? undefined : hashOutput(hasher);
  const started = performance.now();
  // Own process group: a timeout can kill the tool and everything it started.
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    stdio: ['ignore', hasher?.stdin ?? (command.stdout === 'last-line' ? 'pipe' : 'ignore'), 'pipe'],
    detached: true,
  });
  // The hasher sees end of file when the tool's copy closes, so drop ours.
  hasher?.stdin!.destroy();
  current = child.pid === undefined ? undefined : { pid: child.pid };
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  // Only the last complete line and the unfinished one are kept: progress lines add up.
  let lastLine: string | undefined;
  let partial = '';
  if (command.stdout === 'last-line') {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop()!;
      const full = lines.filter((l) => l.trim() !== '').at(-1);
      if (full !== undefined) lastLine = full;
    });
  }
  let killed = false;
  let timedOut = false;
  const poll = setInterval(() => {
    if (killed || !options.stopWhen?.()) return;
    killed = true;
    killTool(child.pid!, timed);
  }, 20);
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid!);
  }, options.timeoutMs);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
      child.once('error', fail);
      child.once('close', (c, s) => done([c, s]));
    });
    const wallS = (performance.now() - started) / 1000;
    const usage = timed ? parseTime(await readFile(timeFile, 'utf8').catch(() => '')) : undefined;
    // GNU time exits 128+n when the tool died of signal n.
    const toolSignal = signal ?? (timed && code !== null && code > 128 ? `signal ${code - 128}` : undefined);
    if (timedOut) stderr += `\ntimed out after ${options.timeoutMs / 1000} s`;
    return {
      exitCode: toolSignal === undefined && code !== null ? code : undefined,
      signal: toolSignal,
      wallS,
      userS: usage?.userS,
      sysS: usage?.sysS,
      maxRssKiB: usage?.maxRssKiB,
      stderrTail: stderr.trim().split('\n').slice(-3).join(' | '),
      killed,
      ...(command.stdout === 'last-line' ? { lastLine: partial.trim() !== '' ? partial : lastLine } : {}),
      ...(hashed !== undefined ? { stdoutSha256: await hashed } : {}),
    };
  } finally {
    clearInterval(poll);
    clearTimeout(timer);
    current = undefined;
    await rm(dir, { recursive: true, force: true });
  }
}

/** The hex digest sha256sum prints for its stdin ("HEX  -"); empty if it printed nothing. */
async function hashOutput(hasher: ChildProcess): Promise<string> {
  let out = '';
  hasher.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  await new Promise<void>((done) => hasher.once('close', () => done()));
  return out.trim().split(/\s+/)[0] ?? '';
}

/** Kills the tool under GNU time, so time still reports its CPU and RSS up to the kill. */
function killTool(pid: number, timed: boolean): void {
  const tool = timed ? childOf(pid) : pid;
  if (tool === undefined) return killGroup(pid);
  try {
    process.kill(tool, 'SIGKILL');
  } catch {
    killGroup(pid);
  }
}

/** The tool's pid: GNU time's only child. Read synchronously so the kill lands in this poll tick. */
function childOf(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Parses the last line of GNU time's output (a killed command gets a "terminated by signal" line first). */
export function parseTime(text: string): { userS: number; sysS: number; maxRssKiB: number } | undefined {
  const last = text.trim().split('\n').at(-1) ?? '';
  const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(last);
  if (!m) return undefined;
  return { userS: Number(m[2]), sysS: Number(m[3]), maxRssKiB: Number(m[4]) };
}

/** Undefined when `path` is exactly the expected file, otherwise what is wrong with it. */
export async function verifyOutput(path: string, size: number, sha256: string): Promise<string | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 'no output file';
  if (info.size !== size) return `output is ${info.size} bytes, expected ${size}`;
  const actual = await sha256File(path);
  return actual === sha256 ? undefined : `sha256 mismatch (${actual.slice(0, 12)}…)`;
}
