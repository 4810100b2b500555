/**
 * Turns the runs of a cell into medians, and a scenario's cells into ratios to aria2c and curl
 * and the target verdicts. Each column's median is taken on its own.
 */
import type { RunRecord } from './cell.js';
import { MB, MiB, type CellMedians, type Scenario } from './scenarios.js';
import type { TargetContext } from './targets.js';
import type { ToolName } from './tools.js';

export interface Cell {
  scenario: string;
  tool: ToolName;
  /** unsupported: the tool refused the mode (segdl-stdout before `-o -` exists); not a failure of the run. */
  status: 'ok' | 'failed' | 'skipped' | 'unsupported';
  /** Why it failed, was skipped or is unsupported. */
  reason?: string;
  /** How this tool's run differs from the scenario as written. */
  note?: string;
  command?: string;
  runs: RunRecord[];
  /** mbPerS is undefined for rows that download nothing (node-e0, segdl-version). */
  median?: CellMedians & { mbPerS: number | undefined; killedAtBytes?: number };
  /** Ideal wall seconds for the connections this tool opens. */
  idealS?: number;
  /** Ideal seconds ÷ median wall: 1 is perfect. */
  ofIdeal?: number;
  /** This cell's key metric ÷ aria2c's in the same run (wall, or peak RSS for F, server bytes for E). */
  vsAria2c?: number;
  /** The same key metric ÷ curl's. */
  vsCurl?: number;
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
export function summarizeCell(
  scenario: Scenario,
  tool: ToolName,
  runs: RunRecord[],
  extra: { note?: string | undefined; command?: string | undefined; idealS?: number | undefined; downloads?: boolean },
): Cell {
  const { downloads = true, ...shown } = extra;
  const base: Cell = { scenario: scenario.id, tool, status: 'ok', runs, ...(definedOnly(shown) as Pick<Cell, 'note' | 'command' | 'idealS'>) };
  const failed = runs.find((r) => !r.ok);
  if (failed && !failed.ok) return { ...base, status: failed.unsupported ? 'unsupported' : 'failed', reason: failed.error };
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
      mbPerS: downloads ? scenario.size / wallS / MB : undefined,
      cpuS: medianOf(ok.map((r) => r.cpuS)),
      userS: medianOf(ok.map((r) => r.userS)),
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

/**
 * Fills `vsAria2c` and `vsCurl` on every cell and the target verdicts; `earlier` are the cells of
 * the scenarios already run (growth rows compare with A).
 */
export function compareCells(scenario: Scenario, cells: Cell[], earlier: { scenarios: Scenario[]; cells: Cell[] } = { scenarios: [], cells: [] }): void {
  const cellMedians = (list: Cell[], id: string, tool: ToolName) => list.find((c) => c.scenario === id && c.tool === tool && c.status === 'ok')?.median;
  const key = (m: CellMedians): number | undefined =>
    scenario.kind === 'memory' ? m.maxRssMiB : scenario.kind === 'resume' ? m.serverBytes : m.wallS;
  const ratio = (mine: CellMedians, theirs: CellMedians | undefined): number | undefined => {
    const [a, b] = [key(mine), theirs && key(theirs)];
    return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
  };
  const aria2c = cellMedians(cells, scenario.id, 'aria2c');
  const curl = cellMedians(cells, scenario.id, 'curl');
  for (const cell of cells) {
    if (cell.median) {
      const vsAria2c = ratio(cell.median, aria2c);
      const vsCurl = ratio(cell.median, curl);
      if (vsAria2c !== undefined) cell.vsAria2c = vsAria2c;
      if (vsCurl !== undefined) cell.vsCurl = vsCurl;
    }
    const target = scenario.targets[cell.tool];
    if (target === undefined) continue;
    const ctx: TargetContext = {
      scenario,
      peer: (tool) => cellMedians(cells, scenario.id, tool),
      earlier: (id) => {
        const medians = cellMedians(earlier.cells, id, cell.tool);
        const size = earlier.scenarios.find((s) => s.id === id)?.size;
        return medians && size !== undefined ? { medians, size } : undefined;
      },
    };
    // A skipped row cannot tell; a failed or unsupported one has not met it.
    cell.target = { text: target.text, met: cell.median ? target.met(cell.median, ctx) : cell.status === 'skipped' ? undefined : false };
    if (target.informational) cell.target.informational = true;
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
