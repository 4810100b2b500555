/**
 * The benchmark scenarios of the performance issue (A-G) as data: size, server faults,
 * connections, which tools run, the ideal time, and the target segdl must meet; and H, segdl
 * against itself with `--durability power` (what power-loss durability costs).
 */
import type { FaultOptions } from '../src/serve/index.js';
import type { ToolName } from './tools.js';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** Rates are in MB/s = 10^6 bytes/s, as in the table. */
export const MB = 1_000_000;

const ALL: ToolName[] = ['segdl', 'aria2c', 'axel', 'curl', 'ipull'];
/** curl has one connection: it only runs where one connection is the point (or asked for). */
const MULTI: ToolName[] = ['segdl', 'aria2c', 'axel', 'ipull'];

export type ScenarioKind = 'throughput' | 'resume' | 'memory';

export interface Scenario {
  /** Row name: 'A', 'B4', ... */
  id: string;
  title: string;
  kind: ScenarioKind;
  size: number;
  /** Connections asked of every multi-connection tool. */
  connections: number;
  faults: FaultOptions;
  tools: ToolName[];
  /** Ideal wall seconds for a tool that opens `connections` connections; undefined = no cap to compare with. */
  ideal?: (connections: number) => number;
  /** Caps the runs per cell (F: one 4 GiB download per tool is enough to see peak RSS). */
  maxRuns?: number;
  /** Every cell runs `--runs` times even past 15 s (H: a ratio of two single runs says little). */
  keepRuns?: boolean;
  target: Target;
}

/** The medians of one cell that targets are checked against. */
export interface CellMedians {
  wallS: number;
  cpuS: number | undefined;
  maxRssMiB: number | undefined;
  serverBytes: number;
  refused: number;
}

export interface Target {
  text: string;
  /** No verdict to give (H): the met column shows a dash. */
  informational?: boolean;
  /** undefined = cannot tell (e.g. aria2c missing). Checked for segdl only. */
  met(segdl: CellMedians, aria2c: CellMedians | undefined, scenario: Scenario): boolean | undefined;
}

/** "everywhere server bytes ≤ 1.01 × file size" is part of every target. */
const bytesOk = (c: CellMedians, s: Scenario): boolean => c.serverBytes <= 1.01 * s.size;
const BYTES_TEXT = 'bytes ≤ 1.01×';

function target(text: string, check: Target['met']): Target {
  return {
    text: `${text}; ${BYTES_TEXT}`,
    met: (segdl, aria2c, s) => {
      const main = check(segdl, aria2c, s);
      return main === undefined ? undefined : main && bytesOk(segdl, s);
    },
  };
}

const perConnection = (size: number, rate: number) => (connections: number) => size / (connections * rate);

