/**
 * Command lines of segdl and its peers, as a user would type them, and whether each one is
 * installed. Flags beyond the (`aria2c -x16 -s16 -k1M`, `axel -n 16`, `curl`) only
 * silence progress output, name the output file or pick the file allocation, never tune speed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** `segdl-power` is segdl with `--durability power`: it runs in scenario H only (see scenarios.ts). */
export type ToolName = 'segdl' | 'segdl-power' | 'aria2c' | 'axel' | 'curl' | 'ipull';

export interface ToolJob {
  url: string;
  /** Absolute path of the file to produce. */
  output: string;
  connections: number;
  /** Scenario E: the command must pick up what an interrupted run left behind. */
  resume: boolean;
}

export interface Command {
  cmd: string;
  args: string[];
  /**
   * Pipe stdout and keep its last line (segdl's `--json` result); otherwise stdout is
   * discarded. The rest is dropped as it arrives: a download's progress lines add up.
   */
  captureLastLine?: boolean;
}

export interface Tool {
  name: ToolName;
  /** Debian package that provides it, for `--install`. */
  aptPackage?: string;
  /** Connections the tool really opens when `asked` are requested. */
  connections(asked: number): number;
  command(job: ToolJob): Command;
  /** What differs from the scenario as specified, shown in the table. */
  note?(job: Pick<ToolJob, 'resume'>): string | undefined;
}

/** `segdlRoot` holds the segdl under test (a snapshot of dist/, see snapshot.ts); `root` the project. */
export function makeTools(root: string, segdlRoot = root): Record<ToolName, Tool> {
  const node = process.execPath;
  // The same command resumes after a kill: segdl continues from its manifest by itself.
  // --json rather than --quiet: its last line, the result, carries verifyMs.
  const segdl = (j: ToolJob, extra: string[]): Command => ({
    cmd: node,
    args: [join(segdlRoot, 'dist/src/cli/main.js'), j.url, '-o', j.output, '-c', String(j.connections), '--json', ...extra],
    captureLastLine: true,
  });
  return {
    segdl: {
      name: 'segdl',
      connections: (n) => n,
      command: (j) => segdl(j, []),
    },
    'segdl-power': {
      name: 'segdl-power',
      connections: (n) => n,
      command: (j) => segdl(j, ['--durability', 'power']),
      note: () => 'segdl with --durability power (fdatasync before every checkpoint, fsync at the end)',
    },
    aria2c: {
      name: 'aria2c',
      aptPackage: 'aria2',
      // aria2c caps -x at 16.
      connections: (n) => Math.min(n, 16),
      command: (j) => {
        const n = String(Math.min(j.connections, 16));
        return {
          cmd: 'aria2c',
          args: [
            `-x${n}`, `-s${n}`, '-k1M',
            ...(j.resume ? ['-c'] : []),
            // falloc (fallocate) rather than the default prealloc, which writes the whole file with zeros first.
            '--file-allocation=falloc',
            '--quiet=true', '--summary-interval=0', '--allow-overwrite=true', '--auto-file-renaming=false',
            '-d', dirname(j.output), '-o', basename(j.output), j.url,
          ],
        };
      },
      note: (j) => (j.resume ? '-c; control file saved every 60 s (default)' : '--file-allocation=falloc'),
    },
    axel: {
      name: 'axel',
      aptPackage: 'axel',
      connections: (n) => n,
      // axel resumes from its FILE.st by itself.
      command: (j) => ({ cmd: 'axel', args: ['-n', String(j.connections), '-q', '-o', j.output, j.url] }),
    },
    curl: {
      name: 'curl',
      aptPackage: 'curl',
      connections: () => 1,
      command: (j) => ({ cmd: 'curl', args: ['-sS', '--fail', ...(j.resume ? ['-C', '-'] : []), '-o', j.output, j.url] }),
      note: (j) => (j.resume ? 'one connection; resumes with -C -' : 'one connection'),
    },
    ipull: {
      name: 'ipull',
      connections: (n) => n,
      // A tiny script around ipull's downloadFile(); it resumes from its own FILE.ipull metadata.
      command: (j) => ({ cmd: node, args: [join(root, 'dist/bench/ipull-driver.js'), j.url, j.output, String(j.connections)] }),
      note: () => 'library via bench/ipull-driver.ts',
    },
  };
}

/** Why a tool cannot run here, or undefined when it can. */
export function missingReason(tool: Tool, root: string): string | undefined {
  switch (tool.name) {
    case 'segdl':
    case 'segdl-power':
      return existsSync(join(root, 'dist/src/cli/main.js')) ? undefined : 'dist/src/cli/main.js missing (npm run build)';
    case 'ipull':
      if (!existsSync(join(root, 'node_modules/ipull/package.json'))) return 'node_modules/ipull missing (npm ci)';
      return existsSync(join(root, 'dist/bench/ipull-driver.js')) ? undefined : 'dist/bench/ipull-driver.js missing (npm run build)';
    default:
      return onPath(tool.name) ? undefined : `${tool.name} not installed (apt-get install ${tool.aptPackage ?? tool.name}, or --install)`;
  }
}

export function onPath(binary: string): boolean {
  return spawnSync('/bin/sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

/** `--install`: apt-get the missing peers (and GNU time). Never runs without the flag. */
export function installMissing(tools: Tool[]): void {
  const packages = tools.filter((t) => t.aptPackage !== undefined && !onPath(t.name)).map((t) => t.aptPackage!);
  if (!existsSync('/usr/bin/time')) packages.push('time');
  if (packages.length === 0) return;
  console.error(`installing: ${packages.join(' ')}`);
  const result = spawnSync('apt-get', ['install', '-y', ...packages], { stdio: 'inherit' });
  if (result.status !== 0) console.error(`apt-get install failed (exit ${String(result.status)}); missing tools are skipped`);
}

/** `verifyMs` of segdl's `--json` result line (`{"event":"result", ..., "verifyMs": N}`), if that is what `line` is. */
export function verifyMsOf(line: string | undefined): number | undefined {
  if (line === undefined || !line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as { event?: unknown; verifyMs?: unknown };
    return parsed.event === 'result' && typeof parsed.verifyMs === 'number' && Number.isFinite(parsed.verifyMs) ? parsed.verifyMs : undefined;
  } catch {
    return undefined;
  }
}

/** One line naming the installed version, for the report header. */
export function versionOf(tool: Tool, root: string): string {
  const pkgVersion = (path: string): string => {
    const r = spawnSync(process.execPath, ['-p', `require(${JSON.stringify(path)}).version`], { encoding: 'utf8' });
    return r.stdout.trim() || '?';
  };
  switch (tool.name) {
    case 'segdl':
      return `segdl ${pkgVersion(join(root, 'package.json'))}`;
    case 'segdl-power':
      return 'segdl-power (the same segdl, --durability power)';
    case 'ipull':
      return `ipull ${pkgVersion(join(root, 'node_modules/ipull/package.json'))}`;
    default: {
      const r = spawnSync(tool.name, ['--version'], { encoding: 'utf8' });
      return (r.stdout ?? '').split('\n')[0]?.split(' (')[0]?.trim() || tool.name;
    }
  }
}
