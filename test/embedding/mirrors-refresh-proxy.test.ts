import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File, writeDataFile } from '../../fixtures/data.js';
import { Download, DownloadError, serve, type FaultPlan, type RangeServer, type RequestRecord } from '../../src/index.js';
import { startHttpProxy } from '../helpers/proxy.js';

const MiB = 1024 * 1024;
const SIZE = 6 * MiB + 333;
const BIG = 20 * MiB;
let dir: string;
let sha: string;
const servers: RangeServer[] = [];
const closers: Array<() => Promise<void>> = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'segdl-mirror-'));
  sha = await writeDataFile(join(dir, 'file.bin'), SIZE, 'mirror');
  await writeDataFile(join(dir, 'other.bin'), SIZE, 'another file, same size');
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(closers.splice(0).map((c) => c()));
  await rm(dir, { recursive: true, force: true });
});

async function start(options: { faults?: FaultPlan; faultFor?: (r: RequestRecord) => FaultPlan | undefined } = {}): Promise<RangeServer> {
  const server = await serve({ root: dir, ...options });
  servers.push(server);
  return server;
}
const gets = (s: RangeServer) => s.requests.filter((r) => r.method === 'GET' && r.status === 206);
/** A mirror's first request asks for one byte: what it serves (size, validators) before it gets any work. */
const isProbe = (r: RequestRecord) => r.headers['range'] === 'bytes=0-0';
const fast = { attempts: 4, minDelayMs: 1, maxDelayMs: 5 };

describe('mirrors', () => {
  it('mixes bytes from every mirror that serves the same file, and the faster one gets more', async () => {
    const slow = await start({ faults: { rateBytesPerSec: 1 * MiB } });
    const quick = await start({ faults: { rateBytesPerSec: 8 * MiB } });
    const dl = new Download(slow.urlFor('file.bin'), { output: join(dir, 'out'), connections: 4, mirrors: [quick.urlFor('file.bin')], retry: fast });
    await dl.start();
    expect(await sha256File(join(dir, 'out'))).toBe(sha);
    const bytes = (s: RangeServer) => gets(s).reduce((sum, r) => sum + r.bytesSent, 0);
    expect(bytes(slow)).toBeGreaterThan(0);
    expect(bytes(quick)).toBeGreaterThan(bytes(slow));
  });

  it('a mirror with another size is left out with a warning, never mixed in', async () => {
    await writeDataFile(join(dir, 'short.bin'), SIZE - 1, 'mirror');
    const main = await start();
    const odd = await start();
    const dl = new Download(main.urlFor('file.bin'), { output: join(dir, 'out'), connections: 4, mirrors: [odd.urlFor('short.bin')] });
    const warnings: string[] = [];
    dl.on('warning', (w) => warnings.push(w.message));
    await dl.start();
    expect(warnings.some((w) => w.includes('left out: its size is'))).toBe(true);
    expect(gets(odd).filter((r) => !isProbe(r))).toHaveLength(0);
    expect(await sha256File(join(dir, 'out'))).toBe(sha);
  });

  it('a failing mirror is dropped and its segments finish on the others', async () => {
    const main = await start({ faults: { rateBytesPerSec: 4 * MiB } });
    // It answers the one-byte probe, then fails every request for real work.
    const broken = await start({ faultFor: (r) => (!isProbe(r) ? { status: 500 } : undefined) });
    const dl = new Download(main.urlFor('file.bin'), { output: join(dir, 'out'), connections: 4, mirrors: [broken.urlFor('file.bin')], retry: fast });
    const warnings: string[] = [];
    dl.on('warning', (w) => warnings.push(w.message));
    await dl.start();
    expect(warnings.some((w) => /^mirror .* dropped: server answered 500$/.test(w))).toBe(true);
    expect(gets(broken).filter((r) => !isProbe(r))).toHaveLength(0); // every request for work was refused with 500
    expect(broken.requests.filter((r) => !isProbe(r)).length).toBeLessThanOrEqual(2);
    expect(await sha256File(join(dir, 'out'))).toBe(sha);
  });

  it('a mirror that shifts its bytes under correct headers is banned at the seams, and the file is still exact', async () => {
    const main = await start({ faults: { rateBytesPerSec: 2 * MiB } });
    // Same file, same ETag, correct Content-Range: only the bytes are off by 7.
    const liar = await start({ faults: { rateBytesPerSec: 8 * MiB }, faultFor: (r) => (r.method === 'GET' ? { shiftBody: 7 } : undefined) });
    const dl = new Download(main.urlFor('file.bin'), { output: join(dir, 'out'), connections: 4, mirrors: [liar.urlFor('file.bin')], retry: fast });
    const warnings: string[] = [];
    dl.on('warning', (w) => warnings.push(w.message));
    await dl.start();
    expect(gets(liar).length).toBeGreaterThan(0);
    expect(warnings.some((w) => /^mirror http:\/\/127\.0\.0\.1:\d+\/file\.bin dropped: bytes at a segment seam disagree in bytes it sent$/.test(w))).toBe(true);
    expect(await sha256File(join(dir, 'out'))).toBe(sha);
  });
});

