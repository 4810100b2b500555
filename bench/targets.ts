/**
 * The targets of the issues as small named checks, combined per cell: each check knows its text
 * and reads the cell's medians, the other cells of the same scenario, and (growth rows) an
 * earlier scenario of the same run.
 */
import type { Scenario } from './scenarios.js';
import type { ToolName } from './tools.js';

/** The medians of one cell that targets are checked against. */
export interface CellMedians {
  wallS: number;
  cpuS: number | undefined;
  /** The user part of cpuS. */
  userS?: number | undefined;
  maxRssMiB: number | undefined;
  serverBytes: number;
  refused: number;
  /** Requests the server logged for one download, and the distinct connections they came on. */
  requests: number;
  connections: number;
  verifyMs?: number;
}

export interface TargetContext {
  scenario: Scenario;
  /** Another tool's medians in this scenario; undefined when it did not run or failed. */
  peer(tool: ToolName): CellMedians | undefined;
  /** This tool's medians and file size in an earlier scenario of the same run (growth rows compare with A). */
  earlier(scenarioId: string): { medians: CellMedians; size: number } | undefined;
}

export interface Target {
  text: string;
  /** No verdict to give (H): the met column shows a dash. */
  informational?: boolean;
  /** undefined = cannot tell (a peer missing, no GNU time). */
  met(mine: CellMedians, ctx: TargetContext): boolean | undefined;
}

/** One condition; target() joins several into the verdict of a cell. */
type Check = Target;

/** All checks at once: no if any says no, otherwise unknown if any cannot tell. */
export function target(...checks: Check[]): Target {
  return {
    text: checks.map((c) => c.text).join('; '),
    met: (mine, ctx) => {
      const verdicts = checks.map((c) => c.met(mine, ctx));
      return verdicts.includes(false) ? false : verdicts.includes(undefined) ? undefined : true;
    },
  };
}

export const informational = (text: string): Target => ({ text: `informational: ${text}`, informational: true, met: () => undefined });

const known = <T>(x: T | undefined, check: (x: T) => boolean | undefined): boolean | undefined => (x === undefined ? undefined : check(x));

/** "everywhere server bytes ≤ 1.01 × file size" is part of every download target. */
export const bytes: Check = { text: 'bytes ≤ 1.01×', met: (m, { scenario }) => m.serverBytes <= 1.01 * scenario.size };

export const resent: Check = { text: 're-sent ≤ 1 %', met: bytes.met };

const times = (factor: number): string => (factor === 1 ? '' : `${factor}× `);

export const wallVs = (peer: ToolName, factor = 1): Check => ({
  text: `wall ≤ ${times(factor)}${peer}`,
  met: (m, ctx) => known(ctx.peer(peer), (p) => m.wallS <= factor * p.wallS),
});

export const cpuVs = (peer: ToolName, factor = 1): Check => ({
  text: `CPU ≤ ${times(factor)}${peer}`,
  met: (m, ctx) => known(ctx.peer(peer)?.cpuS, (p) => known(m.cpuS, (c) => c <= factor * p)),
});

/** Start-up floor plus the scenario's round trip plus a margin: `node -e 0` + RTT + extra. */
export const wallVsFloor = (floor: ToolName, extraMs: number): Check => ({
  text: `wall ≤ ${floor === 'node-e0' ? '`node -e 0`' : floor} + RTT + ${extraMs} ms`,
  met: (m, ctx) => known(ctx.peer(floor), (p) => m.wallS <= p.wallS + (rttMs(ctx.scenario) + extraMs) / 1000),
});

export const wallAtMostRtt = (extraMs: number): Check => ({
  text: `wall ≤ RTT + ${extraMs} ms`,
  met: (m, ctx) => m.wallS <= (rttMs(ctx.scenario) + extraMs) / 1000,
});

export const throughputOf = (peer: ToolName, share: number): Check => ({
  text: `≥ ${Math.round(share * 100)} % of ${peer}'s MB/s`,
  // Same file, so throughput ratio = inverse wall ratio.
  met: (m, ctx) => known(ctx.peer(peer), (p) => p.wallS / m.wallS >= share),
});

/** Throughput at least `share` of the ideal (B: ≥ 95 %). */
export const shareOfIdeal = (share: number, ideal: (s: Scenario) => number): Check => ({
  text: `≥ ${Math.round(share * 100)} % of ideal`,
  met: (m, { scenario }) => ideal(scenario) / m.wallS >= share,
});

/** Wall at most `factor` × the ideal (C: 1.10×, G: 1.05× the 4-connection ideal). */
export const wallVsIdeal = (factor: number, ideal: (s: Scenario) => number, label = 'ideal'): Check => ({
  text: `wall ≤ ${factor.toFixed(2)}× ${label}`,
  met: (m, { scenario }) => m.wallS <= factor * ideal(scenario),
});

export const fewerRefusalsThan = (peer: ToolName): Check => ({
  text: `fewer 503s than ${peer}`,
  met: (m, ctx) => known(ctx.peer(peer), (p) => m.refused < p.refused),
});

export const rssAtMost = (mib: number, text = `RSS ≤ ${mib} MiB`): Check => ({
  text,
  met: (m) => known(m.maxRssMiB, (r) => r <= mib),
});

/** segdl's `verifyMs` (its --json result): unknown when the row does not report it. */
export const verifyAtMost = (ms: number): Check => ({
  text: `verify ≤ ${ms} ms`,
  met: (m) => known(m.verifyMs, (v) => v <= ms),
});

export const requestsExactly = (n: number): Check => ({
  text: `${n} request${n === 1 ? '' : 's'}`,
  met: (m) => m.requests === n,
});

/** Wall and CPU seconds per GiB within `tolerance` of the same tool's in `baseId` (A, 1 GiB). */
export const flatGrowth = (baseId: string, tolerance: number): Check => ({
  text: `wall and CPU per GiB ≤ ${1 + tolerance}× ${baseId}'s`,
  met: (m, ctx) =>
    known(ctx.earlier(baseId), (base) => {
      const growth = growthOf(m, ctx.scenario.size, base.medians, base.size);
      return known(growth.cpu, (cpu) => growth.wall <= 1 + tolerance && cpu <= 1 + tolerance);
    }),
});

/** Per-GiB ratios of a cell to its baseline (wall/GiB ÷ base wall/GiB, the same for CPU). */
export function growthOf(m: CellMedians, size: number, base: CellMedians, baseSize: number): { wall: number; cpu: number | undefined } {
  const ratio = (x: number, baseX: number): number => x / size / (baseX / baseSize);
  return {
    wall: ratio(m.wallS, base.wallS),
    cpu: m.cpuS === undefined || base.cpuS === undefined ? undefined : ratio(m.cpuS, base.cpuS),
  };
}

function rttMs(s: Scenario): number {
  return s.faults.firstByteLatencyMs ?? 0;
}
