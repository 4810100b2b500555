/**
 * Catalogue cases 43 (the lock), 41 (killed around the final rename) and 38 (a file already at
 * the final name): a stale lock is taken over, a live one refuses; a download killed after its
 * final rename or just before it finishes on the next run without fetching the file again; a
 * file the user already has is never overwritten, but is accepted as it is when --checksum
 * says it is the right one.
 */
import { link, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataRange, sha256File } from '../../fixtures/data.js';
import { runCli } from '../helpers/cli.js';
import { deadPid, flipByte, jsonEvents, listDir, MiB } from '../helpers/crash.js';
import { startServer, type TestServer } from '../helpers/server.js';
import type { RequestRecord } from '../../src/index.js';

let out: string;
let server: TestServer | undefined;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'segdl-crash-lock-'));
});
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
  await rm(out, { recursive: true, force: true });
});

const SIZE = 4 * MiB + 123;

async function serve(): Promise<{ args: string[]; output: string; gets: () => number; requests: () => RequestRecord[] }> {
  server = await startServer(SIZE, { rateBytesPerSec: 8 * MiB });
  const s = server.server;
  let mark = 0;
  return {
    args: [s.url, '-o', 'file.bin', '-c', '4', '--json'],
    output: join(out, 'file.bin'),
    // GET requests since the previous call.
    gets: () => {
      const count = s.requests.slice(mark).filter((r) => r.method === 'GET').length;
      mark = s.requests.length;
      return count;
    },
    // The requests since the previous call, as the server saw them.
    requests: () => {
      const seen = s.requests.slice(mark);
      mark = s.requests.length;
      return seen;
    },
  };
}


