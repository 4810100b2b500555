/**
 * Benchmark entry: `npm run bench -- [--quick] [--runs N] [--only A,B] [--tools ...]`.
 * Serves generated files from segdl's own range server on 127.0.0.1 (T: from nginx over TLS),
 * runs every scenario with segdl's CLI and each installed peer (alternating tools within a
 * round; segdl's library row back to back in one process), and writes
 * bench/results/latest.{json,md}, throughput.svg and timeline.svg.
 */
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../src/serve/index.js';
import { parseArgs, selects, UsageError, USAGE, type BenchArgs } from './args.js';
import { rangeBenchServer, type BenchServer } from './bench-server.js';
import { runOnce, jobFor, type RunRecord, type RunSetup } from './cell.js';
import { throughputSvg, timelineSvg } from './chart.js';
import { DataFiles, type DataFile } from './data.js';
import { runLibrary } from './lib-session.js';
import { hasGnuTime, killCurrent } from './measure.js';
import { startNginx } from './nginx.js';
import { toMarkdown, toResults, writeResults } from './report.js';
import { buildScenarios, GiB, MB, type Scenario } from './scenarios.js';
import { compareCells, summarizeCell, type Cell } from './summary.js';
import { describeRevision, snapshotSegdl } from './snapshot.js';
import { recordTimeline } from './timeline.js';
import { installMissing, makeTools, missingReason, nginxBinary, versionOf, type Tool, type ToolName } from './tools.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
/**
 * A cell whose ideal, or whose first run, is longer than this runs once: B1 and the slowest
 * peers would otherwise take minutes of a default run that should stay near ten.
 */
const LONG_CELL_S = 15;
/** The self-signed test certificate nginx serves in T; every tool is told to trust it. */
const TLS_CA = join(root, 'fixtures/tls/localhost.crt');

