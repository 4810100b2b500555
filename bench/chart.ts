/**
 * Hand-written SVG, no dependencies: grouped bars of MB/s per tool per scenario (log scale:
 * B1's 8 MB/s and A's hundreds share one axis), and one segdl download as a lane per segment.
 */
import { MB, MiB, type Scenario } from './scenarios.js';
import type { Cell } from './summary.js';
import type { Timeline, TimelineSegment } from './timeline.js';
import type { ToolName } from './tools.js';

const TOOL_COLORS: Record<ToolName, string> = {
  segdl: '#1f77b4',
  'segdl-power': '#17becf',
  'segdl-lib': '#aec7e8',
  'segdl-stdout': '#393b79',
  'segdl-version': '#c7c7c7',
  'node-e0': '#7f7f7f',
  aria2c: '#ff7f0e',
  axel: '#2ca02c',
  curl: '#9467bd',
  ipull: '#8c564b',
};
const FONT = 'font-family="system-ui, sans-serif"';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const n = (x: number): string => (Math.round(x * 10) / 10).toString();

function svg(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Grouped bars: one group per throughput scenario, one bar per tool, the ideal as a dashed line. */
export function throughputSvg(scenarios: Scenario[], cells: Cell[], subtitle: string): string {
  const groups = scenarios
    .filter((s) => s.kind === 'throughput')
    // Start-up rows download nothing and unsupported ones have no number: neither is a bar.
    .map((s) => ({ s, cells: cells.filter((c) => c.scenario === s.id && (c.status === 'ok' ? c.median?.mbPerS !== undefined : c.status === 'failed')) }))
    .filter((g) => g.cells.length > 0);
  const barW = 18;
  const gap = 30;
  const left = 60;
  const top = 56;
  const plotH = 300;
  const widths = groups.map((g) => g.cells.length * barW);
  const width = Math.max(520, left + widths.reduce((a, b) => a + b + gap, gap) + 20);
  const height = top + plotH + 90;
  const values = groups.flatMap((g) => g.cells.map((c) => c.median?.mbPerS ?? 0));
  const ideals = groups.map((g) => (g.s.ideal ? g.s.size / g.s.ideal(g.s.connections) / MB : 0));
  const hiExp = Math.ceil(Math.log10(Math.max(10, ...values, ...ideals) * 1.3));
  const y = (v: number): number => top + plotH * (1 - Math.log10(Math.max(1, v)) / hiExp);
  const body: string[] = [
    `<text x="${left}" y="20" font-size="15" font-weight="600">Throughput per tool per scenario (MB/s = 10^6 bytes/s, log scale, median)</text>`,
    `<text x="${left}" y="38" fill="#555">${esc(subtitle)}</text>`,
  ];
  for (let e = 0; e <= hiExp; e++) {
    for (const m of e === hiExp ? [1] : [1, 2, 5]) {
      const v = m * 10 ** e;
      const strong = m === 1;
      body.push(`<line x1="${left}" x2="${width - 20}" y1="${n(y(v))}" y2="${n(y(v))}" stroke="${strong ? '#ccc' : '#eee'}"/>`);
      if (strong || hiExp <= 2) body.push(`<text x="${left - 6}" y="${n(y(v) + 4)}" text-anchor="end" fill="#555">${v}</text>`);
    }
  }
  let x = left + gap;
  groups.forEach((g, gi) => {
    const w = widths[gi]!;
    const ideal = ideals[gi]!;
    g.cells.forEach((c, i) => {
      const bx = x + i * barW;
      const v = c.median?.mbPerS;
      if (v === undefined) {
        body.push(`<text x="${bx + barW / 2}" y="${top + plotH - 4}" text-anchor="middle" fill="#d62728" font-weight="700">✕</text>`);
        return;
      }
      body.push(`<rect x="${bx + 1}" y="${n(y(v))}" width="${barW - 2}" height="${n(top + plotH - y(v))}" fill="${TOOL_COLORS[c.tool]}"><title>${esc(`${c.scenario} ${c.tool}: ${v.toFixed(1)} MB/s`)}</title></rect>`);
      body.push(`<text transform="translate(${bx + barW / 2 + 3},${n(y(v) - 4)}) rotate(-90)" font-size="9">${v < 10 ? v.toFixed(1) : v.toFixed(0)}</text>`);
    });
    if (ideal > 0) {
      body.push(`<line x1="${x - 4}" x2="${x + w + 4}" y1="${n(y(ideal))}" y2="${n(y(ideal))}" stroke="#000" stroke-dasharray="4 3"><title>ideal ${ideal.toFixed(1)} MB/s</title></line>`);
    }
    body.push(`<text x="${x + w / 2}" y="${top + plotH + 16}" text-anchor="middle" font-weight="600">${esc(g.s.id)}</text>`);
    x += w + gap;
  });
  body.push(`<line x1="${left}" x2="${width - 20}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  const legendY = top + plotH + 44;
  let lx = left;
  for (const tool of Object.keys(TOOL_COLORS) as ToolName[]) {
    if (!groups.some((g) => g.cells.some((c) => c.tool === tool))) continue;
    body.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${TOOL_COLORS[tool]}"/><text x="${lx + 16}" y="${legendY}">${tool}</text>`);
    lx += Math.max(70, tool.length * 7 + 24);
  }
  body.push(`<line x1="${lx}" x2="${lx + 24}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="#000" stroke-dasharray="4 3"/><text x="${lx + 30}" y="${legendY}">ideal (segdl's connections × cap)</text>`);
  body.push(`<text x="${left}" y="${legendY + 22}" fill="#555">✕ = failed cell (wrong file, error or timeout): no number. E (resume) and F (memory) are in the table.</text>`);
  return svg(width, height, body);
}

