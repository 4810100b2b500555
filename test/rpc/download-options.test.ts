/** aria2 options reach the engine: proxy, headers, checksum, overwrite — seen by the servers that get the requests. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Aria2 from 'aria2';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { startDaemon, type RunningDaemon } from '../../src/rpc/daemon.js';
import { startHttpProxy } from '../helpers/proxy.js';
import { until } from '../helpers/daemon.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-rpc-options-');
const MiB = 1024 * 1024;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function daemon(): Promise<{ d: RunningDaemon; client: Aria2; dir: string }> {
  const dir = join(scratch.dir, 'dl');
  const d = await startDaemon({ port: 0, roots: [dir], version: 'test' });
  closers.push(() => d.close());
  return { d, client: new Aria2({ host: '127.0.0.1', port: d.port }), dir };
}

async function finished(client: Aria2, gid: string): Promise<Record<string, string>> {
  return until(async () => {
    const s = await client.call('tellStatus', gid, ['status', 'errorCode', 'errorMessage']);
    return s.status === 'complete' || s.status === 'error' ? s : undefined;
  }, `${gid} to finish`);
}

describe('aria2 options reach the download', () => {
  it('all-proxy: every request goes through the HTTP proxy (it counts what it forwarded)', async () => {
    const server = await scratch.server(2 * MiB);
    const proxy = await startHttpProxy();
    closers.push(() => proxy.close());
    const { client, dir } = await daemon();
    const gid = await client.call('addUri', [server.server.url], { 'all-proxy': proxy.url, split: '2' });
    expect(await finished(client, gid)).toMatchObject({ status: 'complete' });
    expect(await sha256File(join(dir, 'data.bin'))).toBe(server.sha256);
    // An http:// target goes to the proxy in absolute form; every request the server saw came that way.
    const forwarded = proxy.seen.forwarded;
    expect(forwarded.length).toBeGreaterThanOrEqual(1);
    expect(forwarded.every((t) => t.startsWith(`http://127.0.0.1:${server.server.port}/`))).toBe(true);
    expect(server.server.requests).toHaveLength(forwarded.length);
  });

  it('header, user-agent and referer are sent with every request', async () => {
    const server = await scratch.server(MiB);
    const { client } = await daemon();
    const gid = await client.call('addUri', [server.server.url], { header: ['X-Token: abc'], 'user-agent': 'AriaNg/1.3', referer: '*' });
    expect(await finished(client, gid)).toMatchObject({ status: 'complete' });
    const gets = server.server.requests.filter((r) => r.method === 'GET');
    expect(gets.length).toBeGreaterThan(0);
    for (const r of gets) expect(r.headers).toMatchObject({ 'x-token': 'abc', 'user-agent': 'AriaNg/1.3', referer: server.server.url });
  });

  it('checksum: a matching sha-256 completes; a wrong one fails with code 32 and leaves no file at the name', async () => {
    const server = await scratch.server(MiB);
    const { client, dir } = await daemon();
    const good = await client.call('addUri', [server.server.url], { checksum: `sha-256=${server.sha256}`, out: 'good.bin' });
    expect(await finished(client, good)).toMatchObject({ status: 'complete' });
    const bad = await client.call('addUri', [server.server.url], { checksum: `sha-256=${'0'.repeat(64)}`, out: 'bad.bin' });
    expect(await finished(client, bad)).toMatchObject({ status: 'error', errorCode: '32', errorMessage: expect.stringContaining('expected 000') });
    expect(await sha256File(join(dir, 'good.bin'))).toBe(server.sha256);
    await expect(sha256File(join(dir, 'bad.bin'))).rejects.toThrow(/ENOENT/);
  });

  it('a file already at the name fails with code 13 unless allow-overwrite is true', async () => {
    const server = await scratch.server(MiB);
    const { client, dir } = await daemon();
    await writeFile(join(dir, 'mine.bin'), 'the user\'s own file');
    const refused = await client.call('addUri', [server.server.url], { out: 'mine.bin' });
    expect(await finished(client, refused)).toMatchObject({ status: 'error', errorCode: '13' });
    const forced = await client.call('addUri', [server.server.url], { out: 'mine.bin', 'allow-overwrite': 'true' });
    expect(await finished(client, forced)).toMatchObject({ status: 'complete' });
    expect(await sha256File(join(dir, 'mine.bin'))).toBe(server.sha256);
  });
});
