/**
 * Turns the runs of a cell into medians, and a scenario's cells into ratios to aria2c and
 * segdl's target verdict. Each column's median is taken on its own.
 */
import type { RunRecord } from './cell.js';
import { MB, MiB, type CellMedians, type Scenario } from './scenarios.js';
import type { ToolName } from './tools.js';

export interface Cell {
  scenario: string;
  tool: ToolName;
  status: 'ok' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  reason?: string;
  /** How this tool's run differs from the scenario as written. */
  note?: string;
  command?: string;
  runs: RunRecord[];
  median?: CellMedians & { mbPerS: number; connections: number; requests: number; killedAtBytes?: number; verifyMs?: number };
  /** Ideal wall seconds for the connections this tool opens. */
  idealS?: number;
  /** Ideal seconds ÷ median wall: 1 is perfect. */
  ofIdeal?: number;
  /** This cell's key metric ÷ aria2c's in the same run (wall, or peak RSS for F, server bytes for E). */
  vsAria2c?: number;
  target?: { text: string; met: boolean | undefined; informational?: boolean };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function medianOf(xs: Array<number | undefined>): number | undefined {
  return xs.every((x) => x !== undefined) && xs.length > 0 ? median(xs as number[]) : undefined;
}

/** A cell with any failed run is a failed cell: no numbers from a wrong or missing file. */
export function summarizeCell(scenario: Scenario, tool: ToolName, runs: RunRecord[], extra: { note?: string | undefined; command?: string | undefined; idealS?: number | undefined }): Cell {
  const base: Cell = { scenario: scenario.id, tool, status: 'ok', runs, ...(definedOnly(extra) as Pick<Cell, 'note' | 'command' | 'idealS'>) };
  const failed = runs.find((r) => !r.ok);
  if (failed && !failed.ok) return { ...base, status: 'failed', reason: failed.error };
  const ok = runs.filter((r): r is Extract<RunRecord, { ok: true }> => r.ok);
  if (ok.length === 0) return { ...base, status: 'failed', reason: 'no runs' };
  const wallS = median(ok.map((r) => r.wallS));
  const rss = medianOf(ok.map((r) => r.maxRssKiB));
  const killed = medianOf(ok.map((r) => r.killedAtBytes));
  // segdl only (its --json result); a run without one leaves the median blank.
  const verifyMs = medianOf(ok.map((r) => r.verifyMs));
  const cell: Cell = {
    ...base,
    median: {
      wallS,
      mbPerS: scenario.size / wallS / MB,
      cpuS: medianOf(ok.map((r) => r.cpuS)),
      maxRssMiB: rss === undefined ? undefined : (rss * 1024) / MiB,
      serverBytes: median(ok.map((r) => r.serverBytes)),
      refused: median(ok.map((r) => r.refused)),
      connections: median(ok.map((r) => r.connections)),
      requests: median(ok.map((r) => r.requests)),
      ...(killed !== undefined ? { killedAtBytes: killed } : {}),
      ...(verifyMs !== undefined ? { verifyMs } : {}),
    },
  };
  if (extra.idealS !== undefined) cell.ofIdeal = extra.idealS / wallS;
  return cell;
}

/** Fills `vsAria2c` on every cell and the target verdict on segdl's. */
export function compareCells(scenario: Scenario, cells: Cell[]): void {
  const aria2c = cells.find((c) => c.tool === 'aria2c' && c.status === 'ok')?.median;
  const key = (m: CellMedians): number | undefined =>
    scenario.kind === 'memory' ? m.maxRssMiB : scenario.kind === 'resume' ? m.serverBytes : m.wallS;
  for (const cell of cells) {
    if (cell.median && aria2c) {
      const mine = key(cell.median);
      const theirs = key(aria2c);
      if (mine !== undefined && theirs !== undefined && theirs > 0) cell.vsAria2c = mine / theirs;
    }
    if (cell.tool === 'segdl') {
      cell.target = { text: scenario.target.text, met: cell.median ? scenario.target.met(cell.median, aria2c, scenario) : false };
      if (scenario.target.informational) cell.target.informational = true;
    }
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** H: segdl-power's median wall and CPU as a ratio to segdl's (the default, `--durability process`). */
export interface DurabilityCost {
  wall: number;
  cpu: number | undefined;
  verifyMs: { process: number | undefined; power: number | undefined };
}

export function durabilityCost(cells: Cell[], scenarioId = 'H'): DurabilityCost | undefined {
  const of = (tool: ToolName) => cells.find((c) => c.scenario === scenarioId && c.tool === tool && c.status === 'ok')?.median;
  const base = of('segdl');
  const power = of('segdl-power');
  if (!base || !power) return undefined;
  return {
    wall: power.wallS / base.wallS,
    cpu: power.cpuS !== undefined && base.cpuS !== undefined && base.cpuS > 0 ? power.cpuS / base.cpuS : undefined,
    verifyMs: { process: base.verifyMs, power: power.verifyMs },
  };
}
