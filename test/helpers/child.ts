/**
 * Runs a small ES module as its own Node process against the built library (dist/), for what
 * only a separate process can show: that it exits by itself, and how much CPU it burned.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const LIBRARY = pathToFileURL(fileURLToPath(new URL('../../dist/src/index.js', import.meta.url))).href;

/** A preload for `NODE_OPTIONS=--import=…` that writes the process's CPU time to $SEGDL_CPU_REPORT at exit. */
export const CPU_REPORT = fileURLToPath(new URL('./cpu-report.mjs', import.meta.url));

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Writes `body` (top-level await allowed; `segdl` is the library's namespace) to `dir` and runs it. */
export async function runLibraryScript(dir: string, body: string, env: NodeJS.ProcessEnv = {}): Promise<ChildRun> {
  const file = join(dir, `child-${process.hrtime.bigint()}.mjs`);
  await writeFile(file, `import * as segdl from ${JSON.stringify(LIBRARY)};\n${body}\n`);
  const child = spawn(process.execPath, [file], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // The process ending on its own ('exit') is the point; 'close' then says its output is all read.
  const closed = once(child, 'close');
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  await closed;
  return { code, signal, stdout, stderr };
}

/** User + system CPU seconds from a `process.cpuUsage()` value. */
export function cpuSeconds(usage: { user: number; system: number }): number {
  return (usage.user + usage.system) / 1e6;
}
