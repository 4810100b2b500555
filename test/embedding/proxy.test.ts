import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { Download, DownloadError, download } from '../../src/index.js';
import { cpuSeconds, runLibraryScript } from '../helpers/child.js';
import { startHttpProxy, startSocksProxy, type TestProxy } from '../helpers/proxy.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-proxy-');
const MiB = 1024 * 1024;
const TLS = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));
const tls = { key: readFileSync(join(TLS, 'localhost.key')), cert: readFileSync(join(TLS, 'localhost.crt')) };
const fast = { attempts: 2, minDelayMs: 1, maxDelayMs: 5 };

const proxies: TestProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});
async function proxy(...args: Parameters<typeof startHttpProxy>): Promise<TestProxy> {
  const started = await startHttpProxy(...args);
  proxies.push(started);
  return started;
}

describe('the proxy option', () => {
  it('http:// targets go to an HTTP proxy in absolute form, every request of every connection', async () => {
    const server = await scratch.server(3 * MiB + 7);
    const forward = await proxy();
    const result = await download(server.server.url, { output: join(scratch.dir, 'f.bin'), connections: 4, proxy: forward.url });
    expect(await sha256File(join(scratch.dir, 'f.bin'))).toBe(server.sha256);
    expect(result.size).toBe(3 * MiB + 7);
    expect(forward.seen.tunnels).toEqual([]);
    expect(forward.seen.forwarded.length).toBe(server.server.requests.length);
    expect(forward.seen.forwarded.every((target) => target === server.server.url)).toBe(true);
  });

  it('https:// targets go through a CONNECT tunnel, with TLS to the target inside it', async () => {
    const server = await scratch.server(2 * MiB, {}, 'segdl', { tls });
    const forward = await proxy();
    await download(server.server.url, { output: join(scratch.dir, 'f.bin'), connections: 3, proxy: forward.url, ca: tls.cert });
    expect(await sha256File(join(scratch.dir, 'f.bin'))).toBe(server.sha256);
    expect(forward.seen.forwarded).toEqual([]);
    expect(forward.seen.tunnels.length).toBeGreaterThanOrEqual(1);
    expect(forward.seen.tunnels.every((t) => t === `127.0.0.1:${server.server.port}`)).toBe(true);
    // Every connection the server accepted came through a tunnel.
    expect(server.server.stats.connections).toBe(forward.seen.tunnels.length);
  });

  it('credentials in the proxy URL reach the proxy (Basic) and never the server', async () => {
    const server = await scratch.server(MiB);
    const tlsServer = await scratch.server(MiB, {}, 'segdl', { tls });
    const guarded = await proxy({ credentials: 'alice:s3cr3t pass' });
    const url = `http://alice:s3cr3t%20pass@127.0.0.1:${guarded.port}`;
    await download(server.server.url, { output: join(scratch.dir, 'a'), proxy: url, connections: 2 });
    await download(tlsServer.server.url, { output: join(scratch.dir, 'b'), proxy: url, connections: 2, ca: tls.cert });
    const basic = `Basic ${Buffer.from('alice:s3cr3t pass').toString('base64')}`;
    expect(guarded.seen.auth.length).toBeGreaterThan(0);
    expect(guarded.seen.auth.every((a) => a === basic)).toBe(true);
    for (const s of [server, tlsServer]) expect(s.server.requests.every((r) => r.headers['proxy-authorization'] === undefined)).toBe(true);
  });

  it.each([
    ['http', false],
    ['https', true],
  ] as const)('a proxy that wants other credentials: ERR_PROXY (407) for an %s target, no file', async (_name, secure) => {
    const server = await scratch.server(MiB, {}, 'segdl', secure ? { tls } : {});
    const guarded = await proxy({ credentials: 'alice:right' });
    const error = await download(server.server.url, { output: join(scratch.dir, 'f'), proxy: `http://alice:wrong@127.0.0.1:${guarded.port}`, retry: fast, ca: tls.cert }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).code).toBe('ERR_PROXY');
    expect((error as DownloadError).message).toMatch(/407/);
    expect((error as DownloadError).message).not.toContain('wrong');
    expect(await readdir(scratch.dir)).toEqual([]);
  });

  it('an https:// proxy: TLS to the proxy, for absolute-form requests and for tunnels (TLS inside TLS)', async () => {
    const plain = await scratch.server(MiB + 3);
    const secure = await scratch.server(MiB + 5, {}, 'segdl', { tls });
    const forward = await proxy({ tls });
    await download(plain.server.url, { output: join(scratch.dir, 'a'), connections: 2, proxy: forward.url, ca: tls.cert });
    await download(secure.server.url, { output: join(scratch.dir, 'b'), connections: 2, proxy: forward.url, ca: tls.cert });
    expect(forward.url).toMatch(/^https:/);
    expect(await sha256File(join(scratch.dir, 'a'))).toBe(plain.sha256);
    expect(await sha256File(join(scratch.dir, 'b'))).toBe(secure.sha256);
    expect(forward.seen.forwarded.length).toBe(plain.server.requests.length);
    expect(forward.seen.tunnels.length).toBe(secure.server.stats.connections);
  });

  it('socks5h:// tunnels every connection, with RFC 1929 credentials', async () => {
    const server = await scratch.server(2 * MiB + 1);
    const socks = await startSocksProxy({ credentials: 'bob:pw' });
    proxies.push(socks);
    await download(server.server.url, { output: join(scratch.dir, 'f.bin'), connections: 3, proxy: `socks5h://bob:pw@127.0.0.1:${socks.port}` });
    expect(await sha256File(join(scratch.dir, 'f.bin'))).toBe(server.sha256);
    expect(socks.seen.tunnels.length).toBe(server.server.stats.connections);
    expect(socks.seen.tunnels.every((t) => t === `127.0.0.1:${server.server.port}`)).toBe(true);
    expect(socks.seen.auth.every((a) => a === 'bob:pw')).toBe(true);
  });

  it('blockPrivateAddresses judges a proxied host by what it resolves to (the proxy sees nothing)', async () => {
    const server = await scratch.server(MiB);
    const forward = await proxy();
    for (const url of [server.server.url, server.server.url.replace('127.0.0.1', 'localhost')]) {
      const error = await download(url, { output: join(scratch.dir, 'f'), proxy: forward.url, blockPrivateAddresses: true, retry: fast }).catch((e: unknown) => e);
      expect((error as DownloadError).code).toBe('ERR_BLOCKED_ADDRESS');
    }
    expect(forward.seen.connections).toBe(0);
  });

  it('socks5:// resolves the name here, socks5h:// lets the proxy resolve it', async () => {
    const server = await scratch.server(MiB);
    const socks = await startSocksProxy();
    proxies.push(socks);
    const url = server.server.url.replace('127.0.0.1', 'localhost');
    await download(url, { output: join(scratch.dir, 'a'), connections: 1, proxy: `socks5://127.0.0.1:${socks.port}` });
    await download(url, { output: join(scratch.dir, 'b'), connections: 1, proxy: `socks5h://127.0.0.1:${socks.port}` });
    expect(new Set(socks.seen.tunnels)).toEqual(new Set([`127.0.0.1:${server.server.port}`, `localhost:${server.server.port}`]));
    expect(socks.seen.tunnels[0]).toBe(`127.0.0.1:${server.server.port}`);
    expect(socks.seen.tunnels.at(-1)).toBe(`localhost:${server.server.port}`);
  });

  it('a SOCKS5 refusal (target unreachable, wrong credentials, credentials needed) is one ERR_PROXY', async () => {
    const server = await scratch.server(MiB);
    const socks = await startSocksProxy({ credentials: 'bob:pw' });
    proxies.push(socks);
    const attempt = async (url: string, proxyUrl: string) => {
      const error = await download(url, { output: join(scratch.dir, 'f'), proxy: proxyUrl, retry: fast }).catch((e: unknown) => e);
      expect((error as DownloadError).code).toBe('ERR_PROXY');
      return (error as DownloadError).message;
    };
    expect(await attempt('http://127.0.0.1:9/f', `socks5h://bob:pw@127.0.0.1:${socks.port}`)).toMatch(/refused to connect to 127\.0\.0\.1:9: connection refused$/);
    expect(await attempt(server.server.url, `socks5h://bob:nope@127.0.0.1:${socks.port}`)).toMatch(/refused the SOCKS5 credentials$/);
    expect(await attempt(server.server.url, `socks5h://127.0.0.1:${socks.port}`)).toMatch(/accepts none of our SOCKS5 authentication methods \(it may need credentials\)$/);
    expect(server.server.requests).toEqual([]);
  });

  it('a proxy URL without a scheme, with a path, or with an unknown scheme is ERR_INVALID_OPTION at once', () => {
    for (const bad of ['127.0.0.1:3128', 'http://127.0.0.1:3128/path', 'ftp://127.0.0.1:21', 'socks4://127.0.0.1:1080']) {
      expect(() => new Download('http://127.0.0.1:1/f', { proxy: bad })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    }
    // A password in a refused URL is not echoed back.
    expect(() => new Download('http://127.0.0.1:1/f', { proxy: 'alice:hunter2@127.0.0.1:3128' })).toThrow(/^(?!.*hunter2).*needs a scheme/);
  });

  it('proxy and dispatcher together are refused; proxy: false ignores the environment', () => {
    const dispatcher = {} as NonNullable<NonNullable<ConstructorParameters<typeof Download>[1]>['dispatcher']>;
    expect(() => new Download('http://127.0.0.1:1/f', { proxy: 'http://127.0.0.1:3128', dispatcher })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => new Download('http://127.0.0.1:1/f', { proxy: false })).not.toThrow();
  });
});

