/** The results as JSON (everything, every run) and as a markdown table (medians). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { growthMarkdown, growthRows, type GrowthRow } from './growth.js';
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
  scenarios: Array<Omit<Scenario, 'ideal' | 'targets'> & { targets: Record<string, string> }>;
  cells: Cell[];
  /** H: segdl-power ÷ segdl (medians), when both ran. */
  durabilityCost?: DurabilityCost;
  /** A, F, F8 per GiB. */
  growth?: GrowthRow[];
}

export function toResults(meta: Meta, scenarios: Scenario[], cells: Cell[]): Results {
  const cost = durabilityCost(cells);
  const growth = growthRows(scenarios, cells);
  return {
    meta,
    scenarios: scenarios.map(({ ideal: _ideal, targets, ...rest }) => ({ ...rest, targets: Object.fromEntries(Object.entries(targets).map(([tool, t]) => [tool, t.text])) })),
    cells,
    ...(cost !== undefined ? { durabilityCost: cost } : {}),
    ...(growth.length > 0 ? { growth } : {}),
  };
}

const HEADER = ['scenario', 'tool', 'runs', 'wall s', 'MB/s', '% of ideal', 'CPU s', 'user s', 'peak RSS MiB', 'verify ms', 'server bytes ÷ size', 'requests', 'conns', '503s', 'vs aria2c', 'vs curl', 'target', 'met'];

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
  if (results.growth) lines.push('', ...growthMarkdown(results.growth));
  const ran = (...ids: string[]): boolean => ids.some((id) => scenarios.some((s) => s.id === id));
  // Each line under the table: the scenarios it is about (none = always).
  const legend: Array<[string[], string]> = [
    [[], '- MB/s = 10^6 bytes/s = file size ÷ wall time. Each column is the median of its runs; tools alternate (rotating order) within every round.'],
    [[], '- CPU s = user + sys of the tool process (GNU time), user s = its user part, peak RSS = its max resident set; the in-process server is not counted. On this kind of VM the sys part of writing a GiB swings 1-4 s for every tool from one run to the next (bench/README.md, "Noise"): compare user s across tools, and CPU s within a round.'],
    [[], '- requests / conns = requests the server logged during one download and the distinct connections they came on (E: both halves; T: from nginx\'s access log).'],
    [['S1', 'S16'], '- S1, S16: first byte 50 ms away (the server waits before every response head), so one round trip (RTT) is 50 ms. node-e0 (`node -e 0`) and segdl-version (`segdl --version`) download nothing: the start-up floor, measured in the same run.'],
    [['S1', 'S16', 'D'], '- segdl-lib = `download()` in one long-lived process (modules loaded, one warm-up download first, the runs back to back); its CPU is that of the `download()` call and its peak RSS that of the process, both measured inside it.'],
    [['A'], '- segdl-stdout = `segdl URL -o - -q | sha256sum`, the hash checked against the file\'s; "not supported" while segdl has no stdout mode. Its CPU and RSS are segdl\'s alone; sha256sum runs alongside.'],
    [[], '- verify ms = segdl\'s own `verifyMs` (last line of `--json`; segdl-lib: the result of `download()`): from the last byte on disk to a verified file; in E, the resumed run\'s. It does not include publishing (rename; with `--durability power`, the final fsync comes after it).'],
    [['H'], '- H: segdl-power = the same segdl build with `--durability power` (fdatasync of the .part before every manifest checkpoint, fsync at the end); segdl = the default `--durability process`.'],
    [['B1', 'B4', 'B8', 'B16', 'C', 'E', 'G'], '- % of ideal = ideal time ÷ wall, ideal = size ÷ the capacity of the connections the tool opens (B: n × 8 MB/s; C: 12 × 8 + 4 × 1 MB/s; G: 4 × 8 MB/s).'],
    [[], '- vs aria2c, vs curl = ratio to aria2c\'s (curl\'s) cell in the same run: wall time (< 1 is faster), server bytes (E), peak RSS (F, F8).'],
    [['T'], '- T: nginx over TLS 1.3 on 127.0.0.1 with the test certificate, trusted by each tool (`--ca`, `--ca-certificate`, `--cacert`); axel cannot verify it (bench/README.md). nginx runs in its own process: its CPU is in no row.'],
    [['E'], '- E: killed with SIGKILL once the server had sent half the file, then the same command again; wall and CPU add both halves, server bytes − size = re-sent.'],
    [[], '- A cell whose ideal or first run exceeds 15 s runs once (B1, curl in E, the slowest peers); F and F8 run once per tool. The runs column says how many.'],
    [[], '- Server bytes count what the server pushed into its sockets: data in flight when a client cuts a connection (a steal, a kill, the end of a piece) counts as sent.'],
  ];
  lines.push(
    '',
    ...legend.filter(([ids]) => ids.length === 0 || ran(...ids)).map(([, text]) => text),
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
  const ratio = (r: number | undefined): string => (r === undefined ? dash : `${r.toFixed(2)}×`);
  const verdicts = [cell.target?.text ?? '', cell.target ? verdict(cell.target) : ''];
  if (!m) {
    const status = cell.status === 'skipped' ? 'skipped' : cell.status === 'unsupported' ? 'not supported' : `**failed** (${runs} run${runs === 1 ? '' : 's'})`;
    return [cell.scenario, cell.tool, String(runs), status, dash, dash, dash, dash, dash, '', dash, dash, dash, dash, dash, dash, ...verdicts];
  }
  const size = scenario?.size ?? 1;
  const downloads = m.mbPerS !== undefined;
  const bytes = !downloads ? dash : `${(m.serverBytes / size).toFixed(3)}${scenario?.kind === 'resume' ? ` (re-sent ${pct((m.serverBytes - size) / size, 1)})` : ''}`;
  return [
    cell.scenario,
    cell.tool,
    String(runs),
    m.wallS < 1 ? m.wallS.toFixed(3) : m.wallS.toFixed(2),
    m.mbPerS === undefined ? dash : m.mbPerS.toFixed(1),
    cell.ofIdeal === undefined ? dash : pct(cell.ofIdeal, 0),
    m.cpuS === undefined ? dash : m.cpuS.toFixed(2),
    m.userS === undefined ? dash : m.userS.toFixed(2),
    m.maxRssMiB === undefined ? dash : m.maxRssMiB.toFixed(0),
    m.verifyMs === undefined ? '' : m.verifyMs.toFixed(0),
    bytes,
    downloads ? String(m.requests) : dash,
    downloads ? String(m.connections) : dash,
    downloads ? String(m.refused) : dash,
    ratio(cell.vsAria2c),
    ratio(cell.vsCurl),
    ...verdicts,
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
