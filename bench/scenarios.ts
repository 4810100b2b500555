/**
 * The benchmark scenarios as data: size, server faults, connections, which tools run, the ideal
 * time, and the targets segdl's rows must meet. A-G are the performance issue's; H is segdl
 * against itself with `--durability power`; S1/S16 (first byte at 50 ms) are the first-byte
 * issue's; F8 (8 GiB) and T (HTTPS from nginx) the one-pass issue's.
 */
import type { FaultOptions } from '../src/serve/index.js';
import {
  bytes, cpuVs, fewerRefusalsThan, flatGrowth, informational, requestsExactly, resent, rssAtMost, shareOfIdeal,
  target, throughputOf, verifyAtMost, wallAtMostRtt, wallVs, wallVsFloor, wallVsIdeal, type Target,
} from './targets.js';
import type { ToolName } from './tools.js';

export type { CellMedians } from './targets.js';

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
  /** Who serves the file: segdl's range server (default), or nginx over TLS 1.3 (T). */
  server?: 'range' | 'nginx';
  /** Ideal wall seconds for a tool that opens `connections` connections; undefined = no cap to compare with. */
  ideal?: (connections: number) => number;
  /** Caps the runs per cell (F: one 4 GiB download per tool is enough to see peak RSS). */
  maxRuns?: number;
  /** Every cell runs `--runs` times even past 15 s (H: a ratio of two single runs says little). */
  keepRuns?: boolean;
  /** Growth rows (F, F8): wall and CPU per GiB are compared with this scenario's (A) in the growth table. */
  growthBase?: string;
  /** What each tool's row must meet; segdl's CLI row always has one, library and stdout rows in some scenarios. */
  targets: Partial<Record<ToolName, Target>>;
}

/** The peak-RSS bound of the one-pass issue at 16 connections. */
const RSS_16 = rssAtMost(64 + 16, 'RSS ≤ 64 MiB + 1 MiB/conn');

const perConnection = (size: number, rate: number) => (connections: number) => size / (connections * rate);

/** Scenario table; `quick` shrinks every big size so the whole run takes about a minute. */
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
      targets: {
        segdl:
          connections === 1
            ? target({ text: '(no speed target at 1 conn)', met: () => true }, bytes)
            : target(shareOfIdeal(0.95, (s) => perConnection(s.size, rate)(connections)), bytes),
      },
    };
  };

  /** First byte 50 ms away: a few MiB, where start-up and round trips are most of the time. */
  const firstByte = (size: number, extra: ToolName[], targets: Scenario['targets']): Scenario => ({
    id: `S${size / MiB}`,
    title: `${fmtSize(size)}, 16 conn, 50 ms first byte`,
    kind: 'throughput',
    size,
    connections: 16,
    faults: { firstByteLatencyMs: 50 },
    tools: [...ALL, ...extra],
    targets,
  });

  /** Unthrottled big files: peak RSS, and wall and CPU per GiB against A's. */
  const big = (id: string, size: number): Scenario => ({
    id,
    title: `${fmtSize(size)} unthrottled, 16 conn, peak RSS and growth`,
    kind: 'memory',
    size,
    connections: 16,
    faults: {},
    tools: ['segdl', 'aria2c'],
    maxRuns: 1,
    growthBase: 'A',
    targets: { segdl: target(RSS_16, flatGrowth('A', 0.1), verifyAtMost(50), bytes) },
  });

  return [
    firstByte(1 * MiB, ['segdl-lib', 'node-e0', 'segdl-version'], {
      segdl: target(wallVsFloor('node-e0', 30), requestsExactly(1), rssAtMost(60), bytes),
      'segdl-lib': target(wallAtMostRtt(15), bytes),
    }),
    firstByte(16 * MiB, ['segdl-lib'], {
      segdl: target(wallVs('aria2c'), bytes),
      'segdl-lib': informational('warm library, same file'),
    }),
    {
      id: 'A',
      title: `${fmtSize(sizeA)} unthrottled`,
      kind: 'throughput',
      size: sizeA,
      connections: 16,
      faults: {},
      tools: [...ALL, 'segdl-stdout'],
      targets: {
        segdl: target(wallVs('aria2c', 0.8), cpuVs('aria2c'), RSS_16, verifyAtMost(50), bytes),
        'segdl-stdout': target(throughputOf('segdl', 0.9), RSS_16),
      },
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
      targets: { segdl: target(wallVsIdeal(1.1, (s) => s.size / capacityC(16)), bytes) },
    },
    {
      id: 'D',
      title: `${fmtSize(sizeD)}, 16 conn, 100 ms first byte`,
      kind: 'throughput',
      size: sizeD,
      connections: 16,
      faults: { firstByteLatencyMs: 100 },
      tools: [...ALL, 'segdl-lib'],
      targets: { segdl: target(wallVs('aria2c'), bytes), 'segdl-lib': informational('warm library, same file') },
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
      targets: { segdl: target(resent) },
    },
    big('F', sizeF),
    // Not in --quick: at quick sizes it would be F again, and it is the slowest row to set up.
    ...(quick ? [] : [big('F8', 8 * GiB)]),
    {
      id: 'G',
      title: `${fmtSize(sizeD)}, 8 MB/s/conn, > 4 conn → 503, 16 asked`,
      kind: 'throughput',
      size: sizeD,
      connections: 16,
      faults: { rateBytesPerSec: rate, maxConnections: 4, maxConnectionsMode: '503' },
      tools: MULTI,
      ideal: (n) => sizeD / (Math.min(n, 4) * rate),
      targets: { segdl: target(wallVsIdeal(1.05, (s) => s.size / (4 * rate), '4-conn ideal'), fewerRefusalsThan('aria2c'), bytes) },
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
      targets: { segdl: informational('cost of `--durability power`') },
    },
    {
      id: 'T',
      title: `${fmtSize(sizeB)} over HTTPS (TLS 1.3) from nginx, 16 conn`,
      kind: 'throughput',
      size: sizeB,
      connections: 16,
      // nginx has no fault knobs: T measures TLS and a real server, nothing injected.
      faults: {},
      server: 'nginx',
      // axel 2.17 fails its own hostname check on 127.0.0.1:PORT even with the CA trusted (README).
      tools: ['segdl', 'aria2c', 'curl'],
      targets: { segdl: target(wallVs('aria2c'), cpuVs('aria2c', 1.5), bytes) },
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