describe('a proxy that refuses the tunnel (the undici 7 ProxyAgent spin, nodejs/undici#3897)', () => {
  it.each([
    ['answers 403 to CONNECT', 403],
    ['closes the socket on CONNECT', 'close'],
  ] as const)('one ERR_PROXY, and the process spent little CPU getting there, when the proxy %s', async (_name, refuse) => {
    const server = await scratch.server(MiB, {}, 'segdl', { tls });
    const refusing = await proxy({ refuseConnect: refuse });
    const run = await runLibraryScript(
      scratch.dir,
      `const error = await segdl.download(${JSON.stringify(server.server.url)}, { output: 'f', proxy: ${JSON.stringify(refusing.url)}, connectTimeoutMs: 5000 }).catch((e) => e);
       console.log(JSON.stringify({ code: error.code, message: error.message, cpu: process.cpuUsage() }));`,
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { code: string; message: string; cpu: { user: number; system: number } };
    expect(report.code).toBe('ERR_PROXY');
    expect(report.message).toMatch(refuse === 403 ? /refused CONNECT to 127\.0\.0\.1:\d+: 403 Refused/ : /closed the connection/);
    // A spinning client burns a CPU-second per second; this one only started Node and asked once.
    expect(cpuSeconds(report.cpu)).toBeLessThan(1.5);
    expect(refusing.seen.tunnels.length).toBeLessThanOrEqual(2);
    expect(server.server.requests).toEqual([]);
  });

  it('a proxy that never answers the CONNECT: ERR_PROXY once the connect timeout passes', async () => {
    const server = await scratch.server(MiB, {}, 'segdl', { tls });
    const silent = await proxy({ refuseConnect: 'hang' });
    const error = await download(server.server.url, { output: join(scratch.dir, 'f'), proxy: silent.url, connectTimeoutMs: 300, retry: fast }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_PROXY');
    expect((error as DownloadError).message).toMatch(/did not open a tunnel to 127\.0\.0\.1:\d+ within 300 ms/);
  });

  it('an unreachable proxy is ERR_PROXY too, for either kind of target', async () => {
    const closed = await proxy();
    await closed.close();
    proxies.length = 0;
    for (const target of ['http://127.0.0.1:9/f', 'https://127.0.0.1:9/f']) {
      const error = await download(target, { output: join(scratch.dir, 'f'), proxy: closed.url, retry: fast }).catch((e: unknown) => e);
      expect((error as DownloadError).code).toBe('ERR_PROXY');
      expect((error as DownloadError).message).toMatch(/cannot connect to proxy http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    }
  });
});
