import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File, writeDataFile } from '../../fixtures/data.js';
import type { TLSSocket } from 'node:tls';
import { toDownloadError } from '../../src/errors.js';
import { DirectPool } from '../../src/http/direct/connections.js';
import { DownloadError, download, serve, type RangeServer } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';

const TLS = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));
const cert = (name: string) => ({ key: readFileSync(join(TLS, `${name}.key`)), cert: readFileSync(join(TLS, `${name}.crt`)) });
const fast = { attempts: 1, minDelayMs: 1, maxDelayMs: 2 };

let dir: string;
let sha: string;
const servers: RangeServer[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'segdl-tls-'));
  sha = await writeDataFile(join(dir, 'data.bin'), 3 * 1024 * 1024 + 5);
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function start(options: Partial<Parameters<typeof serve>[0]>): Promise<RangeServer> {
  const server = await serve({ root: join(dir, 'data.bin'), ...options });
  servers.push(server);
  return server;
}

describe('TLS (catalogue case 57)', () => {
  it('a self-signed certificate is refused with ERR_TLS, and no file appears', async () => {
    const server = await start({ tls: cert('localhost') });
    const error = await download(server.url, { output: join(dir, 'out'), retry: fast }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_TLS');
    expect((error as DownloadError).message).toMatch(/certificate/);
    expect(await readdir(dir)).toEqual(['data.bin']);
  });

  it('trusted through the ca option, the same server works over several connections', async () => {
    const server = await start({ tls: cert('localhost') });
    const result = await download(server.url, { output: join(dir, 'out'), connections: 4, ca: cert('localhost').cert });
    expect(result.size).toBe(3 * 1024 * 1024 + 5);
    expect(await sha256File(join(dir, 'out'))).toBe(sha);
  });

  it('a trusted certificate for another host is still refused (ERR_TLS)', async () => {
    const server = await start({ tls: cert('wrong-host') });
    const error = await download(server.url, { output: join(dir, 'out'), ca: cert('wrong-host').cert, retry: fast }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_TLS');
  });

  it('the CLI takes --ca FILE and says ERR_TLS in one line without it', async () => {
    const server = await start({ tls: cert('localhost') });
    const refused = await runCli([server.url, '-o', 'a', '--retries', '0'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^segdl: ERR_TLS: TLS certificate problem \(DEPTH_ZERO_SELF_SIGNED_CERT\)/m);
    const trusted = await runCli([server.url, '-o', 'b', '--ca', join(TLS, 'localhost.crt'), '--quiet'], { cwd: dir });
    expect(trusted.code).toBe(0);
    expect(await sha256File(join(dir, 'b'))).toBe(sha);
  });
});

describe('TLS on the direct receive path (segment requests over segdl\'s own connections)', () => {
  const open = (server: RangeServer, ca?: Buffer) =>
    new DirectPool({ blockPrivateAddresses: false, connectTimeoutMs: 5_000, ...(ca === undefined ? {} : { ca }) }).open(new URL(server.url), new AbortController().signal);

  it('a trusted certificate: the connection is verified before it is handed out', async () => {
    const server = await start({ tls: cert('localhost') });
    const connection = await open(server, cert('localhost').cert);
    expect((connection.socket as TLSSocket).authorized).toBe(true);
    expect((connection.socket as TLSSocket).alpnProtocol).toBe('http/1.1');
    connection.socket.destroy();
  });

  it('an untrusted certificate, or a trusted one for another host, is refused as ERR_TLS', async () => {
    const selfSigned = await start({ tls: cert('localhost') });
    const untrusted = await open(selfSigned).catch((e: unknown) => e);
    expect(toDownloadError(untrusted, selfSigned.url).code).toBe('ERR_TLS');
    const otherHost = await start({ tls: cert('wrong-host') });
    const mismatch = await open(otherHost, cert('wrong-host').cert).catch((e: unknown) => e);
    expect(toDownloadError(mismatch, otherHost.url).code).toBe('ERR_TLS');
  });

  it('a file beyond the first request over 4 TLS connections arrives exact', async () => {
    const big = join(dir, 'big.bin');
    const bigSha = await writeDataFile(big, 40 * 1024 * 1024 + 3);
    const server = await serve({ root: big, tls: cert('localhost') });
    servers.push(server);
    const result = await download(server.url, { output: join(dir, 'out'), connections: 4, ca: cert('localhost').cert });
    expect(result.size).toBe(40 * 1024 * 1024 + 3);
    expect(await sha256File(join(dir, 'out'))).toBe(bigSha);
    // The CLI too (its bundle loads node:tls only for the first https connection of this path).
    const cli = await runCli([server.url, '-o', 'cli.bin', '-c', '4', '--ca', join(TLS, 'localhost.crt'), '--quiet'], { cwd: dir });
    expect(cli).toMatchObject({ code: 0, stderr: '' });
    expect(await sha256File(join(dir, 'cli.bin'))).toBe(bigSha);
  });
});

describe('redirects and credentials (catalogue cases 47, 49)', () => {
  it('credentials are dropped when a redirect changes the origin (another port), kept on the same origin', async () => {
    // Paced, so that more requests follow the first: they go straight to the target, still without credentials.
    const target = await start({ faults: { rateBytesPerSec: 2 * 1024 * 1024 } });
    const origin = await start({ faultFor: (req) => (req.path.startsWith('/hop') ? undefined : { redirect: target.url, redirectStatus: 302 }) });
    await download(origin.url, { output: join(dir, 'out'), connections: 2, headers: { authorization: 'Bearer secret', cookie: 'a=b', 'x-keep': 'yes' } });
    expect(await sha256File(join(dir, 'out'))).toBe(sha);
    expect(origin.requests[0]!.headers['authorization']).toBe('Bearer secret');
    expect(target.requests.length).toBeGreaterThan(1);
    for (const r of target.requests) {
      expect(r.headers['authorization']).toBeUndefined();
      expect(r.headers['cookie']).toBeUndefined();
      expect(r.headers['x-keep']).toBe('yes');
    }
  });

  it('https → http is refused', async () => {
    const plain = await start({});
    const secure = await start({ tls: cert('localhost'), faults: {}, faultFor: () => ({ redirect: plain.url, redirectStatus: 301 }) });
    const error = await download(secure.url, { output: join(dir, 'out'), ca: cert('localhost').cert, retry: fast }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_PROTOCOL');
    expect((error as DownloadError).message).toBe('redirect from https to http refused');
    expect(plain.requests).toHaveLength(0);
  });

  it.each(['file:///etc/passwd', 'ftp://127.0.0.1/x', 'data:text/plain,hi', 'gopher://127.0.0.1/'])('a redirect to %s is refused', async (location) => {
    const server = await start({ faultFor: () => ({ redirect: location, redirectStatus: 302 }) });
    const error = await download(server.url, { output: join(dir, 'out'), retry: fast }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_PROTOCOL');
    expect((error as DownloadError).message).toMatch(/^redirect to a [a-z]+: URL refused$/);
  });
});
