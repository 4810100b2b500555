/** The results as JSON (everything, every run) and as a markdown table (medians). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fmtSize, type Scenario } from './scenarios.js';
import { durabilityCost, type Cell, type DurabilityCost } from './summary.js';

export interface Meta {
  date: string;
  command: string;
  machine: string;
  node: string;
  tools: string[];
  quick: boolean;
  runs: number;
  durationS: number;
  /** 1-minute load average before and after: anything else running skews the numbers. */
  load: string;
}

export interface Results {
  meta: Meta;
  scenarios: Array<Omit<Scenario, 'ideal' | 'target'> & { target: string }>;
  cells: Cell[];
  /** H: segdl-power ÷ segdl (medians), when both ran. */
  durabilityCost?: DurabilityCost;
}

export function toResults(meta: Meta, scenarios: Scenario[], cells: Cell[]): Results {
  const cost = durabilityCost(cells);
  return {
    meta,
    scenarios: scenarios.map(({ ideal: _ideal, target, ...rest }) => ({ ...rest, target: target.text })),
    cells,
    ...(cost !== undefined ? { durabilityCost: cost } : {}),
  };
}

const HEADER = ['scenario', 'tool', 'runs', 'wall s', 'MB/s', '% of ideal', 'CPU s', 'peak RSS MiB', 'verify ms', 'server bytes ÷ size', '503s', 'vs aria2c', 'target (segdl)', 'met'];

export function toMarkdown(results: Results, scenarios: Scenario[]): string {
  const { meta, cells } = results;
  const lines: string[] = [
    '# segdl benchmark',
    '',
    `\`${meta.command}\` · ${meta.date} · ${meta.machine} · Node ${meta.node} · ${Math.round(meta.durationS)} s · ${meta.load}`,
    '',
    `Tools: ${meta.tools.join(', ')}`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map((_, i) => (i < 2 || i >= HEADER.length - 2 ? '---' : '--:')).join('|')}|`,
  ];
  for (const cell of cells) lines.push(`| ${row(cell, scenarios).join(' | ')} |`);
  if (scenarios.some((s) => s.id === 'H')) lines.push('', costLine(results.durabilityCost));
  lines.push(
    '',
    '- MB/s = 10^6 bytes/s = file size ÷ wall time. Each column is the median of its runs; tools alternate (rotating order) within every round.',
    '- CPU s = user + sys of the tool process (GNU time), peak RSS = its max resident set; the in-process server is not counted.',
    '- verify ms = segdl\'s own `verifyMs` (last line of `--json`): from the last byte on disk to a verified file (seam check and the full read-back hash); in E, the resumed run\'s. It does not include publishing (rename; with `--durability power`, the final fsync comes after it). segdl only.',
    '- H: segdl-power = the same segdl build with `--durability power` (fdatasync of the .part before every manifest checkpoint, fsync at the end); segdl = the default `--durability process`.',
    '- % of ideal = ideal time ÷ wall, ideal = size ÷ the capacity of the connections the tool opens (B: n × 8 MB/s; C: 12 × 8 + 4 × 1 MB/s; G: 4 × 8 MB/s).',
    '- vs aria2c = ratio to aria2c measured in the same run: wall time (A–D, G; < 1 is faster), server bytes (E), peak RSS (F).',
    '- E: killed with SIGKILL once the server had sent half the file, then the same command again; wall and CPU add both halves, server bytes − size = re-sent.',
    '- A cell whose ideal or first run exceeds 15 s runs once (B1, curl in E, the slowest peers), so the default run stays near 10 minutes; F runs once per tool. The runs column says how many.',
    '- Server bytes count what the server pushed into its sockets: data in flight when a client cuts a connection (a steal, a kill, the end of a piece) counts as sent.',
    '',
    '**Scenarios**',
    '',
    ...scenarios.map((s) => `- **${s.id}** ${s.title} (${fmtSize(s.size)}).`),
  );
  const notes = notesOf(cells);
  if (notes.length > 0) lines.push('', '**Notes, failures and skips**', '', ...notes);
  return `${lines.join('\n')}\n`;
}

function row(cell: Cell, scenarios: Scenario[]): string[] {
  const scenario = scenarios.find((s) => s.id === cell.scenario);
  const m = cell.median;
  const dash = '—';
  const runs = cell.runs.length;
  if (!m) {
    const status = cell.status === 'skipped' ? 'skipped' : `**failed** (${runs} run${runs === 1 ? '' : 's'})`;
    return [cell.scenario, cell.tool, String(runs), status, dash, dash, dash, dash, '', dash, dash, dash, cell.target?.text ?? '', cell.target ? verdict(cell.target) : ''];
  }
  const size = scenario?.size ?? 1;
  const bytes = `${(m.serverBytes / size).toFixed(3)}${scenario?.kind === 'resume' ? ` (re-sent ${pct((m.serverBytes - size) / size, 1)})` : ''}`;
  return [
    cell.scenario,
    cell.tool,
    String(runs),
    m.wallS.toFixed(2),
    m.mbPerS.toFixed(1),
    cell.ofIdeal === undefined ? dash : pct(cell.ofIdeal, 0),
    m.cpuS === undefined ? dash : m.cpuS.toFixed(2),
    m.maxRssMiB === undefined ? dash : m.maxRssMiB.toFixed(0),
    m.verifyMs === undefined ? '' : m.verifyMs.toFixed(0),
    bytes,
    String(m.refused),
    cell.vsAria2c === undefined ? dash : `${cell.vsAria2c.toFixed(2)}×`,
    cell.target?.text ?? '',
    cell.target ? verdict(cell.target) : '',
  ];
}

function notesOf(cells: Cell[]): string[] {
  const failures = cells.filter((c) => c.status !== 'ok').map((c) => `- ${c.scenario} ${c.tool} ${c.status}: ${c.reason ?? ''}`);
  // One line per (tool, note), naming the scenarios it applies to.
  const byNote = new Map<string, string[]>();
  for (const c of cells) {
    if (c.note === undefined) continue;
    const key = `${c.tool}: ${c.note}`;
    byNote.set(key, [...(byNote.get(key) ?? []), c.scenario]);
  }
  const notes = [...byNote].map(([key, ids]) => {
    const [tool, ...rest] = key.split(': ');
    return `- ${tool} (${ids.join(', ')}): ${rest.join(': ')}`;
  });
  return [...notes, ...failures];
}

const pct = (x: number, digits: number): string => `${(x * 100).toFixed(digits)} %`;
const verdict = (t: NonNullable<Cell['target']>): string => (t.informational ? '—' : t.met === undefined ? '?' : t.met ? 'yes' : '**no**');

/** The line under the table: what `--durability power` costs, as power ÷ process. */
function costLine(cost: DurabilityCost | undefined): string {
  if (cost === undefined) return '**H**: no ratio (segdl or segdl-power did not complete H).';
  const cpu = cost.cpu === undefined ? 'CPU unknown' : `${cost.cpu.toFixed(2)}× CPU`;
  const v = cost.verifyMs;
  const verify = v.process !== undefined && v.power !== undefined ? ` (verify tail ${v.power.toFixed(0)} ms vs ${v.process.toFixed(0)} ms)` : '';
  return `**H**: power costs ${cost.wall.toFixed(2)}× wall, ${cpu}${verify} — segdl-power ÷ segdl, medians of the same run.`;
}

export async function writeResults(outDir: string, results: Results, markdown: string): Promise<void> {
  await writeFile(join(outDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(outDir, 'latest.md'), markdown);
}
