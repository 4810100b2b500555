/**
 * `node dist/bench/cpuprofile-top.js FILE.cpuprofile [--top N] [--by function|file|package]`:
 * the functions (or files, or packages) that took the most self time in a V8 CPU profile, as
 * written by `node --cpu-prof`. Self time comes from the sample time deltas, so it is in ms of
 * wall time the thread spent there; (garbage collector), (program) and (idle) show as their own rows.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

type Grouping = 'function' | 'file' | 'package';

interface Row {
  name: string;
  selfMs: number;
  share: number;
}

/** Self time per group, largest first; `totalMs` is the profile's whole span. */
function topSelfTime(profile: CpuProfile, by: Grouping): { rows: Row[]; totalMs: number } {
  const nodeById = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  // timeDeltas[i] is the time since the previous sample: charge it to the node sampled at i.
  profile.samples.forEach((id, i) => {
    const node = nodeById.get(id);
    if (!node) return;
    const key = groupOf(node.callFrame, by);
    selfUs.set(key, (selfUs.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalUs = Math.max(1, profile.endTime - profile.startTime);
  const rows = [...selfUs]
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: us / totalUs }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { rows, totalMs: totalUs / 1000 };
}

function groupOf(frame: CallFrame, by: Grouping): string {
  const where = shortUrl(frame.url);
  if (where === '') {
    // V8's pseudo-frames ((garbage collector), (program), (idle)) as they are; C++ builtins (fstat…) under (native).
    const name = frame.functionName || '(anonymous)';
    return name.startsWith('(') ? name : by === 'function' ? `${name}  (native)` : '(native)';
  }
  if (by === 'file') return where;
  if (by === 'package') return packageOf(where);
  return `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
}

/** file:///…/node_modules/undici/lib/x.js → undici/lib/x.js; …/dist/src/a/b.js → src/a/b.js. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  const dist = path.lastIndexOf('/dist/');
  return dist >= 0 ? path.slice(dist + '/dist/'.length) : path;
}

function packageOf(where: string): string {
  if (where.startsWith('node:')) return 'node (core)';
  if (where.startsWith('wasm:')) return 'wasm (xxhash-wasm)';
  const [first, second] = where.split('/');
  if (first === 'src' || first === 'bench') return `segdl ${first}/${second ?? ''}`.replace(/\.js$/, '');
  return first?.startsWith('@') ? `${first}/${second}` : (first ?? where);
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, by: { type: 'string', default: 'function' } },
  });
  const file = positionals[0];
  const by = values.by as Grouping;
  const top = Number(values.top);
  if (file === undefined || !['function', 'file', 'package'].includes(by) || !Number.isInteger(top) || top < 1) {
    process.stderr.write('usage: node dist/bench/cpuprofile-top.js FILE.cpuprofile [--top N] [--by function|file|package]\n');
    return 2;
  }
  const { rows, totalMs } = topSelfTime(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, by);
  const lines = [`${file}: ${totalMs.toFixed(0)} ms profiled, top ${Math.min(top, rows.length)} by self time (${by})`, '   self ms      %  name'];
  for (const r of rows.slice(0, top)) lines.push(`${r.selfMs.toFixed(1).padStart(9)}  ${(r.share * 100).toFixed(1).padStart(5)}  ${r.name}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
