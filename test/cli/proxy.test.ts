import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { manifestPath } from '../../src/disk/manifest.js';
import { CPU_REPORT, cpuSeconds } from '../helpers/child.js';
import { runCli, startCli } from '../helpers/cli.js';
import { startHttpProxy, type HttpProxyOptions, type TestProxy } from '../helpers/proxy.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-cli-proxy-');
const MiB = 1024 * 1024;
const TLS = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));
const tls = { key: readFileSync(join(TLS, 'localhost.key')), cert: readFileSync(join(TLS, 'localhost.crt')) };
// Nothing from the environment the tests run in.
const NO_ENV = { http_proxy: '', HTTP_PROXY: '', https_proxy: '', HTTPS_PROXY: '', all_proxy: '', ALL_PROXY: '', no_proxy: '', NO_PROXY: '' };

const proxies: TestProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});
async function proxy(options?: HttpProxyOptions): Promise<TestProxy> {
  const started = await startHttpProxy(options);
  proxies.push(started);
  return started;
}

describe('the CLI reads proxies as curl does', () => {
  it.each(['HTTP_PROXY', 'http_proxy', 'ALL_PROXY'])('%s: every request goes through the proxy (absolute form)', async (name) => {
    const server = await scratch.server(2 * MiB);
    const forward = await proxy();
    const run = await runCli([server.server.url, '-o', 'f', '-c', '2', '-q'], { cwd: scratch.dir, env: { ...NO_ENV, [name]: forward.url } });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(await sha256File(join(scratch.dir, 'f'))).toBe(server.sha256);
    expect(forward.seen.forwarded.length).toBe(server.server.requests.length);
  });

  it('HTTPS_PROXY for an https URL: CONNECT tunnels', async () => {
    const server = await scratch.server(2 * MiB, {}, 'segdl', { tls });
    const forward = await proxy();
    const run = await runCli([server.server.url, '-o', 'f', '-c', '2', '-q', '--ca', join(TLS, 'localhost.crt')], { cwd: scratch.dir, env: { ...NO_ENV, HTTPS_PROXY: forward.url } });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(forward.seen.tunnels.length).toBe(server.server.stats.connections);
  });

  it.each([['127.0.0.1'], ['localhost,127.0.0.0/8'], ['*'], ['.example.com, 127.0.0.1:PORT']])('NO_PROXY=%s: straight to the server, the proxy sees nothing', async (list) => {
    const server = await scratch.server(MiB);
    const forward = await proxy();
    const env = { ...NO_ENV, HTTP_PROXY: forward.url, NO_PROXY: list.replace('PORT', String(server.server.port)) };
    const run = await runCli([server.server.url, '-o', 'f', '-q'], { cwd: scratch.dir, env });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(forward.seen.connections).toBe(0);
    expect(server.server.requests.length).toBeGreaterThan(0);
  });

  it('--no-proxy ignores the environment; --proxy overrides it', async () => {
    const server = await scratch.server(MiB);
    const fromEnv = await proxy();
    const chosen = await proxy();
    const env = { ...NO_ENV, HTTP_PROXY: fromEnv.url };
    expect((await runCli([server.server.url, '-o', 'a', '-q', '--no-proxy'], { cwd: scratch.dir, env })).code).toBe(0);
    expect(fromEnv.seen.connections).toBe(0);
    expect((await runCli([server.server.url, '-o', 'b', '-q', '--proxy', chosen.url], { cwd: scratch.dir, env })).code).toBe(0);
    expect(fromEnv.seen.connections).toBe(0);
    expect(chosen.seen.forwarded.length).toBeGreaterThan(0);
  });

  it('proxy credentials never appear in the output, --json or the manifest', async () => {
    const server = await scratch.server(8 * MiB, { rateBytesPerSec: 2 * MiB });
    const guarded = await proxy({ credentials: 'proxyuser:pr0xy-s3cret' });
    const args = [server.server.url, '-o', 'f.bin', '-c', '2', '--json', '--proxy', `http://proxyuser:pr0xy-s3cret@127.0.0.1:${guarded.port}`];
    const run = startCli(args, { cwd: scratch.dir, env: NO_ENV });
    await run.waitForEvent((e) => e['event'] === 'progress' && (e['transferredBytes'] as number) > MiB);
    run.child.kill('SIGTERM');
    const stopped = await run.exited;
    expect(stopped.code).toBe(143);
    const manifest = await readFile(manifestPath(join(scratch.dir, 'f.bin')), 'utf8');
    // A failure message about the proxy names it without the password either.
    const refused = await runCli([server.server.url, '-o', 'g.bin', '--json', '--proxy', `http://proxyuser:wr0ng-s3cret@127.0.0.1:${guarded.port}`], { cwd: scratch.dir, env: NO_ENV });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^segdl: ERR_PROXY: proxy http:\/\/\*\*\*@127\.0\.0\.1:\d+ requires authentication \(407\)/);
    for (const text of [manifest, stopped.stdout, stopped.stderr, refused.stdout, refused.stderr]) {
      expect(text).not.toContain('s3cret');
      expect(text).not.toContain('proxyuser');
      expect(text).not.toContain(Buffer.from('proxyuser:pr0xy-s3cret').toString('base64'));
    }
    expect(guarded.seen.auth.some((a) => a === `Basic ${Buffer.from('proxyuser:pr0xy-s3cret').toString('base64')}`)).toBe(true);
  });

  it.each([
    ['answers 403 to CONNECT', 403],
    ['drops the connection on CONNECT', 'close'],
  ] as const)('a proxy that %s: one ERR_PROXY line, exit 1, and little CPU spent (no reconnect spin)', async (_name, refuse) => {
    const server = await scratch.server(MiB, {}, 'segdl', { tls });
    const refusing = await proxy({ refuseConnect: refuse });
    const report = join(scratch.dir, 'cpu.json');
    const run = await runCli([server.server.url, '-o', 'f', '--connect-timeout', '5'], {
      cwd: scratch.dir,
      env: { ...NO_ENV, HTTPS_PROXY: refusing.url, NODE_OPTIONS: `--import=${CPU_REPORT}`, SEGDL_CPU_REPORT: report },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^segdl: ERR_PROXY: proxy http:\/\/127\.0\.0\.1:\d+ (refused CONNECT to 127\.0\.0\.1:\d+: 403 Refused|closed the connection while opening a tunnel to 127\.0\.0\.1:\d+)\n$/);
    const cpu = JSON.parse(await readFile(report, 'utf8')) as { user: number; system: number };
    expect(cpuSeconds(cpu)).toBeLessThan(1.5);
    expect(server.server.requests).toEqual([]);
  });

  it('--connect-timeout bounds a proxy that never answers the CONNECT', async () => {
    const server = await scratch.server(MiB, {}, 'segdl', { tls });
    const silent = await proxy({ refuseConnect: 'hang' });
    const run = await runCli([server.server.url, '-o', 'f', '--connect-timeout', '0.3', '--proxy', silent.url], { cwd: scratch.dir, env: NO_ENV });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^segdl: ERR_PROXY: proxy http:\/\/127\.0\.0\.1:\d+ did not open a tunnel to 127\.0\.0\.1:\d+ within 300 ms\n$/);
  });
});

describe('--connect-timeout', () => {
  it('bounds a direct connection whose TLS handshake never completes', async () => {
    const silent = createServer((socket) => socket.on('error', () => undefined));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}/f`;
      const run = await runCli([url, '-o', 'f', '--connect-timeout', '0.3', '--retries', '0'], { cwd: scratch.dir, env: NO_ENV });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^segdl: ERR_NETWORK: network error: Connect Timeout Error \(attempted address: 127\.0\.0\.1:\d+, timeout: 300ms\)\n$/);
    } finally {
      silent.close();
    }
  });
});
