import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileRoot, resolveTarget, type Root } from '../../src/serve/paths.js';
import { serve, type RangeServer } from '../../src/serve/index.js';

describe('resolveTarget', () => {
  const dir: Root = { kind: 'dir', path: '/srv/files' };
  it.each([
    ['/a.bin', { ok: true, path: '/srv/files/a.bin', name: 'a.bin' }],
    ['/a%20b.bin?x=1', { ok: true, path: '/srv/files/a b.bin', name: 'a b.bin' }],
    ['http://127.0.0.1:9/a.bin', { ok: true, path: '/srv/files/a.bin', name: 'a.bin' }],
    ['/', { ok: false, status: 404 }],
    ['/..', { ok: false, status: 403 }],
    ['/../etc/passwd', { ok: false, status: 403 }],
    ['/%2e%2e%2fetc%2fpasswd', { ok: false, status: 403 }],
    ['//etc/passwd', { ok: false, status: 403 }],
    ['/sub/a.bin', { ok: false, status: 403 }],
    ['/..%5c..%5cwin.ini', { ok: false, status: 403 }],
    ['/a.bin%00.txt', { ok: false, status: 403 }],
    ['/%E0%A4%A', { ok: false, status: 400 }],
    ['*', { ok: false, status: 400 }],
  ])('%s', (target, expected) => {
    expect(resolveTarget(dir, target)).toMatchObject(expected);
  });

  it('a directory root with an index answers / with that file; its name passes the same checks', () => {
    expect(resolveTarget({ ...dir, index: 'index.bin' }, '/')).toMatchObject({ ok: true, path: '/srv/files/index.bin', name: 'index.bin' });
    expect(resolveTarget({ ...dir, index: 'index.bin' }, '/?x=1')).toMatchObject({ ok: true, name: 'index.bin' });
    expect(resolveTarget({ ...dir, index: '../secret' }, '/')).toMatchObject({ ok: false, status: 403 });
  });

  it('serves a single file under its base name only', () => {
    const root = fileRoot('/srv/files/data.bin');
    expect(resolveTarget(root, '/data.bin')).toMatchObject({ ok: true, path: '/srv/files/data.bin' });
    expect(resolveTarget(root, '/other.bin')).toMatchObject({ ok: false, status: 404 });
  });
});

describe('serving a directory', () => {
  let base: string;
  let server: RangeServer | undefined;
  let client: Client | undefined;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'segdl-paths-'));
    await writeFile(join(base, 'secret.txt'), 'TOP SECRET');
    await mkdir(join(base, 'root'));
    await mkdir(join(base, 'root', 'sub'));
    await writeFile(join(base, 'root', 'a.bin'), 'public bytes');
    await writeFile(join(base, 'root', 'sub', 'nested.bin'), 'nested');
    await symlink(join(base, 'secret.txt'), join(base, 'root', 'link.txt'));
    server = await serve({ root: join(base, 'root') });
    client = new Client(new URL(server.url).origin);
  });

  afterEach(async () => {
    await client?.close();
    await server?.close();
    await rm(base, { recursive: true, force: true });
  });

  async function get(path: string): Promise<{ status: number; text: string }> {
    const res = await client!.request({ method: 'GET', path });
    return { status: res.statusCode, text: await res.body.text() };
  }

  it('serves files by name and 404s missing names, directories and the root', async () => {
    expect(server!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await get(new URL(server!.urlFor('a.bin')).pathname)).toEqual({ status: 200, text: 'public bytes' });
    expect((await get('/missing.bin')).status).toBe(404);
    expect((await get('/sub')).status).toBe(404);
    expect((await get('/')).status).toBe(404);
  });

  it.each([
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/sub/../../secret.txt',
    `/${encodeURIComponent('/etc/passwd')}`,
    '//etc/passwd',
    '/link.txt',
  ])('never serves outside the root: %s', async (path) => {
    const res = await get(path);
    expect(server!.requests.at(-1)?.path).toBe(path); // it reached the server un-normalised
    expect([400, 403, 404]).toContain(res.status);
    expect(res.text).not.toContain('SECRET');
  });
});
