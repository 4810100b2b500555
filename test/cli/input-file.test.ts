import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { serve } from '../../src/index.js';
import { CLI, runCli } from '../helpers/cli.js';
import { jsonEvents } from '../helpers/crash.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-list-');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});
const MiB = 1024 * 1024;

describe('-i: an aria2 input file', () => {
  it('options under a URI, a TAB-separated mirror line, comments: each file where and how the list says', async () => {
    // b.bin is slow on the first server, so its mirror on the second must take a share.
    const one = await scratch.dirServer({ 'a.bin': 2 * MiB, 'b.bin': 4 * MiB, 'c.bin': 3 }, {}, { faultFor: (r) => (r.path === '/b.bin' ? { rateBytesPerSec: MiB } : undefined) });
    // The same files from a second server (a mirror must serve the same ETag to be used).
    const two = { server: await serve({ root: one.dir }) };
    closers.push(() => two.server.close());
    const list = [
      '# aria2c -i list, unchanged',
      one.server.urlFor('a.bin'),
      '  out=renamed.bin',
      `  checksum=sha-256=${one.sha256['a.bin']}`,
      '  header=X-From-List: yes',
      '  split=2',
      '',
      `${one.server.urlFor('b.bin')}\t${two.server.urlFor('b.bin')}`,
      '  dir=sub',
      '  max-download-limit=8M',
      one.server.urlFor('c.bin'),
    ].join('\n');
    await writeFile(join(scratch.dir, 'list.txt'), list);
    const run = await runCli(['-i', 'list.txt', '-d', 'out', '--json', '-c', '4'], { cwd: scratch.dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = join(scratch.dir, 'out');
    expect((await readdir(out)).sort()).toEqual(['c.bin', 'renamed.bin', 'sub']);
    expect(await sha256File(join(out, 'renamed.bin'))).toBe(one.sha256['a.bin']);
    expect(await sha256File(join(out, 'sub', 'b.bin'))).toBe(one.sha256['b.bin']);
    expect(await sha256File(join(out, 'c.bin'))).toBe(one.sha256['c.bin']);
    const events = jsonEvents(run.stdout);
    const startOf = (name: string) => events.find((e) => e['event'] === 'start' && String(e['path']).endsWith(name));
    expect(startOf('renamed.bin')).toMatchObject({ connections: 2 }); // split=2 over -c 4
    expect(startOf('b.bin')).toMatchObject({ connections: 4 });
    const doneA = events.find((e) => e['event'] === 'done' && String(e['path']).endsWith('renamed.bin'));
    expect((doneA!['digest'] as Record<string, string>)['sha256']).toBe(one.sha256['a.bin']);
    // header= reached every request for that file, and no other file's.
    const requests = one.server.requests;
    expect(requests.filter((r) => r.path === '/a.bin').every((r) => r.headers['x-from-list'] === 'yes')).toBe(true);
    expect(requests.filter((r) => r.path !== '/a.bin').every((r) => r.headers['x-from-list'] === undefined)).toBe(true);
    // The mirror on the same line served part of b.bin.
    expect(two.server.requests.some((r) => r.method === 'GET' && r.status === 206 && r.bytesSent > 0)).toBe(true);
  });

  it('-i - reads the list from stdin', async () => {
    const server = await scratch.dirServer({ 'a.bin': MiB, 'b.bin': 2 });
    const child = spawn(process.execPath, [CLI, '-i', '-', '-q'], { cwd: scratch.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(`${server.server.urlFor('a.bin')}\n${server.server.urlFor('b.bin')}\n`);
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect((await readdir(scratch.dir)).sort()).toEqual(['a.bin', 'b.bin']);
  });

  it.each([
    ['an unknown option line', ['URL', '  bt-tracker=udp://x'], 'list.txt:2: unknown option bt-tracker'],
    ['an option line before any URI', ['  out=x', 'URL'], 'list.txt:1: an option line must follow a URI line'],
    ['a line that is not a URL', ['URL', 'just words'], 'list.txt:2: not a URL: just words'],
    ['a bad checksum', ['URL', `  checksum=sha-256=${'0'.repeat(10)}`], 'list.txt:2: Expected a sha256 digest of 64 hex digits, got 10'],
    ['an out= that leaves the directory', ['URL', 'URL', '  out=../escaped.bin'], 'list.txt:2: Expected `output` to be a path inside `directory`, got ../escaped.bin'],
    ['a dir= that leaves the directory', ['URL', '  dir=../../elsewhere'], 'list.txt:1: dir=../../elsewhere is outside out: a list can only name directories inside it'],
    ['an absolute dir=', ['URL', '  dir=/tmp'], 'list.txt:1: dir=/tmp is outside out'],
  ])('%s: exit 2, one line naming the line, nothing downloaded', async (_name, lines, message) => {
    const server = await scratch.dirServer({ 'a.bin': MiB });
    await writeFile(join(scratch.dir, 'list.txt'), lines.map((l) => l.replace('URL', server.server.urlFor('a.bin'))).join('\n'));
    const run = await runCli(['-i', 'list.txt', '-d', 'out'], { cwd: scratch.dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^segdl: ERR_USAGE: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*\\n$`));
    expect(server.server.requests).toEqual([]);
    expect(await readdir(scratch.dir)).toEqual(['list.txt']);
  });

  it('a missing list file: exit 2, one line', async () => {
    await mkdir(join(scratch.dir, 'd'));
    const run = await runCli(['-i', 'nope.txt'], { cwd: scratch.dir });
    expect(run).toMatchObject({ code: 2, stderr: 'segdl: ERR_USAGE: -i: cannot read nope.txt: ENOENT\n' });
  });
});
