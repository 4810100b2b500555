/** Runs the built CLI (the package's bin: the bundle from its code cache) as a real child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/launch.cjs', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  /** Resolves with the first --json event that satisfies `predicate` (rejects if the process exits first). */
  waitForEvent(predicate: (event: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function startCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ predicate: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void; reject: (e: Error) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout += `${line}\n`;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const waiter of [...waiters]) {
      if (waiter.predicate(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`CLI exited (${code ?? signal}) before the event; stderr: ${stderr}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    exited,
    waitForEvent: (predicate) => new Promise((resolve, reject) => waiters.push({ predicate, resolve, reject })),
  };
}

export async function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return startCli(args, options).exited;
}

/** Kills a CLI a test left running (SIGKILL) and waits for it; a no-op for one that already exited. */
export async function stopIfRunning(run: CliRun | undefined): Promise<void> {
  if (run === undefined) return;
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  await run.exited;
}
