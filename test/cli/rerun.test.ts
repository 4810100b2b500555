/**
 * The same command twice (issue #10 item 4): a file segdl published is given the server's
 * Last-Modified as its mtime; the rerun asks conditionally and succeeds without a body when the
 * file is provably the remote's current one, and refuses (as before) when it cannot be proven.
 */
import { readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { jsonEvents } from '../helpers/crash.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-rerun-');
const MiB = 1024 * 1024;

async function firstRun(faults = {}) {
  const server = await scratch.server(4 * MiB, faults);
  const args = [server.server.url, '-o', 'f.bin', '-c', '4'];
  const first = await runCli(args, { cwd: scratch.dir });
  expect(first.code, first.stderr).toBe(0);
  return { server, args, output: join(scratch.dir, 'f.bin'), mark: server.server.requests.length };
}

describe('running the same command again (issue #10 item 4)', () => {
  it('the published file carries the server\'s Last-Modified as its mtime', async () => {
    const { output, server } = await firstRun();
    const source = await stat(server.file);
    expect((await stat(output)).mtimeMs).toBe(Math.floor(source.mtimeMs / 1000) * 1000);
  });

  it('after a success: exit 0, "already complete", one conditional request answered 304, no body byte sent', async () => {
    const { args, output, server, mark } = await firstRun();
    const before = await readFile(output);
    const sentBefore = server.server.stats.bytesSent;
    const again = await runCli(args, { cwd: scratch.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^segdl: already complete: .*f\.bin \(4\.0 MiB\) is the remote's current file, nothing downloaded$/m);
    const seen = server.server.requests.slice(mark);
    expect(seen.map((q) => [q.status, typeof q.headers['if-modified-since']])).toEqual([[304, 'string']]);
    expect(server.server.stats.bytesSent - sentBefore).toBe(0);
    expect((await readFile(output)).equals(before)).toBe(true);
  });

  it('--json says so too: alreadyComplete in the result, nothing fetched', async () => {
    const { args } = await firstRun();
    const again = await runCli([...args, '--json'], { cwd: scratch.dir });
    expect(again.code).toBe(0);
    expect(jsonEvents(again.stdout).find((e) => e['event'] === 'result')).toMatchObject({ alreadyComplete: true, bytesFetched: 0, size: 4 * MiB });
  });

  it('a server that ignores If-Modified-Since: the same size and Last-Modified still prove it, and the answer is cut', async () => {
    const { args, output, server, mark } = await firstRun({ ignoreConditionals: true });
    const before = await readFile(output);
    const again = await runCli([...args, '--json'], { cwd: scratch.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(jsonEvents(again.stdout).find((e) => e['event'] === 'result')).toMatchObject({ alreadyComplete: true, bytesFetched: 0 });
    const seen = server.server.requests.slice(mark);
    expect(seen.map((q) => q.status)).toEqual([206]);
    expect((await readFile(output)).equals(before)).toBe(true);
  });

  it('the remote changed since (a newer Last-Modified): the refusal stays, the file is untouched', async () => {
    const { args, output, server } = await firstRun();
    const before = await readFile(output);
    const later = new Date(Date.now() + 60_000);
    await utimes(server.file, later, later);
    const again = await runCli(args, { cwd: scratch.dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^segdl: ERR_TARGET_EXISTS: .*f\.bin already exists/m);
    expect((await readFile(output)).equals(before)).toBe(true);
  });

  it('the file was touched since (its mtime is no longer the server\'s): not proven, refused', async () => {
    const { args, output } = await firstRun();
    await utimes(output, new Date(), new Date());
    const again = await runCli(args, { cwd: scratch.dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/ERR_TARGET_EXISTS/);
  });

  it('--force downloads it again', async () => {
    const { args, server, mark } = await firstRun();
    const again = await runCli([...args, '--force'], { cwd: scratch.dir });
    expect(again.code).toBe(0);
    expect(server.server.requests.slice(mark).every((q) => q.status === 206)).toBe(true);
    expect(server.server.requests.slice(mark).every((q) => q.headers['if-modified-since'] === undefined)).toBe(true);
  });
});