describe('the lock (case 43)', () => {
  it('a lock left by a dead process is taken over', async () => {
    const { args, output } = await serve();
    await writeFile(`${output}.segdl.lock`, `${await deadPid()}\n`);
    const run = await runCli(args, { cwd: out });
    expect(run.code, run.stderr).toBe(0);
    expect(await sha256File(output)).toBe(server!.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });

  it.each([
    ['garbage', 'not a pid\n'],
    ['empty', ''],
    ['zero', '0\n'],
    ['negative', '-1\n'],
    ['binary', '\u0000\u0001\u00ff'],
  ])('a lock file holding %s is taken over', async (_what, content) => {
    const { args, output } = await serve();
    await writeFile(`${output}.segdl.lock`, content);
    const run = await runCli(args, { cwd: out });
    expect(run.code, run.stderr).toBe(0);
    expect(await sha256File(output)).toBe(server!.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });

  // Regression (engine bug found by this test, fixed): acquireLock() writes the pid to `<lock>.<pid>`, link()s it to the lock,
  // then removes it. A process killed between the open and the rm leaves `<lock>.<its pid>` for
  // ever: later runs only ever remove their own `<lock>.<own pid>`. Expected: stale private lock
  // files of dead pids are removed when the lock is taken, so only file.bin remains.
  it('the private lock file of a process killed while taking the lock is cleaned up', async () => {
    const { args, output } = await serve();
    await writeFile(`${output}.segdl.lock.${await deadPid()}`, '');
    const run = await runCli(args, { cwd: out });
    expect(run.code, run.stderr).toBe(0);
    expect(await listDir(out)).toEqual(['file.bin']);
  });

  it('a lock held by a live process refuses with ERR_LOCKED and is left alone', async () => {
    const { args, output, gets } = await serve();
    const lock = `${output}.segdl.lock`;
    await writeFile(lock, `${process.pid}\n`);
    const run = await runCli(args, { cwd: out });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^segdl: ERR_LOCKED: .*file\\.bin.*\\(pid ${process.pid}\\)`, 'm'));
    expect(await readFile(lock, 'utf8')).toBe(`${process.pid}\n`);
    expect(gets()).toBe(0);
    expect(await listDir(out)).toEqual(['file.bin.segdl.lock']);
  });
});

describe('killed around the final rename (case 41)', () => {
  it('killed after the rename, before the manifest was removed: the next run verifies the file, cleans up, fetches nothing', async () => {
    const { args, output, gets } = await serve();
    const killed = await runCli(args, { cwd: out, env: { SEGDL_TEST_CRASH_AT: 'published' } });
    expect(killed.signal).toBe('SIGKILL');
    expect(await listDir(out)).toEqual(['file.bin', 'file.bin.segdl.json', 'file.bin.segdl.lock']);
    expect(await sha256File(output)).toBe(server!.sha256);
    gets();
    const run = await runCli(args, { cwd: out });
    expect(run.code, run.stderr).toBe(0);
    expect(gets()).toBe(0);
    expect(jsonEvents(run.stdout).find((e) => e['event'] === 'result')).toMatchObject({ alreadyComplete: true, bytesFetched: 0 });
    expect(await sha256File(output)).toBe(server!.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });

  it('killed after the rename, then the file was changed: it is not taken for finished, and not overwritten without --force', async () => {
    const { args, output, gets, requests } = await serve();
    const killed = await runCli(args, { cwd: out, env: { SEGDL_TEST_CRASH_AT: 'published' } });
    expect(killed.signal).toBe('SIGKILL');
    await flipByte(output, 1000);
    const changed = await readFile(output);
    gets();
    const run = await runCli(args, { cwd: out });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^segdl: ERR_TARGET_EXISTS: .*file\.bin already exists/);
    // Its mtime moved off the server's Last-Modified: one conditional request, no body, refused.
    expect(requests().map((r) => [r.status, r.bytesSent])).toEqual([[304, 0]]);
    expect((await readFile(output)).equals(changed)).toBe(true);
    const forced = await runCli([...args, '--force'], { cwd: out });
    expect(forced.code).toBe(0);
    expect(await sha256File(output)).toBe(server!.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });

  it('killed after verification, before the rename: the next run re-verifies and renames without fetching', async () => {
    const { args, output, gets } = await serve();
    const killed = await runCli(args, { cwd: out, env: { SEGDL_TEST_CRASH_AT: 'verified' } });
    expect(killed.signal).toBe('SIGKILL');
    expect(await listDir(out)).toEqual(['file.bin.part', 'file.bin.segdl.json', 'file.bin.segdl.lock']);
    gets();
    const run = await runCli(args, { cwd: out });
    expect(run.code, run.stderr).toBe(0);
    expect(gets()).toBe(0);
    const events = jsonEvents(run.stdout);
    expect(events.find((e) => e['event'] === 'resume')).toMatchObject({ resumedBytes: SIZE });
    expect(events.find((e) => e['event'] === 'result')).toMatchObject({ bytesFetched: 0, size: SIZE });
    expect(await sha256File(output)).toBe(server!.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });

  // Regression (engine bug found by this test, fixed): publish() is link(part, output) then rm(part), with no crash point between them.
  // Killed in that window, the next run finds the output AND the .part (two names for the same
  // verified inode) plus the complete manifest; finishedEarlier() refuses whenever a .part
  // exists, so every rerun fails with ERR_TARGET_EXISTS (exit 1) until the user deletes a file
  // by hand. Expected: recognise its own finished download (same inode as the .part, or the
  // manifest's hashes match), drop the .part and the manifest, exit 0.
  it('killed between the link to the final name and the unlink of the .part: the next run finishes the job', async () => {
    const { args, output, gets } = await serve();
    const killed = await runCli(args, { cwd: out, env: { SEGDL_TEST_CRASH_AT: 'verified' } });
    expect(killed.signal).toBe('SIGKILL');
    await link(`${output}.part`, output); // what publish() does first; the kill lands before its rm(part)
    gets();
    const run = await runCli(args, { cwd: out });
    expect(run.code, run.stderr).toBe(0);
    expect(gets()).toBe(0);
    expect(await sha256File(output)).toBe(server!.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });

  // Regression (engine bug found by this test, fixed): same state, rerun with --force. The run resumes (all segments done) and publishes
  // with rename(part, output); both names are hard links to one inode, and rename() between two
  // links of the same file does nothing (POSIX), so file.bin.part is left behind next to the
  // finished file (and makes every later run without --force fail with ERR_TARGET_EXISTS).
  // Expected: exit 0 and only file.bin left.
  it('the same state rerun with --force leaves no .part behind', async () => {
    const { args, output } = await serve();
    const killed = await runCli(args, { cwd: out, env: { SEGDL_TEST_CRASH_AT: 'verified' } });
    expect(killed.signal).toBe('SIGKILL');
    await link(`${output}.part`, output);
    const run = await runCli([...args, '--force'], { cwd: out });
    expect(run.code, run.stderr).toBe(0);
    expect(await sha256File(output)).toBe(server!.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });
});

describe('a file already at the final name (case 38)', () => {
  it('matching --checksum: success without a single GET, the file untouched', async () => {
    const { args, output, gets } = await serve();
    await writeFile(output, dataRange('segdl', 0, SIZE));
    const before = await stat(output);
    const run = await runCli([...args, '--checksum', `sha256:${server!.sha256}`], { cwd: out });
    expect(run.code, run.stderr).toBe(0);
    expect(gets()).toBe(0);
    expect(jsonEvents(run.stdout).find((e) => e['event'] === 'result')).toMatchObject({ bytesFetched: 0, size: SIZE });
    const after = await stat(output);
    expect({ ino: after.ino, mtimeMs: after.mtimeMs }).toEqual({ ino: before.ino, mtimeMs: before.mtimeMs });
    expect(await listDir(out)).toEqual(['file.bin']);
  });

  it.each([
    ['without --checksum', [] as string[]],
    ['with a --checksum it does not match', ['--checksum', `sha256:${'0'.repeat(64)}`]],
  ])('other content %s: ERR_TARGET_EXISTS, no body fetched, the file untouched', async (_what, extra) => {
    const { args, output, requests } = await serve();
    const mine = Buffer.from('the user\u2019s own file\n');
    await writeFile(output, mine);
    const before = await stat(output);
    const run = await runCli([...args, ...extra], { cwd: out });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^segdl: ERR_TARGET_EXISTS: .*file\.bin already exists/m);
    // One conditional request: the file is newer than the remote's, so the server said 304, no body.
    const seen = requests();
    expect(seen.map((r) => [r.status, r.bytesSent, typeof r.headers['if-modified-since']])).toEqual([[304, 0, 'string']]);
    expect((await readFile(output)).equals(mine)).toBe(true);
    expect((await stat(output)).mtimeMs).toBe(before.mtimeMs);
    expect(await listDir(out)).toEqual(['file.bin']);
  });
});
