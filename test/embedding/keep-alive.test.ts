import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { DownloadQueue, download } from '../../src/index.js';
import { runLibraryScript } from '../helpers/child.js';
import { startHttpProxy } from '../helpers/proxy.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-keepalive-');
const MiB = 1024 * 1024;
const TLS = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));
const tls = { key: readFileSync(join(TLS, 'localhost.key')), cert: readFileSync(join(TLS, 'localhost.crt')) };

/** The connection each download's requests used, one list per download (downloads run one after another). */
function connectionsByDownload(requests: Array<{ connection: number; method: string }>, perDownload: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < requests.length; i += perDownload) out.push(requests.slice(i, i + perDownload).map((r) => r.connection));
  return out;
}

describe('one keep-alive pool per process (#13.3)', () => {
  it('consecutive download() calls and a DownloadQueue start on the socket the previous download left warm', async () => {
    const server = await scratch.server(MiB);
    for (const name of ['a', 'b', 'c']) await download(server.server.url, { output: join(scratch.dir, name), connections: 1 });
    const queue = new DownloadQueue();
    await queue.add(server.server.url, { output: join(scratch.dir, 'd'), connections: 1 });
    await queue.close();
    for (const name of ['a', 'b', 'c', 'd']) expect(await sha256File(join(scratch.dir, name))).toBe(server.sha256);
    // One request each: the first request is the download.
    const runs = connectionsByDownload(server.server.requests, 1);
    expect(runs).toHaveLength(4);
    for (let i = 1; i < runs.length; i++) expect(runs[i]![0]).toBe(runs[i - 1]!.at(-1));
  });

  it('a request right after another one ends reuses its socket instead of opening a new one', async () => {
    // 24 MiB over 2 connections: the second connection's segment takes several requests (8 MiB, then a second's worth).
    const server = await scratch.server(24 * MiB, { rateBytesPerSec: 12 * MiB });
    await download(server.server.url, { output: join(scratch.dir, 'a'), connections: 2 });
    const gets = server.server.requests.filter((r) => r.method === 'GET');
    const helper = gets.filter((r) => r.index > 0);
    expect(helper.length).toBeGreaterThan(1);
    // A connection's next request goes out on the socket its previous one left: per connection,
    // each request starts past where the one before it ended (pieces are handed out in file order;
    // a fresh piece's request also asks for the 16 seam bytes before it).
    const byConnection = new Map<number, typeof gets>();
    for (const r of helper) byConnection.set(r.connection, [...(byConnection.get(r.connection) ?? []), r]);
    expect([...byConnection.values()].some((chain) => chain.length > 1)).toBe(true);
    for (const chain of byConnection.values()) {
      for (let i = 1; i < chain.length; i++) expect(chain[i]!.range!.start).toBeGreaterThanOrEqual(chain[i - 1]!.range!.end + 1 - 16);
    }
  });

  it("a caller's own dispatcher still wins over the pool", async () => {
    const server = await scratch.server(MiB);
    await download(server.server.url, { output: join(scratch.dir, 'a'), connections: 1 });
    const own = new Agent();
    try {
      await download(server.server.url, { output: join(scratch.dir, 'b'), connections: 1, dispatcher: own });
    } finally {
      await own.close();
    }
    await download(server.server.url, { output: join(scratch.dir, 'c'), connections: 1 });
    const [first, mine, third] = connectionsByDownload(server.server.requests, 1);
    expect(mine![0]).not.toBe(first!.at(-1)); // its own dispatcher: a new connection
    expect(third![0]).toBe(first!.at(-1)); // the pool's socket was still there for the next one
  });

  it('options that change the transport (a CA here) get their own pool, reused in turn', async () => {
    const server = await scratch.server(MiB, {}, 'segdl', { tls });
    await download(server.server.url, { output: join(scratch.dir, 'a'), connections: 1, ca: tls.cert });
    await download(server.server.url, { output: join(scratch.dir, 'b'), connections: 1, ca: tls.cert });
    const [first, second] = connectionsByDownload(server.server.requests, 1);
    expect(second![0]).toBe(first!.at(-1));
  });
});

describe('idle pooled sockets never keep a process alive', () => {
  it.each([
    ['download() over plain HTTP', false, false],
    ['download() over HTTPS through a CONNECT tunnel', true, true],
    ['a DownloadQueue left without close()', false, false],
  ] as const)('%s, then the script returns: the process exits by itself', async (name, secure, proxied) => {
    const server = await scratch.server(2 * MiB, {}, 'segdl', secure ? { tls } : {});
    const proxy = proxied ? await startHttpProxy() : undefined;
    try {
      const options = JSON.stringify({ output: 'f.bin', connections: 4, ...(secure ? { ca: tls.cert.toString() } : {}), ...(proxy ? { proxy: proxy.url } : {}) });
      const call = name.includes('Queue') ? `await new segdl.DownloadQueue().add(${JSON.stringify(server.server.url)}, ${options})` : `await segdl.download(${JSON.stringify(server.server.url)}, ${options})`;
      const run = await runLibraryScript(scratch.dir, `const r = ${call};\nconsole.log(r.size);`);
      expect(run).toMatchObject({ code: 0, signal: null, stdout: `${2 * MiB}\n` });
      expect(await sha256File(join(scratch.dir, 'f.bin'))).toBe(server.sha256);
      if (proxy) expect(proxy.seen.tunnels.length).toBe(server.server.stats.connections);
    } finally {
      await proxy?.close();
    }
  });
});
