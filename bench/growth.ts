/**
 * Size growth (the one-pass issue): wall and CPU seconds per GiB of the big unthrottled rows
 * (F 4 GiB, F8 8 GiB) next to their base (A, 1 GiB), per tool, as a ratio to the base, with the
 * verification tail and peak RSS that must stay flat too.
 */
import { GiB, fmtSize, type Scenario } from './scenarios.js';
import type { Cell } from './summary.js';
import { growthOf } from './targets.js';

export interface GrowthRow {
  scenario: string;
  tool: string;
  size: number;
  wallPerGiB: number;
  cpuPerGiB: number | undefined;
  /** Per-GiB ratios to the base row of the same tool; undefined on the base row itself or without one. */
  vsBase?: { wall: number; cpu: number | undefined };
  verifyMs: number | undefined;
  maxRssMiB: number | undefined;
}

export function growthRows(scenarios: Scenario[], cells: Cell[]): GrowthRow[] {
  const grown = scenarios.filter((s) => s.growthBase !== undefined);
  if (grown.length === 0) return [];
  const bases = [...new Set(grown.map((s) => s.growthBase!))];
  const tools = [...new Set(grown.flatMap((s) => s.tools))];
  const rows: GrowthRow[] = [];
  for (const tool of tools) {
    for (const scenario of scenarios.filter((s) => bases.includes(s.id) || s.growthBase !== undefined)) {
      const m = cells.find((c) => c.scenario === scenario.id && c.tool === tool && c.status === 'ok')?.median;
      if (!m) continue;
      const perGiB = (x: number): number => x / (scenario.size / GiB);
      const row: GrowthRow = {
        scenario: scenario.id,
        tool,
        size: scenario.size,
        wallPerGiB: perGiB(m.wallS),
        cpuPerGiB: m.cpuS === undefined ? undefined : perGiB(m.cpuS),
        verifyMs: m.verifyMs,
        maxRssMiB: m.maxRssMiB,
      };
      const baseScenario = scenarios.find((s) => s.id === scenario.growthBase);
      const base = baseScenario && cells.find((c) => c.scenario === baseScenario.id && c.tool === tool && c.status === 'ok')?.median;
      if (baseScenario && base) row.vsBase = growthOf(m, scenario.size, base, baseScenario.size);
      rows.push(row);
    }
  }
  return rows;
}

export function growthMarkdown(rows: GrowthRow[]): string[] {
  if (rows.length === 0) return [];
  const dash = '—';
  const x = (r: number | undefined): string => (r === undefined ? dash : `${r.toFixed(2)}×`);
  return [
    '**Growth** (one-pass issue: per GiB within 10 % of 1 GiB, verify ≤ 50 ms and peak RSS ≤ 80 MiB at every size)',
    '',
    '| row | tool | size | wall s/GiB | CPU s/GiB | wall/GiB vs A | CPU/GiB vs A | verify ms | peak RSS MiB |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map((r) =>
      `| ${[
        r.scenario,
        r.tool,
        fmtSize(r.size),
        r.wallPerGiB.toFixed(2),
        r.cpuPerGiB?.toFixed(2) ?? dash,
        r.vsBase ? x(r.vsBase.wall) : dash,
        r.vsBase ? x(r.vsBase.cpu) : dash,
        r.verifyMs?.toFixed(0) ?? '',
        r.maxRssMiB?.toFixed(0) ?? dash,
      ].join(' | ')} |`,
    ),
  ];
}
