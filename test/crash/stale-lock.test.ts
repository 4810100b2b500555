/**
 * A dead owner's lock (issue 10, item 5): kill(pid, 0) alone calls a zombie alive, and a pid
 * from before a reboot or reused by another process too. Each case runs the built CLI against
 * a lock file left by a real zombie or written by hand, as the previous owner would have left it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { CLI, runCli, startCli, stopIfRunning } from '../helpers/cli.js';
import { listDir, MiB } from '../helpers/crash.js';
import { startServer, type TestServer } from '../helpers/server.js';

let out: string;
let server: TestServer | undefined;
let shell: ChildProcess | undefined;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'segdl-stale-lock-'));
});
afterEach(async () => {
  // The shell became `sleep`: killing it lets init reap the zombie.
  if (shell && shell.exitCode === null && shell.signalCode === null) {
    const gone = new Promise((resolve) => shell!.once('close', resolve));
    shell.kill('SIGKILL');
    await gone;
  }
  shell = undefined;
  await server?.cleanup();
  server = undefined;
  await rm(out, { recursive: true, force: true });
});

const SIZE = 2 * MiB + 77;
const OTHER_BOOT = '00000000-0000-4000-8000-000000000000';
const args = (url: string) => [url, '-o', 'file.bin', '-c', '2', '--json'];
const lockOf = () => join(out, 'file.bin.segdl.lock');

/** Read by hand (not with the engine's parser): the state letter and start time of `pid`. */
async function procStat(pid: number): Promise<{ state: string; start: string }> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, start: fields[19]! };
}

async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
}

/** A lock file as segdl writes it: the pid on line 1, then the boot and the start time. */
const lockText = (pid: number, boot: string, start: string) => `${pid}\nboot ${boot}\nstart ${start}\n`;

async function expectDownloaded(run: { code: number | null; stderr: string }): Promise<void> {
  expect(run.code, run.stderr).toBe(0);
  expect(await sha256File(join(out, 'file.bin'))).toBe(server!.sha256);
  expect(await listDir(out)).toEqual(['file.bin']);
}

describe('a dead owner’s lock', () => {
  it('an owner SIGKILLed and left a zombie (its parent never reaps it) does not block the next run', async () => {
    // The first run stalls after a few bytes, so it is surely mid-download when killed.
    server = await startServer(SIZE, { stallAfterBytes: 64 * 1024 });
    // A parent that never reaps: it starts segdl and becomes `sleep` at once (a shell that is still
    // a shell when its child dies may reap it). The test kills segdl itself.
    const script = '"$0" "$@" & echo "pid $!"; exec sleep 120 </dev/null >/dev/null 2>&1';
    shell = spawn('sh', ['-c', script, process.execPath, CLI, ...args(server.server.url)], { cwd: out, stdio: ['pipe', 'pipe', 'pipe'] });
    let pid = 0;
    const started = new Promise<void>((resolve, reject) => {
      createInterface({ input: shell!.stdout! }).on('line', (line) => {
        if (line.startsWith('pid ')) pid = Number(line.slice(4));
        else if (line.startsWith('{') && (JSON.parse(line) as { event?: string }).event === 'start') resolve(); // after the lock is taken
      });
      shell!.once('close', () => reject(new Error('the shell exited before segdl started')));
    });
    // segdl holds the pipe's last write end once the shell became sleep: its end is segdl's death.
    const segdlGone = new Promise((resolve) => shell!.stdout!.once('end', resolve));
    await started;
    process.kill(pid, 'SIGKILL');
    await segdlGone;
    // The kernel closes a dying process's files a moment before it turns into a zombie, and nothing
    // tells a process that is not the parent about that last step: look until /proc shows it.
    while ((await procStat(pid)).state !== 'Z') await sleep(5);
    expect(await readFile(lockOf(), 'utf8')).toMatch(new RegExp(`^${pid}\n`));

    server.server.setFaults({});
    const run = await runCli(args(server.server.url), { cwd: out });
    await expectDownloaded(run);
    expect((await procStat(pid)).state).toBe('Z'); // still a zombie: it was judged dead, not reaped meanwhile
  });

  it('a lock from another boot naming a pid that is alive now is taken over', async () => {
    server = await startServer(SIZE);
    const live = process.ppid;
    expect(() => process.kill(live, 0)).not.toThrow();
    await writeFile(lockOf(), lockText(live, OTHER_BOOT, (await procStat(live)).start));
    await expectDownloaded(await runCli(args(server.server.url), { cwd: out }));
  });

  it('a live pid with another start time (the pid was reused by another process) is taken over', async () => {
    server = await startServer(SIZE);
    const live = process.ppid;
    const start = (await procStat(live)).start;
    await writeFile(lockOf(), lockText(live, await bootId(), String(Number(start) + 1)));
    await expectDownloaded(await runCli(args(server.server.url), { cwd: out }));
  });

  it.each([
    ['with boot and start time', async () => lockText(process.pid, await bootId(), (await procStat(process.pid)).start)],
    ['in the previous format (the pid only)', async () => `${process.pid}\n`],
  ])('a lock of a live owner %s still refuses with ERR_LOCKED', async (_what, content) => {
    server = await startServer(SIZE);
    const text = await content();
    await writeFile(lockOf(), text);
    const run = await runCli(args(server.server.url), { cwd: out });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^segdl: ERR_LOCKED: .*file\\.bin.*\\(pid ${process.pid}\\)`, 'm'));
    expect(await readFile(lockOf(), 'utf8')).toBe(text);
    expect(server.server.requests.filter((r) => r.method === 'GET')).toHaveLength(0);
  });

  it('the lock segdl writes names its pid, this boot and its start time', async () => {
    server = await startServer(SIZE, { stallAfterBytes: 1024 });
    const cli = startCli(args(server.server.url), { cwd: out });
    try {
      await cli.waitForEvent((e) => e['event'] === 'start');
      const pid = cli.child.pid!;
      expect(await readFile(lockOf(), 'utf8')).toBe(lockText(pid, await bootId(), (await procStat(pid)).start));
    } finally {
      await stopIfRunning(cli);
    }
  });
});
