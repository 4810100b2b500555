/**
 * Command lines of segdl and its peers, as a user would type them, and whether each one is
 * installed. Flags beyond the (`aria2c -x16 -s16 -k1M`, `axel -n 16`, `curl`) only
 * silence progress output, name the output file, pick the file allocation or trust the test
 * CA (T), never tune speed. Besides the downloads: start-up floors (`node -e 0`,
 * `segdl --version`), segdl streaming to stdout, and segdl's library in one long-lived process.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * `segdl-power` is segdl with `--durability power` (H only); `segdl-stdout` is `segdl URL -o -`
 * piped into sha256sum; `segdl-lib` is `download()` in a warm process (lib-session.ts);
 * `node-e0` and `segdl-version` download nothing: they are the start-up floor.
 */
export type ToolName = 'segdl' | 'segdl-power' | 'segdl-lib' | 'segdl-stdout' | 'segdl-version' | 'node-e0' | 'aria2c' | 'axel' | 'curl' | 'ipull';

/**
 * How a row runs and is checked: a command that writes the file (download), one whose stdout is
 * the file (stdout), one that downloads nothing (startup: only its exit code counts), or the
 * library driven over IPC (library).
 */
export type ToolKind = 'download' | 'stdout' | 'startup' | 'library';

export interface ToolJob {
  url: string;
  /** Absolute path of the file to produce. */
  output: string;
  connections: number;
  /** Scenario E: the command must pick up what an interrupted run left behind. */
  resume: boolean;
  /** HTTPS (T): PEM file of the CA that signed the server's certificate. */
  ca?: string;
}

export interface Command {
  cmd: string;
  args: string[];
  /**
   * 'last-line': pipe stdout and keep its last line (segdl's `--json` result; the rest is
   * dropped as it arrives: a download's progress lines add up). 'sha256': stdout goes straight
   * into a `sha256sum` process (a shell's `| sha256sum`). Default: discarded.
   */
  stdout?: 'last-line' | 'sha256';
}

export interface Tool {
  name: ToolName;
  kind: ToolKind;
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
  const cli = join(segdlRoot, 'dist/src/cli/launch.cjs');
  const segdlArgs = (j: ToolJob): string[] => [cli, j.url, '-o', j.output, '-c', String(j.connections), ...(j.ca !== undefined ? ['--ca', j.ca] : [])];
  // The same command resumes after a kill: segdl continues from its manifest by itself.
  // --json rather than --quiet: its last line, the result, carries verifyMs.
  const segdl = (j: ToolJob, extra: string[]): Command => ({ cmd: node, args: [...segdlArgs(j), '--json', ...extra], stdout: 'last-line' });
  return {
    segdl: {
      name: 'segdl',
      kind: 'download',
      connections: (n) => n,
      command: (j) => segdl(j, []),
    },
    'segdl-power': {
      name: 'segdl-power',
      kind: 'download',
      connections: (n) => n,
      command: (j) => segdl(j, ['--durability', 'power']),
      note: () => 'segdl with --durability power (fdatasync before every checkpoint, fsync at the end)',
    },
    'segdl-stdout': {
      name: 'segdl-stdout',
      kind: 'stdout',
      connections: (n) => n,
      // `segdl URL -o - | sha256sum`: -q because stdout is the file (no --json, so no verify ms).
      command: (j) => ({ cmd: node, args: [...segdlArgs({ ...j, output: '-' }), '-q'], stdout: 'sha256' }),
      note: () => '`segdl URL -o - -q | sha256sum`, the hash checked against the file; CPU and RSS are segdl\'s alone',
    },
    'segdl-lib': {
      name: 'segdl-lib',
      kind: 'library',
      connections: (n) => n,
      // Shown in the table; lib-session.ts forks the driver and sends it one job per download.
      command: () => ({ cmd: node, args: [join(root, 'dist/bench/lib-driver.js'), join(segdlRoot, 'dist/src/index.js')] }),
      note: () => 'download() in one long-lived process (bench/lib-driver.ts), one warm-up download first, then the runs back to back; wall, CPU and peak RSS from inside that process',
    },
    'segdl-version': {
      name: 'segdl-version',
      kind: 'startup',
      connections: () => 0,
      command: () => ({ cmd: node, args: [cli, '--version'] }),
      note: () => '`segdl --version`: start-up cost, no download',
    },
    'node-e0': {
      name: 'node-e0',
      kind: 'startup',
      connections: () => 0,
      command: () => ({ cmd: node, args: ['-e', '0'] }),
      note: () => '`node -e 0`: the floor any Node CLI starts from, no download',
    },
    aria2c: {
      name: 'aria2c',
      kind: 'download',
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
            ...(j.ca !== undefined ? [`--ca-certificate=${j.ca}`] : []),
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
      kind: 'download',
      aptPackage: 'axel',
      connections: (n) => n,
      // axel resumes from its FILE.st by itself. Not in T: see the README.
      command: (j) => ({ cmd: 'axel', args: ['-n', String(j.connections), '-q', '-o', j.output, j.url] }),
    },
    curl: {
      name: 'curl',
      kind: 'download',
      aptPackage: 'curl',
      connections: () => 1,
      command: (j) => ({
        cmd: 'curl',
        args: ['-sS', '--fail', ...(j.resume ? ['-C', '-'] : []), ...(j.ca !== undefined ? ['--cacert', j.ca] : []), '-o', j.output, j.url],
      }),
      note: (j) => (j.resume ? 'one connection; resumes with -C -' : 'one connection'),
    },
    ipull: {
      name: 'ipull',
      kind: 'download',
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
    case 'segdl-stdout':
    case 'segdl-version':
      return existsSync(join(root, 'dist/src/cli/launch.cjs')) ? undefined : 'dist/src/cli/launch.cjs missing (npm run build)';
    case 'segdl-lib':
      return existsSync(join(root, 'dist/bench/lib-driver.js')) ? undefined : 'dist/bench/lib-driver.js missing (npm run build)';
    case 'node-e0':
      return undefined;
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

/** nginx lives in /usr/sbin, often not on a user's PATH. */
export function nginxBinary(): string | undefined {
  if (existsSync('/usr/sbin/nginx')) return '/usr/sbin/nginx';
  const r = spawnSync('/bin/sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** `--install`: apt-get the missing peers (and GNU time, and nginx for T). Never runs without the flag. */
export function installMissing(tools: Tool[], withNginx: boolean): void {
  const packages = tools.filter((t) => t.aptPackage !== undefined && !onPath(t.name)).map((t) => t.aptPackage!);
  if (!existsSync('/usr/bin/time')) packages.push('time');
  if (withNginx && nginxBinary() === undefined) packages.push('nginx');
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
    case 'segdl-stdout':
    case 'segdl-lib':
    case 'segdl-version':
      return `${tool.name} (the same segdl)`;
    case 'node-e0':
      return `node ${process.version}`;
    case 'ipull':
      return `ipull ${pkgVersion(join(root, 'node_modules/ipull/package.json'))}`;
    default: {
      const r = spawnSync(tool.name, ['--version'], { encoding: 'utf8' });
      return (r.stdout ?? '').split('\n')[0]?.split(' (')[0]?.trim() || tool.name;
    }
  }
}