const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseArgs(argv, root);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    log(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const began = performance.now();
  const loadBefore = loadavg()[0]!;
  // Other work on a 2-core box changes every number: say so rather than publish quietly.
  if (loadBefore > cpus().length / 2) log(`bench: load average ${loadBefore.toFixed(1)} on ${cpus().length} cores: expect noisy numbers`);
  let tools = makeTools(root);
  // A scenario none of the chosen tools runs in is left out (its file is never generated).
  const scenarios = buildScenarios(args.quick).filter((s) => selects(args.only, s.id) && s.tools.some((t) => args.tools.includes(t)));
  const wantsNginx = scenarios.some((s) => s.server === 'nginx');
  if (args.install) installMissing(args.tools.map((t) => tools[t]), wantsNginx);
  if (!hasGnuTime()) log('bench: /usr/bin/time missing (apt-get install time, or --install): no CPU or RSS figures');
  const missing = new Map<ToolName, string>();
  for (const name of args.tools) {
    const reason = missingReason(tools[name], root);
    if (reason !== undefined) {
      missing.set(name, reason);
      log(`bench: skipping ${name}: ${reason}`);
    }
  }
  if (scenarios.length === 0) {
    log(`bench: no scenario selected by --only ${args.only?.join(',') ?? '(all)'} runs any of --tools ${args.tools.join(',')}`);
    return 2;
  }

  // One snapshot for segdl and segdl-power alike: both rows of H run the same build.
  const segdlRoot = missingReason(tools.segdl, root) !== undefined ? root : await snapshotSegdl(root, args.work);
  tools = makeTools(root, segdlRoot);
  const revision = describeRevision(root);
  const data = new DataFiles(join(args.work, 'data'));
  await mkdir(data.dir, { recursive: true });
  await mkdir(args.out, { recursive: true });
  const server = rangeBenchServer(await serve({ root: data.dir }));
  let nginx: BenchServer | undefined;
  const cleanUp = async (): Promise<void> => {
    await Promise.allSettled([server.close(), nginx?.close(), data.dropAll()]);
    await rm(data.dir, { recursive: true, force: true });
    await rm(join(args.work, 'out'), { recursive: true, force: true });
    await rm(join(args.work, 'segdl-snapshot'), { recursive: true, force: true });
  };
  const stop = (): void => {
    killCurrent();
    void cleanUp().then(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  log(`bench: server ${server.urlFor('')}, ${scenarios.map((s) => s.id).join(' ')}, ${args.quick ? 'quick' : `${args.runs} runs`}`);

  const cells: Cell[] = [];
  let timelineSvgText: string | undefined;
  try {
    for (const [i, scenario] of scenarios.entries()) {
      const scenarioBegan = performance.now();
      const prepared = await prepare(scenario, data, server, args.work);
      if ('setup' in prepared && prepared.setup.server !== server) nginx = prepared.setup.server;
      try {
        const scenarioCells = await runScenario(scenario, args, tools, missing, prepared, segdlRoot);
        compareCells(scenario, scenarioCells, { scenarios, cells });
        cells.push(...scenarioCells);
      } finally {
        await nginx?.close();
        nginx = undefined;
      }
      const file = 'setup' in prepared ? prepared.setup.data : undefined;
      if (scenario.id === 'C' && file && args.tools.includes('segdl') && !missing.has('segdl')) {
        timelineSvgText = await drawTimeline(scenario, file, args.work);
      }
      // Big files go as soon as no later scenario serves them (disk and page cache).
      if (!scenarios.slice(i + 1).some((s) => s.size === scenario.size)) await data.drop(scenario.size);
      log(`  (${scenario.id} took ${Math.round((performance.now() - scenarioBegan) / 1000)} s)`);
    }
  } finally {
    process.off('SIGINT', stop);
    await cleanUp();
  }

  const cpu = cpus();
  const meta = {
    date: new Date().toISOString(),
    command: process.env.npm_lifecycle_event === 'bench' ? `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}` : ['node dist/bench/run.js', ...argv].join(' '),
    machine: `${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length} cores, ${Math.round(totalmem() / GiB)} GiB RAM, ${platform()} ${release()}`,
    node: process.version,
    // Only the tools some selected scenario runs (segdl-power: H).
    tools: args.tools
      .filter((t) => !missing.has(t) && scenarios.some((s) => s.tools.includes(t)))
      .map((t) => versionOf(tools[t], root) + (t === 'segdl' ? ` (${revision})` : '')),
    quick: args.quick,
    runs: args.quick ? 1 : args.runs,
    durationS: (performance.now() - began) / 1000,
    load: `load average ${loadBefore.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`,
  };
  const results = toResults(meta, scenarios, cells);
  const markdown = toMarkdown(results, scenarios);
  await writeResults(args.out, results, markdown);
  const subtitle = `${meta.date.slice(0, 10)} · ${meta.machine} · ${meta.command}`;
  await writeFile(join(args.out, 'throughput.svg'), throughputSvg(scenarios, cells, subtitle));
  if (timelineSvgText !== undefined) await writeFile(join(args.out, 'timeline.svg'), timelineSvgText);
  process.stdout.write(markdown);
  log(`bench: results in ${args.out} (${Math.round(meta.durationS)} s)`);
  return cells.some((c) => c.status === 'failed') ? 1 : 0;
}

async function runScenario(
  scenario: Scenario,
  args: BenchArgs,
  tools: Record<ToolName, Tool>,
  missing: Map<ToolName, string>,
  prepared: Prepared,
  segdlRoot: string,
): Promise<Cell[]> {
  const wanted = scenario.tools.filter((t) => args.tools.includes(t));
  const runnable = wanted.filter((t) => !missing.has(t)).map((t) => tools[t]);
  const skipped: Cell[] = wanted
    .filter((t) => missing.has(t))
    .map((t) => ({ scenario: scenario.id, tool: t, status: 'skipped', reason: missing.get(t)!, runs: [] }));
  log(`\n${scenario.id}: ${scenario.title}`);
  if ('cantRun' in prepared) {
    const reason = prepared.cantRun;
    log(`  skipped: ${reason}`);
    return [...skipped, ...runnable.map((t): Cell => ({ scenario: scenario.id, tool: t.name, status: 'skipped', reason, runs: [] }))];
  }
  const { setup } = prepared;

  const idealOf = (t: Tool): number | undefined => scenario.ideal?.(t.connections(scenario.connections));
  const planned = (t: Tool, done: RunRecord[] = []): number => {
    if (args.quick) return 1;
    const first = done[0];
    const long = (idealOf(t) ?? 0) > LONG_CELL_S || (first?.ok === true && first.wallS > LONG_CELL_S);
    return Math.min(scenario.maxRuns ?? args.runs, long && !scenario.keepRuns ? 1 : args.runs);
  };
  const records = new Map<ToolName, RunRecord[]>(runnable.map((t) => [t.name, []]));
  const rotating = runnable.filter((t) => t.kind !== 'library');
  const rounds = Math.max(0, ...rotating.map((t) => planned(t)));
  for (let round = 0; round < rounds; round++) {
    // Rotate the order every round so no tool always runs first (cold caches) or last.
    const order = rotating.map((_, k) => rotating[(k + round) % rotating.length]!);
    for (const tool of order) {
      const done = records.get(tool.name)!;
      if (done.length >= planned(tool, done) || done.some((r) => !r.ok)) continue;
      const record = await runOnce(setup, tool, round);
      done.push(record);
      log(`  ${tool.name.padEnd(13)} run ${round + 1}/${planned(tool, done)}  ${describe(record, scenario, tool)}`);
    }
  }
  // The library row: its runs back to back in one warm process, after the others.
  for (const tool of runnable.filter((t) => t.kind === 'library')) {
    const runs = planned(tool);
    records.set(tool.name, await runLibrary(setup, tool, runs, (r, i) => log(`  ${tool.name.padEnd(13)} run ${i + 1}/${runs}  ${describe(r, scenario, tool)}`)));
  }
  const cells = runnable.map((t) => {
    const job = jobFor(scenario, 'URL', 'DIR/FILE', setup.ca === undefined ? undefined : 'CA.crt');
    const command = t.command(job);
    const ideal = idealOf(t);
    return summarizeCell(scenario, t.name, records.get(t.name)!, {
      // As a user would type it: the snapshot's and the project's paths are left out.
      command: [command.cmd === process.execPath ? 'node' : command.cmd, ...command.args].join(' ').replaceAll(`${segdlRoot}/`, '').replaceAll(root, ''),
      note: t.note?.(job),
      idealS: ideal,
      downloads: t.kind !== 'startup',
    });
  });
  return [...cells, ...skipped];
}

function describe(r: RunRecord, s: Scenario, tool: Tool): string {
  if (!r.ok) return `${r.unsupported ? 'NOT SUPPORTED' : 'FAILED'}: ${r.error}`;
  const downloads = tool.kind !== 'startup';
  const parts = [
    `${r.wallS.toFixed(3)} s`,
    ...(downloads ? [`${(s.size / r.wallS / MB).toFixed(1)} MB/s`] : []),
    `cpu ${r.cpuS?.toFixed(2) ?? '?'} s (user ${r.userS?.toFixed(2) ?? '?'})`,
    `rss ${r.maxRssKiB === undefined ? '?' : Math.round(r.maxRssKiB / 1024)} MiB`,
    ...(downloads ? [`server ${(r.serverBytes / s.size).toFixed(3)}× size`, `${r.requests} req`, `${r.connections} conn`] : []),
  ];
  if (r.refused > 0) parts.push(`${r.refused} refused`);
  if (r.verifyMs !== undefined) parts.push(`verify ${Math.round(r.verifyMs)} ms`);
  return parts.join('  ');
}

type Prepared = { setup: RunSetup } | { cantRun: string };

/**
 * The file and server a scenario runs against (T: nginx, started here; the caller closes it),
 * or why it cannot run. Disk space is checked before generating: an 8 GiB source that does not
 * fit is never written.
 */
async function prepare(scenario: Scenario, data: DataFiles, rangeServer: BenchServer, work: string): Promise<Prepared> {
  const noSpace = await lacksSpace(work, scenario.size, data.has(scenario.size));
  if (noSpace !== undefined) return { cantRun: noSpace };
  let server = rangeServer;
  if (scenario.server === 'nginx') {
    try {
      server = await nginxFor(data.dir, work);
    } catch (error) {
      return { cantRun: (error as Error).message };
    }
  }
  server.setFaults(scenario.faults);
  const file = await data.get(scenario.size);
  return { setup: { server, workDir: work, scenario, data: file, ...(scenario.server === 'nginx' ? { ca: TLS_CA } : {}) } };
}

/** The source (unless it is on disk already) and one download must fit, with 1 GiB to spare. */
async function lacksSpace(dir: string, size: number, sourceOnDisk: boolean): Promise<string | undefined> {
  await mkdir(dir, { recursive: true });
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  const needs = (sourceOnDisk ? 0 : size) + size + GiB;
  return free >= needs ? undefined : `not enough disk: source + output + 1 GiB = ${(needs / GiB).toFixed(1)} GiB, ${dir} has ${(free / GiB).toFixed(1)} GiB free`;
}

/** T's server: nginx over TLS 1.3 with the test certificate, serving the data directory. */
async function nginxFor(dataDir: string, work: string): Promise<BenchServer> {
  const nginx = nginxBinary();
  if (nginx === undefined) throw new Error('nginx not installed (apt-get install nginx, or --install)');
  return startNginx({ nginx, root: dataDir, work, cert: TLS_CA, key: join(root, 'fixtures/tls/localhost.key') });
}

/** Scenario C once more through the library, with one connection reset, drawn lane by lane. */
async function drawTimeline(scenario: Scenario, file: DataFile, work: string): Promise<string> {
  log('  timeline: one segdl download of C (library, progress every 50 ms, one reset injected)');
  const timeline = await recordTimeline({
    data: file,
    workDir: work,
    faults: scenario.faults,
    connections: scenario.connections,
    title: `One segdl download, scenario C (every 4th connection at 1 MB/s) + one connection reset`,
    resetRequest: 6,
  });
  if (timeline.error) log(`  timeline FAILED: ${timeline.error}`);
  return timelineSvg(timeline, 4 * MB);
}

process.exitCode = await main(process.argv.slice(2));