type LaneState = 'starting' | 'fast' | 'slow' | 'idle' | 'done' | 'absent';
const STATE_COLORS: Partial<Record<LaneState, string>> = { starting: '#aec7e8', fast: '#1f77b4', slow: '#ff7f0e', idle: '#bbb' };

function stateOf(seg: TimelineSegment | undefined, slowBelow: number): LaneState {
  if (!seg) return 'absent';
  if (seg.done >= seg.end - seg.start) return 'done';
  if (!seg.active) return 'idle';
  // A connection has no measured speed until its first progress interval: not slow, just new.
  if (seg.bytesPerSecond === 0) return 'starting';
  return seg.bytesPerSecond >= slowBelow ? 'fast' : 'slow';
}

/** One lane per segment (by start offset), coloured by what its connection was doing. */
export function timelineSvg(t: Timeline, slowBelow: number): string {
  const starts = [...new Set(t.samples.flatMap((s) => s.segments.map((g) => g.start)))].sort((a, b) => a - b);
  const laneH = 12;
  const left = 84;
  const top = 56;
  const plotW = 760;
  const width = left + plotW + 30;
  const height = top + starts.length * laneH + 80;
  const wall = Math.max(t.wallS, 0.001);
  const x = (s: number): number => left + (plotW * s) / wall;
  const laneOf = (offset: number): number => {
    let lane = 0;
    starts.forEach((s, i) => {
      if (s <= offset) lane = i;
    });
    return lane;
  };
  const laneY = (i: number): number => top + i * laneH;
  const body: string[] = [
    `<text x="${left}" y="20" font-size="15" font-weight="600">${esc(t.title)}</text>`,
    `<text x="${left}" y="38" fill="#555">${esc(`${(t.size / MiB).toFixed(0)} MiB, ${t.connections} connections, ${t.wallS.toFixed(2)} s, ${starts.length} segments (one lane each, by file offset)${t.error ? ` — FAILED: ${t.error}` : ''}`)}</text>`,
  ];
  // Samples are 50 ms apart (or more, on a busy loop): a lane ends at its 'done' event, not at the next sample.
  const doneAt = new Map(t.events.filter((e) => e.kind === 'done').map((e) => [e.start, e.t]));
  starts.forEach((start, lane) => {
    const yy = laneY(lane);
    const end = doneAt.get(start) ?? wall;
    body.push(`<text x="${left - 6}" y="${yy + laneH - 3}" text-anchor="end" font-size="9" fill="#555">${(start / MiB).toFixed(1)} MiB</text>`);
    // Merge consecutive samples in the same state into one rectangle.
    let runState: LaneState = 'absent';
    let runFrom = 0;
    const flush = (upTo: number): void => {
      const color = STATE_COLORS[runState];
      const until = Math.min(upTo, end);
      if (color && until > runFrom) {
        body.push(`<rect x="${n(x(runFrom))}" y="${yy + 1}" width="${n(Math.max(0.5, x(until) - x(runFrom)))}" height="${laneH - 2}" fill="${color}"/>`);
      }
    };
    t.samples.forEach((sample) => {
      const state = stateOf(sample.segments.find((g) => g.start === start), slowBelow);
      if (state !== runState) {
        flush(sample.t);
        runState = state;
        runFrom = sample.t;
      }
    });
    flush(wall);
  });
  for (const e of t.events) {
    const ex = n(x(e.t));
    if (e.kind === 'split') {
      const piece = laneOf(e.start);
      const victim = laneOf(e.start - 1);
      const [a, b] = [laneY(Math.min(piece, victim)) + laneH / 2, laneY(Math.max(piece, victim)) + laneH / 2];
      body.push(`<line x1="${ex}" x2="${ex}" y1="${a}" y2="${b}" stroke="#9467bd" stroke-dasharray="2 2"/>`);
      body.push(`<path d="M${n(x(e.t) - 4)},${laneY(piece) + 1} h8 l-4,7 z" fill="#9467bd"><title>split at ${(e.start / MiB).toFixed(2)} MiB</title></path>`);
    } else if (e.kind === 'retry') {
      const yy = laneY(laneOf(e.start)) + laneH / 2;
      body.push(`<text x="${ex}" y="${yy + 4}" text-anchor="middle" fill="#d62728" font-weight="700" font-size="12">✕<title>${esc(e.message ?? 'retry')}</title></text>`);
    } else {
      const yy = laneY(laneOf(e.start));
      body.push(`<line x1="${ex}" x2="${ex}" y1="${yy + 1}" y2="${yy + laneH - 1}" stroke="#000"/>`);
    }
  }
  const axisY = top + starts.length * laneH + 4;
  body.push(`<line x1="${left}" x2="${left + plotW}" y1="${axisY}" y2="${axisY}" stroke="#333"/>`);
  const step = niceStep(wall / 8);
  for (let s = 0; s <= wall + 1e-9; s += step) {
    body.push(`<line x1="${n(x(s))}" x2="${n(x(s))}" y1="${axisY}" y2="${axisY + 4}" stroke="#333"/><text x="${n(x(s))}" y="${axisY + 16}" text-anchor="middle">${n(s)} s</text>`);
  }
  const ly = axisY + 40;
  const legend: Array<[string, string]> = [
    [STATE_COLORS.starting!, 'connecting'],
    [STATE_COLORS.fast!, `receiving ≥ ${slowBelow / MB} MB/s`],
    [STATE_COLORS.slow!, `receiving < ${slowBelow / MB} MB/s`],
    [STATE_COLORS.idle!, 'waiting (backoff / queued)'],
  ];
  let lx = left;
  for (const [color, label] of legend) {
    body.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${color}"/><text x="${lx + 16}" y="${ly}">${esc(label)}</text>`);
    lx += label.length * 6 + 28;
  }
  body.push(`<path d="M${lx},${ly - 9} h10 l-5,8 z" fill="#9467bd"/><text x="${lx + 14}" y="${ly}">split</text>`);
  body.push(`<text x="${lx + 56}" y="${ly}" fill="#d62728" font-weight="700">✕</text><text x="${lx + 70}" y="${ly}">retry</text>`);
  body.push(`<line x1="${lx + 114}" x2="${lx + 114}" y1="${ly - 10}" y2="${ly + 1}" stroke="#000"/><text x="${lx + 120}" y="${ly}">done</text>`);
  return svg(width, height, body);
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
}
