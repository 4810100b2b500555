/**
 * One run of one tool in one scenario: a fresh directory, the command under GNU time, the
 * server's counters before and after, and a check of the file. Scenario E kills the tool at
 * half the file (as seen by the server) and runs the same command again.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { RangeServer } from '../src/serve/index.js';
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
      maxRssKiB: number | undefined;
      /** Body bytes the server sent during this run (both halves in E). */
      serverBytes: number;
      /** Requests turned away with 503 by maxConnections. */
      refused: number;
      connections: number;
      requests: number;
      /** E: bytes the server had sent when the tool was killed. */
      killedAtBytes?: number;
      /** segdl's `verifyMs` from its `--json` result (E: the resumed run's): last byte on disk to a verified file. */
      verifyMs?: number;
    }
  | { ok: false; error: string };

interface Snapshot {
  bytesSent: number;
  refused: number;
  connections: number;
  requests: number;
}

const snapshot = (s: RangeServer): Snapshot => ({
  bytesSent: s.stats.bytesSent,
  refused: s.stats.refused,
  connections: s.stats.connections,
  requests: s.requests.length,
});

export function jobFor(scenario: Scenario, url: string, output: string): ToolJob {
  return { url, output, connections: scenario.connections, resume: scenario.kind === 'resume' };
}

/** Generous: a run that takes 4× its ideal (or crawls below 20 MB/s unthrottled) is broken. */
function timeoutMs(scenario: Scenario, tool: Tool): number {
  const ideal = scenario.ideal?.(tool.connections(scenario.connections));
  return 1000 * (ideal !== undefined ? 4 * ideal + 30 : scenario.size / (20 * MB) + 60);
}

export async function runOnce(server: RangeServer, workDir: string, scenario: Scenario, tool: Tool, data: DataFile, index: number): Promise<RunRecord> {
  const dir = join(workDir, 'out', `${scenario.id}-${tool.name}-${index}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const output = join(dir, data.name);
  const command = tool.command(jobFor(scenario, server.urlFor(data.name), output));
  const timeout = timeoutMs(scenario, tool);
  try {
    const before = snapshot(server);
    const halves: Measured[] = [];
    let killedAtBytes: number | undefined;
    if (scenario.kind === 'resume') {
      const sent = (): number => server.stats.bytesSent - before.bytesSent;
      const first = await measure(command, { cwd: dir, timeoutMs: timeout, stopWhen: () => sent() >= scenario.size / 2 });
      if (!first.killed) return { ok: false, error: `not killed: the first run ended (${describeExit(first)}) before half the file` };
      killedAtBytes = sent();
      halves.push(first);
      await settle(server);
    }
    const last = await measure(command, { cwd: dir, timeoutMs: timeout });
    halves.push(last);
    await settle(server);
    const after = snapshot(server);
    if (last.exitCode !== 0) return { ok: false, error: describeExit(last) };
    const wrong = await verifyOutput(output, data.size, data.sha256);
    if (wrong !== undefined) return { ok: false, error: wrong };
    const verifyMs = command.captureLastLine ? verifyMsOf(last.lastLine) : undefined;
    return {
      ok: true,
      wallS: sum(halves.map((h) => h.wallS)),
      cpuS: halves.every((h) => h.userS !== undefined) ? sum(halves.map((h) => h.userS! + h.sysS!)) : undefined,
      maxRssKiB: halves.every((h) => h.maxRssKiB !== undefined) ? Math.max(...halves.map((h) => h.maxRssKiB!)) : undefined,
      serverBytes: after.bytesSent - before.bytesSent,
      refused: after.refused - before.refused,
      connections: after.connections - before.connections,
      requests: after.requests - before.requests,
      ...(killedAtBytes !== undefined ? { killedAtBytes } : {}),
      ...(verifyMs !== undefined ? { verifyMs } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function describeExit(m: Measured): string {
  const how = m.exitCode !== undefined ? `exit ${m.exitCode}` : `killed by ${m.signal ?? 'signal'}`;
  return m.stderrTail ? `${how}: ${m.stderrTail}` : how;
}

/** Waits until the server stops counting bytes: a dead client's last socket writes land late. */
async function settle(server: RangeServer): Promise<void> {
  let last = -1;
  for (let i = 0; i < 40 && server.stats.bytesSent !== last; i++) {
    last = server.stats.bytesSent;
    await delay(50);
  }
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
