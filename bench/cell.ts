/**
 * One run of one tool in one scenario: a fresh directory, the command under GNU time, what the
 * server saw during it, and a check of the file (or of stdout's sha256). Scenario E kills the
 * tool at half the file (as seen by the server) and runs the same command again. Start-up rows
 * download nothing: only their exit code is checked.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchServer, ServerCounts } from './bench-server.js';
import type { DataFile } from './data.js';
import { measure, verifyOutput, type Measured } from './measure.js';
import { MB, type Scenario } from './scenarios.js';
import { verifyMsOf, type Tool, type ToolJob } from './tools.js';

export type RunRecord =
  | {
      ok: true;
      wallS: number;
      /** user + sys of the tool (both halves in E); undefined without GNU time. */
      cpuS: number | undefined;
      /** The user part of cpuS: the tool's own work, which this VM's page-fault noise (bench/README) leaves alone. */
      userS?: number | undefined;
      maxRssKiB: number | undefined;
      /** Body bytes the server sent during this run (both halves in E). */
      serverBytes: number;
      /** Requests turned away with 503 by maxConnections. */
      refused: number;
      /** Distinct connections the server logged requests on, and those requests (both halves in E). */
      connections: number;
      requests: number;
      /** E: bytes the server had sent when the tool was killed. */
      killedAtBytes?: number;
      /** segdl's `verifyMs` from its `--json` result (E: the resumed run's): last byte on disk to a verified file. */
      verifyMs?: number;
    }
  /** `unsupported`: the tool refused the mode (segdl without `-o -` yet): shown as "not supported", not a failure. */
  | { ok: false; error: string; unsupported?: true };

export function jobFor(scenario: Scenario, url: string, output: string, ca?: string): ToolJob {
  return { url, output, connections: scenario.connections, resume: scenario.kind === 'resume', ...(ca !== undefined ? { ca } : {}) };
}

/** Generous: a run that takes 4× its ideal (or crawls below 20 MB/s unthrottled) is broken. */
export function timeoutMs(scenario: Scenario, tool: Tool): number {
  const ideal = scenario.ideal?.(tool.connections(scenario.connections));
  return 1000 * (ideal !== undefined ? 4 * ideal + 30 : scenario.size / (20 * MB) + 60);
}

export interface RunSetup {
  server: BenchServer;
  workDir: string;
  scenario: Scenario;
  data: DataFile;
  /** T: the CA file the tools must trust. */
  ca?: string | undefined;
}

export async function runOnce(setup: RunSetup, tool: Tool, index: number): Promise<RunRecord> {
  const { server, scenario, data } = setup;
  const dir = join(setup.workDir, 'out', `${scenario.id}-${tool.name}-${index}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const output = join(dir, data.name);
  const command = tool.command(jobFor(scenario, server.urlFor(data.name), output, setup.ca));
  const timeout = timeoutMs(scenario, tool);
  try {
    const counting = server.count();
    const halves: Measured[] = [];
    let killedAtBytes: number | undefined;
    if (scenario.kind === 'resume' && tool.kind === 'download') {
      const first = await measure(command, { cwd: dir, timeoutMs: timeout, stopWhen: () => counting.sentSoFar() >= scenario.size / 2 });
      if (!first.killed) return { ok: false, error: `not killed: the first run ended (${describeExit(first)}) before half the file` };
      killedAtBytes = counting.sentSoFar();
      halves.push(first);
      await counting.settle();
    }
    const last = await measure(command, { cwd: dir, timeoutMs: timeout });
    halves.push(last);
    const counts = await counting.settle();
    const unsupported = tool.kind === 'stdout' ? stdoutUnsupported(last, dir) : undefined;
    if (unsupported !== undefined) return { ok: false, unsupported: true, error: unsupported };
    if (last.exitCode !== 0) return { ok: false, error: describeExit(last) };
    const wrong = await checkOutput(tool, last, output, data);
    if (wrong !== undefined) return { ok: false, error: wrong };
    const verifyMs = command.stdout === 'last-line' ? verifyMsOf(last.lastLine) : undefined;
    return {
      ok: true,
      wallS: sum(halves.map((h) => h.wallS)),
      cpuS: halves.every((h) => h.userS !== undefined) ? sum(halves.map((h) => h.userS! + h.sysS!)) : undefined,
      userS: halves.every((h) => h.userS !== undefined) ? sum(halves.map((h) => h.userS!)) : undefined,
      maxRssKiB: halves.every((h) => h.maxRssKiB !== undefined) ? Math.max(...halves.map((h) => h.maxRssKiB!)) : undefined,
      ...fromCounts(counts),
      ...(killedAtBytes !== undefined ? { killedAtBytes } : {}),
      ...(verifyMs !== undefined ? { verifyMs } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const fromCounts = (c: ServerCounts): Pick<Extract<RunRecord, { ok: true }>, 'serverBytes' | 'refused' | 'connections' | 'requests'> => ({
  serverBytes: c.bytesSent,
  refused: c.refused,
  connections: c.connections,
  requests: c.requests,
});

/** A file-writing tool must leave exactly the file; a stdout one must have printed exactly it; a start-up row nothing. */
async function checkOutput(tool: Tool, m: Measured, output: string, data: DataFile): Promise<string | undefined> {
  switch (tool.kind) {
    case 'startup':
      return undefined;
    case 'stdout':
      if (m.stdoutSha256 === EMPTY_SHA256) return 'stdout was empty';
      return m.stdoutSha256 === data.sha256 ? undefined : `stdout sha256 mismatch (${m.stdoutSha256?.slice(0, 12) ?? 'none'}…)`;
    default:
      return verifyOutput(output, data.size, data.sha256);
  }
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * Why `-o -` did not stream, when the tool says it cannot: a usage error (exit 2, ERR_USAGE),
 * or an older segdl that saved a file named `-` instead. undefined = it tried to stream.
 */
function stdoutUnsupported(m: Measured, dir: string): string | undefined {
  if (m.exitCode === 2) return `refused \`-o -\` (${m.stderrTail || 'exit 2'})`;
  if (m.exitCode === 0 && existsSync(join(dir, '-'))) return 'no stdout mode: `-o -` saved a file named `-`';
  return undefined;
}

function describeExit(m: Measured): string {
  const how = m.exitCode !== undefined ? `exit ${m.exitCode}` : `killed by ${m.signal ?? 'signal'}`;
  return m.stderrTail ? `${how}: ${m.stderrTail}` : how;
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
