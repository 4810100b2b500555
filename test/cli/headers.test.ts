import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-headers-');
const MiB = 1024 * 1024;
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('User-Agent', () => {
  it('segdl/VERSION on every request by default; -U replaces it on every request', async () => {
    // Paced, so that three connections pay and there are several requests to look at.
    const server = await scratch.server(3 * MiB, { rateBytesPerSec: 2 * MiB });
    expect((await runCli([server.server.url, '-o', 'a', '-c', '3', '-q'], { cwd: scratch.dir })).code).toBe(0);
    const first = server.server.requests.length;
    expect(first).toBeGreaterThanOrEqual(3);
    expect(server.server.requests.every((r) => r.headers['user-agent'] === `segdl/${VERSION}`)).toBe(true);
    expect((await runCli([server.server.url, '-o', 'b', '-c', '3', '-q', '-U', 'Wget/1.21.4'], { cwd: scratch.dir })).code).toBe(0);
    expect(server.server.requests.slice(first).every((r) => r.headers['user-agent'] === 'Wget/1.21.4')).toBe(true);
  });
});

describe('--netrc and --netrc-file (curl semantics)', () => {
  it('--netrc reads ~/.netrc: Basic credentials for the matching machine on every request', async () => {
    const server = await scratch.server(2 * MiB, { rateBytesPerSec: 2 * MiB });
    await writeFile(join(scratch.dir, '.netrc'), 'machine example.org login x password y\nmachine 127.0.0.1\n  login alice\n  password "s3cret word"\n', { mode: 0o600 });
    const run = await runCli([server.server.url, '-o', 'f', '-c', '2', '--netrc', '-q'], { cwd: scratch.dir, env: { HOME: scratch.dir } });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(server.server.requests.length).toBeGreaterThanOrEqual(2);
    expect(server.server.requests.every((r) => r.headers['authorization'] === basic('alice:s3cret word'))).toBe(true);
  });

  it('--netrc-file F; the default entry; an explicit -H Authorization wins', async () => {
    const server = await scratch.server(MiB);
    await writeFile(join(scratch.dir, 'creds'), 'machine other.example login o password p\ndefault login anon password guest\n');
    expect((await runCli([server.server.url, '-o', 'a', '--netrc-file', 'creds', '-q'], { cwd: scratch.dir })).code).toBe(0);
    expect(server.server.requests.every((r) => r.headers['authorization'] === basic('anon:guest'))).toBe(true);
    const before = server.server.requests.length;
    expect((await runCli([server.server.url, '-o', 'b', '--netrc-file', 'creds', '-H', 'Authorization: Bearer tok', '-q'], { cwd: scratch.dir })).code).toBe(0);
    expect(server.server.requests.slice(before).every((r) => r.headers['authorization'] === 'Bearer tok')).toBe(true);
  });

  it('never sent to another origin after a redirect', async () => {
    const target = await scratch.server(2 * MiB);
    const redirecting = await scratch.server(16, { redirect: target.server.url, redirectStatus: 302 });
    await writeFile(join(scratch.dir, 'creds'), 'default login alice password s3cret\n');
    const run = await runCli([redirecting.server.url, '-o', 'f', '-c', '2', '--netrc-file', 'creds', '-q'], { cwd: scratch.dir });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    // The first origin got the credentials; the one it redirected to never did.
    expect(redirecting.server.requests.length).toBeGreaterThan(0);
    expect(redirecting.server.requests.every((r) => r.headers['authorization'] === basic('alice:s3cret'))).toBe(true);
    expect(target.server.requests.length).toBeGreaterThan(0);
    expect(target.server.requests.every((r) => r.headers['authorization'] === undefined)).toBe(true);
  });
});