/** Scenario table; `quick` shrinks every size so the whole run takes under a minute. */
export function buildScenarios(quick: boolean): Scenario[] {
  const sizeA = quick ? 64 * MiB : GiB;
  const sizeB = quick ? 16 * MiB : 256 * MiB;
  const sizeB1 = quick ? 8 * MiB : 256 * MiB;
  const sizeD = quick ? 8 * MiB : 64 * MiB;
  const sizeF = quick ? 256 * MiB : 4 * GiB;
  const sizeH = quick ? 128 * MiB : GiB;
  const rate = 8 * MB;

  const b = (connections: number): Scenario => {
    const size = connections === 1 ? sizeB1 : sizeB;
    return {
      id: `B${connections}`,
      title: `${fmtSize(size)}, ${connections} conn × 8 MB/s`,
      kind: 'throughput',
      size,
      connections,
      faults: { rateBytesPerSec: rate },
      // At one connection every tool is one paced stream (aria2c and curl both reach 100 %):
      // segdl against aria2c is enough, and each of these runs takes 34 s.
      tools: connections === 1 ? ['segdl', 'aria2c'] : MULTI,
      ideal: perConnection(size, rate),
      target:
        connections === 1
          ? target('(no speed target at 1 conn)', () => true)
          : target('≥ 95 % of ideal', (c, _a, s) => s.size / c.wallS >= 0.95 * (connections * rate)),
    };
  };

  return [
    {
      id: 'A',
      title: `${fmtSize(sizeA)} unthrottled`,
      kind: 'throughput',
      size: sizeA,
      connections: 16,
      faults: {},
      tools: ALL,
      target: target('wall ≤ 0.8× aria2c, CPU ≤ aria2c', (c, a) =>
        a === undefined || c.cpuS === undefined || a.cpuS === undefined ? undefined : c.wallS <= 0.8 * a.wallS && c.cpuS <= a.cpuS,
      ),
    },
    b(1),
    b(4),
    b(8),
    b(16),
    {
      id: 'C',
      title: `${fmtSize(sizeB)}, 16 conn, every 4th at 1 MB/s`,
      kind: 'throughput',
      size: sizeB,
      connections: 16,
      faults: { rateBytesPerSec: rate, slowConnections: { every: 4, rateBytesPerSec: 1 * MB } },
      tools: MULTI,
      // Total capacity of 16 connections: 12 × 8 MB/s + 4 × 1 MB/s.
      ideal: (n) => sizeB / capacityC(n),
      target: target('wall ≤ 1.10× ideal', (c, _a, s) => c.wallS <= 1.1 * s.size / capacityC(16)),
    },
    {
      id: 'D',
      title: `${fmtSize(sizeD)}, 16 conn, 100 ms first byte`,
      kind: 'throughput',
      size: sizeD,
      connections: 16,
      faults: { firstByteLatencyMs: 100 },
      tools: ALL,
      target: target('wall < aria2c', (c, a) => (a === undefined ? undefined : c.wallS < a.wallS)),
    },
    {
      id: 'E',
      title: `${fmtSize(sizeB)}, 8 conn × 8 MB/s, SIGKILL at ½, resume`,
      kind: 'resume',
      size: sizeB,
      connections: 8,
      faults: { rateBytesPerSec: rate },
      tools: ALL,
      ideal: perConnection(sizeB, rate),
      // Re-sent ≤ 1 % of the file is the same test as server bytes ≤ 1.01 × size.
      target: { text: 're-sent ≤ 1 %', met: (c, _a, s) => bytesOk(c, s) },
    },
    {
      id: 'F',
      title: `${fmtSize(sizeF)} unthrottled, 16 conn, peak RSS`,
      kind: 'memory',
      size: sizeF,
      connections: 16,
      faults: {},
      tools: ['segdl', 'aria2c'],
      maxRuns: 1,
      target: target('RSS ≤ 64 MiB + 1 MiB/conn', (c) => (c.maxRssMiB === undefined ? undefined : c.maxRssMiB <= 64 + 16)),
    },
    {
      id: 'G',
      title: `${fmtSize(sizeD)}, 8 MB/s/conn, > 4 conn → 503, 16 asked`,
      kind: 'throughput',
      size: sizeD,
      connections: 16,
      faults: { rateBytesPerSec: rate, maxConnections: 4, maxConnectionsMode: '503' },
      tools: MULTI,
      ideal: (n) => sizeD / (Math.min(n, 4) * rate),
      target: target('wall ≤ 1.05× 4-conn ideal, fewer 503s than aria2c', (c, a, s) =>
        a === undefined ? undefined : c.wallS <= (1.05 * s.size) / (4 * rate) && c.refused < a.refused,
      ),
    },
    {
      id: 'H',
      title: `${fmtSize(sizeH)} unthrottled, 8 conn, segdl --durability process vs power`,
      kind: 'throughput',
      size: sizeH,
      connections: 8,
      faults: {},
      // segdl-power runs here and nowhere else; the table's line under it gives power ÷ process.
      tools: ['segdl', 'segdl-power'],
      keepRuns: true,
      target: { text: 'informational: cost of `--durability power`', informational: true, met: () => undefined },
    },
  ];
}

/** C's capacity with n connections, a quarter of them stragglers at 1 MB/s. */
function capacityC(n: number): number {
  const slow = Math.floor(n / 4);
  return (n - slow) * 8 * MB + slow * MB;
}

export function fmtSize(bytes: number): string {
  return bytes >= GiB ? `${bytes / GiB} GiB` : `${bytes / MiB} MiB`;
}
