import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File, writeDataFile } from '../../fixtures/data.js';
import { DownloadError, download, serve } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/server.js';

let root: string;
let cwd: string;
let server: TestServer | undefined;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'segdl-names-'));
  cwd = join(root, 'a', 'b');
  await mkdir(cwd, { recursive: true });
});
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
  await rm(root, { recursive: true, force: true });
});

describe('server-chosen names (catalogue cases 44-46)', () => {
  it.each([
    ['attachment; filename="../../x"', 'x'],
    ['attachment; filename="/etc/passwd"', 'passwd'],
    ['attachment; filename="..\\\\x"', 'x'],
    ['attachment; filename="C:\\\\x"', 'x'],
    ["attachment; filename*=UTF-8''%2E%2E%2F%2E%2E%2Fevil.sh", 'evil.sh'],
    ['attachment; filename=".bashrc"', 'bashrc'],
    ['attachment; filename="nul.txt"', '_nul.txt'],
    ['attachment; filename="bar', 'bar'], // no closing quote: the stray quote is dropped (issue 10, item 7b)
  ])('Content-Disposition %s is saved as %s inside the current directory', async (disposition, expected) => {
    server = await startServer(10_000, { contentDisposition: disposition });
    const run = await runCli([server.server.url, '--quiet'], { cwd });
    expect(run.code).toBe(0);
    expect(await readdir(cwd)).toEqual([expected]);
    expect(await readdir(join(root, 'a'))).toEqual(['b']); // nothing escaped upwards
    expect(await sha256File(join(cwd, expected))).toBe(server.sha256);
  });

  // Issue 10, item 7c: the documented fallback name.
  it('a URL ending in / with no Content-Disposition is saved as "download"', async () => {
    const dir = join(root, 'served');
    await mkdir(dir);
    const sha256 = await writeDataFile(join(dir, 'index.bin'), 10_000);
    const index = await serve({ root: dir, index: 'index.bin' });
    try {
      expect(index.url).toMatch(/\/$/);
      const run = await runCli([index.url, '--quiet'], { cwd });
      expect(run.code, run.stderr).toBe(0);
      expect(await readdir(cwd)).toEqual(['download']);
      expect(await sha256File(join(cwd, 'download'))).toBe(sha256);
    } finally {
      await index.close();
    }
  });

  it('--help names the fallback "download"', async () => {
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(/-o, --output FILE .*\n.*"download" when neither names a file: a URL ending in \//);
  });

  it('a name that cannot be made safe is refused with ERR_UNSAFE_FILENAME', async () => {
    server = await startServer(10_000, { contentDisposition: 'attachment; filename=".."' });
    const error = await download(server.server.url, { retry: { attempts: 0 } }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_UNSAFE_FILENAME');
  });

  it('an existing file with the server-chosen name is never overwritten (case 46)', async () => {
    server = await startServer(10_000, { contentDisposition: 'attachment; filename="notes.txt"' });
    await writeFile(join(cwd, 'notes.txt'), 'mine');
    const run = await runCli([server.server.url], { cwd });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/segdl: ERR_TARGET_EXISTS: .*notes\.txt already exists/);
    expect(await readFile(join(cwd, 'notes.txt'), 'utf8')).toBe('mine');
  });
});

describe('limits', () => {
  it('response headers beyond 16 KiB are refused (catalogue case 53)', async () => {
    server = await startServer(10_000, { contentDisposition: `attachment; filename="${'a'.repeat(20_000)}"` });
    const error = await download(server.server.url, { output: join(cwd, 'f'), retry: { attempts: 0 } }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_PROTOCOL');
    expect(await readdir(cwd)).toEqual([]);
  });

  it.each([
    ['a header value with CR/LF', { headers: { 'x-a': 'b\r\nInjected: 1' } }],
    ['a header name with a space', { headers: { 'x a': 'b' } }],
  ])('%s is refused before anything is sent (catalogue case 50)', async (_name, options) => {
    server = await startServer(10);
    expect(() => download(server!.server.url, options)).toThrow(DownloadError);
    expect(server.server.requests).toHaveLength(0);
  });

  it('a URL with CR/LF is refused before anything is sent (catalogue case 50)', async () => {
    server = await startServer(10);
    expect(() => download(`${server!.server.url}\r\nHost: evil`, {})).toThrow('URL contains CR, LF, TAB or NUL');
    expect(server.server.requests).toHaveLength(0);
  });
});
