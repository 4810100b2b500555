/** Command-line flags of the benchmark harness. */
import { resolve } from 'node:path';
import type { ToolName } from './tools.js';

/**
 * The default tools: the downloaders, and segdl's library, stdout and start-up rows where a
 * scenario has them (S1, S16, D, A). segdl-power (H only) joins when H is selected, or by name.
 */
export const ALL_TOOLS: ToolName[] = ['segdl', 'aria2c', 'axel', 'curl', 'ipull', 'segdl-lib', 'segdl-stdout', 'segdl-version', 'node-e0'];
export const KNOWN_TOOLS: ToolName[] = [...ALL_TOOLS, 'segdl-power'];

export interface BenchArgs {
  quick: boolean;
  runs: number;
  /** Scenario ids or letters ('B' selects B1, B4, B8, B16); undefined = all. */
  only: string[] | undefined;
  tools: ToolName[];
  install: boolean;
  out: string;
  work: string;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]      (after npm run build)

  --quick           small sizes, 1 run per cell, no F8 (about a minute)
  --runs N          runs per cell, median reported (default 3; cells whose ideal exceeds 15 s run once)
  --only A,B4,...   scenarios by id or letter (B = B1,B4,B8,B16; F = F,F8; S = S1,S16)
  --tools a,b,...   subset of ${KNOWN_TOOLS.join(',')}
                    (segdl-power runs in H only; by default it joins when H is selected)
  --install         apt-get install missing peers (aria2 axel curl time; nginx for T) first
  --out DIR         results directory (default bench/results; with --quick bench/work/quick-results)
  --work DIR        scratch directory for data and downloads (default bench/work)
`;

export class UsageError extends Error {}

export function parseArgs(argv: string[], root: string): BenchArgs {
  const args: BenchArgs = {
    quick: false,
    runs: 3,
    only: undefined,
    tools: [...ALL_TOOLS],
    install: false,
    out: '',
    work: resolve(root, 'bench/work'),
    help: false,
  };
  let toolsGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        args.quick = true;
        break;
      case '--runs': {
        const runs = Number(value());
        if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new UsageError(`Expected \`--runs\` to be an integer from 1 to 50, got ${argv[i]}`);
        args.runs = runs;
        break;
      }
      case '--only':
        args.only = value().split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
        break;
      case '--tools': {
        const tools = value().split(',').map((s) => s.trim());
        const bad = tools.find((t) => !(KNOWN_TOOLS as string[]).includes(t));
        if (bad !== undefined) throw new UsageError(`Unknown tool \`${bad}\`; expected some of ${KNOWN_TOOLS.join(', ')}`);
        args.tools = tools as ToolName[];
        toolsGiven = true;
        break;
      }
      case '--install':
        args.install = true;
        break;
      case '--out':
        args.out = resolve(value());
        break;
      case '--work':
        args.work = resolve(value());
        break;
      case '-h':
      case '--help':
        args.help = true;
        break;
      default:
        throw new UsageError(`Unknown option \`${flag}\``);
    }
  }
  if (!toolsGiven && selects(args.only, 'H')) args.tools.push('segdl-power');
  // Quick numbers are for development: they must not overwrite the committed full results.
  args.out ||= resolve(root, args.quick ? 'bench/work/quick-results' : 'bench/results');
  return args;
}

/** `--only B` selects every B row; `--only B4` just that one. */
export function selects(only: string[] | undefined, id: string): boolean {
  return only === undefined || only.some((o) => o === id || (o.length === 1 && id.startsWith(o)));
}
