import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { jsonEvents } from '../helpers/crash.js';
import { runCli } from '../helpers/cli.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-batch-');
const MiB = 1024 * 1024;

describe('many URLs in one command', () => {
  it('files from several servers into -d DIR (created); one 404 fails alone: exit 1 and a closing list', async () => {
    const one = await scratch.dirServer({ 'a.bin': 2 * MiB + 1, 'b.bin': 3 * MiB });
    const two = await scratch.dirServer({ 'c.bin': MiB + 7 });
    const missing = one.server.urlFor('missing.bin');
    const run = await runCli(['-d', 'out/nested', one.server.urlFor('a.bin'), missing, two.server.urlFor('c.bin'), one.server.urlFor('b.bin')], { cwd: scratch.dir });
    expect(run.code).toBe(1);
    const out = join(scratch.dir, 'out', 'nested');
    expect((await readdir(out)).sort()).toEqual(['a.bin', 'b.bin', 'c.bin']);
    for (const [name, server] of [['a.bin', one], ['b.bin', one], ['c.bin', two]] as const) expect(await sha256File(join(out, name))).toBe(server.sha256[name]);
    // Plain mode: a line per start, finish and failure, then the list of what failed.
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.filter((l) => /^segdl: \[\d\/4\] http:\/\/.* -> .*out\/nested\/[abc]\.bin \(/.test(l))).toHaveLength(3);
    expect(lines.filter((l) => /^segdl: \[\d\/4\] saved .*out\/nested\/[abc]\.bin/.test(l))).toHaveLength(3);
    expect(lines).toContain(`segdl: [2/4] failed ${missing}: ERR_HTTP_STATUS: server answered 404`);
    expect(lines.slice(-2)).toEqual(['segdl: 1 of 4 downloads failed:', `segdl:   argument 2: ${missing}: ERR_HTTP_STATUS: server answered 404`]);
  });

  it('one URL with -d: the single-download output, the file inside the new directory', async () => {
    const server = await scratch.dirServer({ 'one.bin': MiB });
    const run = await runCli([server.server.urlFor('one.bin'), '-d', 'new/dir'], { cwd: scratch.dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^segdl: http:\/\/.* -> .*\/new\/dir\/one\.bin \(1\.0 MiB, up to 8 connections\)\n/);
    expect(run.stderr).toMatch(/\nsegdl: saved .*\/new\/dir\/one\.bin \(1\.0 MiB\) in /);
    expect(await sha256File(join(scratch.dir, 'new', 'dir', 'one.bin'))).toBe(server.sha256['one.bin']);
  });

  it('exit 0 when every file succeeded', async () => {
    const server = await scratch.dirServer({ 'x.bin': MiB, 'y.bin': 1 });
    const run = await runCli([server.server.urlFor('x.bin'), server.server.urlFor('y.bin'), '-q'], { cwd: scratch.dir });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect((await readdir(scratch.dir)).sort()).toEqual(['x.bin', 'y.bin']);
  });

  it('the same batch again after it succeeded: exit 0, every file "already complete", no body byte sent', async () => {
    const server = await scratch.dirServer({ 'x.bin': 2 * MiB, 'y.bin': 5 });
    const args = ['-d', 'out', server.server.urlFor('x.bin'), server.server.urlFor('y.bin')];
    expect((await runCli(args, { cwd: scratch.dir })).code).toBe(0);
    const sentBefore = server.server.stats.bytesSent;
    const again = await runCli(args, { cwd: scratch.dir });
    expect(again.code).toBe(0);
    const lines = again.stderr.trimEnd().split('\n');
    expect(lines.filter((l) => /^segdl: \[\d\/2\] already complete: .*out\/[xy]\.bin \(.*\), nothing downloaded$/.test(l))).toHaveLength(2);
    expect(server.server.stats.bytesSent).toBe(sentBefore);
    for (const name of ['x.bin', 'y.bin']) expect(await sha256File(join(scratch.dir, 'out', name))).toBe(server.sha256[name]);
  });

  it('--json: every event carries id, url and path; one summary object closes the output', async () => {
    const server = await scratch.dirServer({ 'a.bin': 2 * MiB, 'b.bin': MiB });
    const urls = [server.server.urlFor('a.bin'), server.server.urlFor('nope.bin'), server.server.urlFor('b.bin')];
    const run = await runCli(['--json', '-d', 'dl', ...urls], { cwd: scratch.dir });
    expect(run.code).toBe(1);
    const events = jsonEvents(run.stdout);
    const summary = events.pop()!;
    for (const e of events) {
      expect(typeof e['id']).toBe('number');
      expect(urls).toContain(e['url']);
      if (e['event'] !== 'error') expect(e['path']).toBe(join(scratch.dir, 'dl', String(e['url']).split('/').pop()!));
    }
    const ids = new Map(events.map((e) => [e['url'], e['id']]));
    expect(new Set(ids.values()).size).toBe(3);
    expect(events.filter((e) => e['event'] === 'done').map((e) => e['url']).sort()).toEqual([urls[0], urls[2]].sort());
    expect(events.find((e) => e['event'] === 'error')).toEqual({ event: 'error', id: ids.get(urls[1]), url: urls[1], path: null, code: 'ERR_HTTP_STATUS', message: 'server answered 404' });
    expect(summary).toMatchObject({ event: 'summary', files: 3, succeeded: 2, failed: 1, interrupted: 0, notStarted: 0 });
    expect(summary['downloads']).toEqual([
      expect.objectContaining({ id: ids.get(urls[0]), url: urls[0], state: 'done', path: join(scratch.dir, 'dl', 'a.bin'), size: 2 * MiB }),
      { id: ids.get(urls[1]), url: urls[1], state: 'failed', path: null, code: 'ERR_HTTP_STATUS', message: 'server answered 404' },
      expect.objectContaining({ id: ids.get(urls[2]), state: 'done', size: MiB }),
    ]);
  });

  it('URL credentials never show in a batch: not in events, the summary or the closing list', async () => {
    const server = await scratch.dirServer({ 'a.bin': MiB });
    const withSecret = (name: string) => server.server.urlFor(name).replace('http://', 'http://alice:hunter2@');
    for (const mode of ['--json', '--debug']) {
      const run = await runCli([mode, '-d', 'dl', withSecret('a.bin'), withSecret('gone.bin')], { cwd: scratch.dir });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`argument 2: ${server.server.urlFor('gone.bin')}: ERR_HTTP_STATUS`);
      for (const text of [run.stdout, run.stderr]) expect(text).not.toMatch(/hunter2|alice/);
    }
  });

  it('-j 1 runs one file at a time, in order', async () => {
    const server = await scratch.dirServer({ 'a.bin': MiB, 'b.bin': MiB, 'c.bin': MiB });
    const run = await runCli(['--json', '-j', '1', ...['a.bin', 'b.bin', 'c.bin'].map((n) => server.server.urlFor(n))], { cwd: scratch.dir });
    expect(run.code).toBe(0);
    const order = jsonEvents(run.stdout)
      .filter((e) => e['event'] === 'start' || e['event'] === 'done')
      .map((e) => `${String(e['event'])} ${String(e['url']).split('/').pop()}`);
    expect(order).toEqual(['start a.bin', 'done a.bin', 'start b.bin', 'done b.bin', 'start c.bin', 'done c.bin']);
  });

  it('a bad URL among many stops the batch before anything is fetched (exit 2, naming the argument)', async () => {
    const server = await scratch.dirServer({ 'a.bin': MiB });
    const run = await runCli([server.server.urlFor('a.bin'), 'ftp://127.0.0.1/x'], { cwd: scratch.dir });
    expect(run).toMatchObject({ code: 2, stderr: 'segdl: ERR_USAGE: argument 2: unsupported protocol ftp: (http and https only)\n' });
    expect(server.server.requests).toEqual([]);
    expect(await readdir(scratch.dir)).toEqual([]);
  });
});