describe('link refresh', () => {
  // 20 MiB over 2 connections: each job needs a second request (the first asks for 8 MiB), which meets the expiry.
  it('an expired link (403) is renewed through refreshUrl and the download goes on where it was', async () => {
    await writeDataFile(join(dir, 'file.bin'), BIG, 'mirror');
    sha = await sha256File(join(dir, 'file.bin'));
    let expired = false;
    const server = await start({
      faults: { rateBytesPerSec: 8 * MiB },
      faultFor: (r) => (expired && r.method === 'GET' && !r.path.includes('sig=new') ? { status: 403 } : undefined),
    });
    const url = `${server.urlFor('file.bin')}?sig=old`;
    const refreshed: Array<[string, number]> = [];
    const dl = new Download(url, {
      output: join(dir, 'out'),
      connections: 2,
      retry: fast,
      progressIntervalMs: 10,
      refreshUrl: (old, status) => {
        refreshed.push([old, status]);
        return `${server.urlFor('file.bin')}?sig=new`;
      },
    });
    let before = 0;
    dl.on('progress', (p) => {
      if (!expired && p.transferredBytes > MiB) {
        expired = true;
        before = p.transferredBytes;
      }
    });
    const result = await dl.start();
    expect(refreshed.length).toBeGreaterThanOrEqual(1);
    expect(refreshed[0]).toEqual([url, 403]);
    expect(await sha256File(join(dir, 'out'))).toBe(sha);
    // Progress was kept: the renewed link fetched only what was missing (plus what was in flight).
    const renewed = gets(server).filter((r) => r.path.includes('sig=new'));
    expect(renewed.length).toBeGreaterThan(0);
    expect(renewed.reduce((sum, r) => sum + r.bytesSent, 0)).toBeLessThanOrEqual(BIG - before + 2 * MiB);
    expect(result.bytesFetched).toBe(BIG);
  });

  it('a renewed link that serves another file is refused, and the 403 stands', async () => {
    await writeDataFile(join(dir, 'file.bin'), BIG, 'mirror');
    let expired = false;
    const server = await start({
      faults: { rateBytesPerSec: 8 * MiB },
      faultFor: (r) => (expired && r.method === 'GET' && r.path.includes('file.bin') ? { status: 403 } : undefined),
    });
    await writeDataFile(join(dir, 'bigger.bin'), BIG + 1, 'x');
    const dl = new Download(server.urlFor('file.bin'), {
      output: join(dir, 'out'),
      connections: 2,
      retry: fast,
      progressIntervalMs: 10,
      refreshUrl: () => server.urlFor('bigger.bin'),
    });
    dl.on('progress', (p) => {
      if (p.transferredBytes > MiB) expired = true;
    });
    const error = await dl.start().catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_HTTP_STATUS');
    expect((error as DownloadError).status).toBe(403);
  });
});

describe('custom transport', () => {
  it("downloads through undici's ProxyAgent and a CONNECT proxy on loopback (the proxy counts the tunnels)", async () => {
    const target = await start();
    const proxy = await startHttpProxy();
    closers.push(() => proxy.close());
    const tunnels = proxy.seen.tunnels;
    const agent = new ProxyAgent(proxy.url);
    closers.push(() => agent.close());
    const result = await new Download(target.urlFor('file.bin'), { output: join(dir, 'out'), connections: 3, dispatcher: agent }).start();
    expect(result.size).toBe(SIZE);
    expect(await sha256File(join(dir, 'out'))).toBe(sha);
    expect(tunnels.length).toBeGreaterThanOrEqual(1);
    expect(tunnels.every((t) => t === `127.0.0.1:${target.port}`)).toBe(true);
    // Every request the target saw came through the proxy's tunnels.
    expect(target.stats.connections).toBe(tunnels.length);
  });
});
