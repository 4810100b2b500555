import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { jsonEvents } from '../helpers/crash.js';
import { startHttpProxy } from '../helpers/proxy.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-sums-');
const MiB = 1024 * 1024;

async function digestOf(path: string, algorithm: string): Promise<string> {
  return createHash(algorithm).update(await readFile(path)).digest('hex');
}

describe('--checksum-file', () => {
  it.each([
    ['sha256sum (text mode)', 'sha256', (hex: string) => `${hex}  file.bin\n`],
    ['sha512sum (binary mode)', 'sha512', (hex: string) => `${hex} *file.bin\n`],
    ['sha1sum', 'sha1', (hex: string) => `${'0'.repeat(40)}  other.bin\n${hex}  file.bin\n`],
    ['md5sum', 'md5', (hex: string) => `${hex}  ./file.bin\n`],
    ['BSD tags (sha256sum --tag)', 'sha256', (hex: string) => `SHA256 (file.bin) = ${hex}\n`],
    ['BSD SHA512 tag', 'sha512', (hex: string) => `SHA512 (file.bin) = ${hex}\n`],
  ])('%s: the entry for the output name is checked (the result names the algorithm)', async (_name, algorithm, line) => {
    const server = await scratch.dirServer({ 'file.bin': 2 * MiB + 5 });
    const hex = await digestOf(join(server.dir, 'file.bin'), algorithm);
    await writeFile(join(scratch.dir, 'SUMS'), line(hex));
    const run = await runCli([server.server.urlFor('file.bin'), '--checksum-file', 'SUMS', '--json'], { cwd: scratch.dir });
    expect(run.code).toBe(0);
    const result = jsonEvents(run.stdout).at(-1)!;
    expect((result['digest'] as Record<string, string>)[algorithm]).toBe(hex);
  });

  it('-o picks the entry by the output name', async () => {
    const server = await scratch.dirServer({ 'file.bin': MiB });
    const hex = await digestOf(join(server.dir, 'file.bin'), 'sha256');
    await writeFile(join(scratch.dir, 'SUMS'), `${'1'.repeat(64)}  file.bin\n${hex}  renamed.iso\n`);
    const run = await runCli([server.server.urlFor('file.bin'), '-o', 'renamed.iso', '--checksum-file', 'SUMS', '-q'], { cwd: scratch.dir });
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });

  it('a mismatch behaves as --checksum does: exit 3, nothing at the name', async () => {
    const server = await scratch.dirServer({ 'file.bin': MiB });
    await writeFile(join(scratch.dir, 'SUMS'), `${'0'.repeat(64)}  file.bin\n`);
    const run = await runCli([server.server.urlFor('file.bin'), '--checksum-file', 'SUMS', '-q'], { cwd: scratch.dir });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^segdl: ERR_CHECKSUM_MISMATCH: sha256 is [0-9a-f]{64}, expected 0{64}\n$/);
    expect(await readdir(scratch.dir)).not.toContain('file.bin');
  });

  it('no entry for the file: exit 2 before anything is downloaded', async () => {
    const server = await scratch.dirServer({ 'file.bin': MiB });
    await writeFile(join(scratch.dir, 'SUMS'), `${'0'.repeat(64)}  something-else.bin\n`);
    const run = await runCli([server.server.urlFor('file.bin'), '--checksum-file', 'SUMS'], { cwd: scratch.dir });
    expect(run).toMatchObject({ code: 2, stderr: 'segdl: ERR_USAGE: SUMS has no entry for file.bin\n' });
    expect(server.server.requests).toEqual([]);
  });

  it('a checksum file at a URL is fetched through the same proxy, with the same user agent, for every file of a batch', async () => {
    const server = await scratch.dirServer({ 'a.bin': MiB, 'b.bin': 2 * MiB, 'SHA256SUMS': 0 });
    const sums = `${await digestOf(join(server.dir, 'a.bin'), 'sha256')}  a.bin\nSHA256 (b.bin) = ${await digestOf(join(server.dir, 'b.bin'), 'sha256')}\n`;
    await writeFile(join(server.dir, 'SHA256SUMS'), sums);
    const proxy = await startHttpProxy();
    try {
      const run = await runCli(['--json', '--proxy', proxy.url, '-U', 'sums-test/1', '--checksum-file', server.server.urlFor('SHA256SUMS'), server.server.urlFor('a.bin'), server.server.urlFor('b.bin')], { cwd: scratch.dir });
      expect(run.code).toBe(0);
      const summary = jsonEvents(run.stdout).at(-1)!;
      const digests = (summary['downloads'] as Array<{ digest: Record<string, string> }>).map((d) => d.digest['sha256']);
      expect(digests).toEqual([await digestOf(join(server.dir, 'a.bin'), 'sha256'), await digestOf(join(server.dir, 'b.bin'), 'sha256')]);
      expect(proxy.seen.forwarded[0]).toBe(server.server.urlFor('SHA256SUMS'));
      const sumsRequest = server.server.requests.find((r) => r.path === '/SHA256SUMS');
      expect(sumsRequest?.headers['user-agent']).toBe('sums-test/1');
    } finally {
      await proxy.close();
    }
  });

  it('a checksum URL that answers 404: exit 1, one line, nothing downloaded', async () => {
    const server = await scratch.dirServer({ 'a.bin': MiB });
    const run = await runCli(['--checksum-file', server.server.urlFor('SUMS'), server.server.urlFor('a.bin')], { cwd: scratch.dir });
    expect(run).toMatchObject({ code: 1, stderr: `segdl: ERR_HTTP_STATUS: ${server.server.urlFor('SUMS')}: server answered 404\n` });
    expect(server.server.requests.map((r) => r.path)).toEqual(['/SUMS']);
  });
});
