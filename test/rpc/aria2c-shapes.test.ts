/**
 * One aria2.js script, run against real aria2c and against `segdl daemon`: both must answer with
 * the same fields, of the same kinds, for every method aria2 clients call. Values differ (gids,
 * speeds, timings); shapes may not.
 */
import { join } from 'node:path';
import type Aria2 from 'aria2';
import { afterEach, describe, expect, it } from 'vitest';
import { startAria2c, startDaemon, until, type RpcProcess } from '../helpers/daemon.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-rpc-shapes-');
const MiB = 1024 * 1024;
const SECRET = 'shape-secret';
const running: RpcProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});

/** What kind of value: numbers-as-strings, gids, booleans-as-strings, hex, text; containers by their members. */
function shape(value: unknown, key = ''): unknown {
  // aria2 lists a URI once per connection it opened, some used, some waiting: each entry must be one.
  if (key === 'uris' && Array.isArray(value)) {
    return value.every((u: { uri?: unknown; status?: unknown }) => typeof u.uri === 'string' && (u.status === 'used' || u.status === 'waiting')) ? 'uri list' : value;
  }
  if (Array.isArray(value)) {
    // Compare the kinds of members, not their count.
    const kinds = [...new Set(value.map((v) => JSON.stringify(shape(v))))].sort();
    return kinds.map((k) => JSON.parse(k) as unknown);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k], k)]),
    );
  }
  if (typeof value !== 'string') return typeof value;
  // A download's status, its error code and `selected` must match exactly.
  if (key === 'status' || key === 'errorCode' || key === 'selected') return value;
  if (key === 'gid') return /^[0-9a-f]{16}$/.test(value) ? 'gid' : value;
  if (key === 'bitfield') return /^([0-9a-f]{2})+$/.test(value) ? 'hex' : value;
  if (value === '') return 'empty';
  if (/^\d+$/.test(value)) return 'digits';
  if (value === 'true' || value === 'false') return 'boolean';
  return 'text';
}

function pick(options: Record<string, string>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, shape(options[k])]));
}

async function statusWhen(client: Aria2, gid: string, accept: (s: Record<string, any>) => boolean, what: string): Promise<Record<string, any>> {
  return until(async () => {
    const s = await client.call('tellStatus', gid);
    return accept(s) ? s : undefined;
  }, what);
}

interface Urls {
  slow: string;
  missing: string;
  lift(): void;
}

/** The script both servers get. Returns a map of call name → answer shape. */
async function script(client: Aria2, wrongSecret: Aria2, urls: Urls): Promise<Record<string, unknown>> {
  const shapes: Record<string, unknown> = {};
  const version = await client.call('getVersion');
  shapes['getVersion'] = shape(version);
  shapes['getSessionInfo'] = shape(await client.call('getSessionInfo'));
  shapes['getGlobalStat'] = shape(await client.call('getGlobalStat'));

  const gid = (await client.call('addUri', [urls.slow], { out: 'slow.bin', split: '4', 'max-connection-per-server': '4' })) as string;
  shapes['addUri'] = shape(gid, 'gid');
  const active = await statusWhen(client, gid, (s) => s.status === 'active' && Number(s.completedLength) > 0 && s.bitfield !== undefined, 'active with a bitfield');
  shapes['tellStatus active'] = shape(active);
  shapes['tellStatus keys'] = shape(await client.call('tellStatus', gid, ['gid', 'status', 'totalLength']));
  shapes['tellActive'] = shape(await client.call('tellActive'));
  shapes['getFiles'] = shape(await client.call('getFiles', gid));
  shapes['getUris'] = shape(await client.call('getUris', gid), 'uris');
  shapes['getServers'] = shape(await client.call('getServers', gid));
  const optionKeys = ['dir', 'out', 'split', 'max-connection-per-server', 'min-split-size', 'max-download-limit', 'allow-overwrite', 'max-tries'];
  shapes['getOption'] = pick(await client.call('getOption', gid), optionKeys);
  shapes['changeOption'] = await client.call('changeOption', gid, { 'max-download-limit': '64K' });
  shapes['pause'] = shape(await client.call('pause', gid), 'gid');
  shapes['tellStatus paused'] = shape(await statusWhen(client, gid, (s) => s.status === 'paused', 'paused'));

  const waiting = (await client.call('addUri', [urls.slow], { out: 'waiting.bin', pause: 'true' })) as string;
  shapes['tellWaiting'] = shape(await client.call('tellWaiting', 0, 10));
  shapes['changePosition'] = await client.call('changePosition', waiting, 0, 'POS_SET');
  // aria2 keeps no result for a download removed before it ever ran: remove one that runs.
  const second = (await client.call('addUri', [urls.slow], { out: 'second.bin' })) as string;
  await statusWhen(client, second, (s) => s.status === 'active' && Number(s.completedLength) > 0, 'the second one active');
  shapes['remove active'] = shape(await client.call('remove', second), 'gid');
  shapes['tellStatus removed'] = shape(await statusWhen(client, second, (s) => s.status === 'removed', 'removed'));

  const failed = (await client.call('addUri', [urls.missing])) as string;
  shapes['tellStatus error'] = shape(await statusWhen(client, failed, (s) => s.status === 'error', 'error'));

  urls.lift();
  await client.call('changeOption', gid, { 'max-download-limit': '0' });
  shapes['unpause'] = shape(await client.call('unpause', gid), 'gid');
  shapes['tellStatus complete'] = shape(await statusWhen(client, gid, (s) => s.status === 'complete', 'complete'));
  shapes['tellStopped'] = shape(await client.call('tellStopped', 0, 10));
  shapes['tellStopped newest'] = (await client.call('tellStopped', -1, 1, ['gid'])).map((s: { gid: string }) => (s.gid === gid ? 'the completed one' : s.gid));

  const globalKeys = ['dir', 'max-concurrent-downloads', 'max-overall-download-limit', 'split', 'max-connection-per-server', 'min-split-size', 'max-download-limit', 'max-tries'];
  shapes['getGlobalOption'] = pick(await client.call('getGlobalOption'), globalKeys);
  shapes['changeGlobalOption'] = await client.call('changeGlobalOption', { 'max-concurrent-downloads': '3', 'max-overall-download-limit': '0' });
  shapes['multicall'] = shape(await client.multicall([['getVersion'], ['tellStatus', gid, ['gid', 'status']], ['nope']]));
  shapes['unknown method'] = await client.call('nope').catch((e: { code: number; message: string }) => ({ code: e.code, message: e.message }));
  shapes['unknown gid'] = await client.call('tellStatus', '0123456789abcdef').catch((e: { code: number; message: string }) => ({ code: e.code, message: e.message }));
  shapes['invalid gid'] = await client.call('tellStatus', 'zz').catch((e: { code: number; message: string }) => ({ code: e.code, message: e.message }));
  shapes['unauthorized'] = await wrongSecret.call('getVersion').catch((e: { code: number; message: string }) => ({ code: e.code, message: e.message }));
  shapes['removeDownloadResult'] = await client.call('removeDownloadResult', failed);
  shapes['purgeDownloadResult'] = await client.call('purgeDownloadResult');
  shapes['saveSession'] = await client.call('saveSession');
  shapes['pauseAll'] = await client.call('pauseAll');
  shapes['unpauseAll'] = await client.call('unpauseAll');
  const notifications = await client.call('system.listNotifications');
  shapes['listNotifications'] = notifications.filter((n: string) => n.startsWith('aria2.onDownload'));
  return shapes;
}

describe('segdl daemon answers what aria2c answers', () => {
  it('field for field, for the methods aria2 clients call (the same aria2.js script against both)', async () => {
    const server = await scratch.server(6 * MiB, { rateBytesPerSec: 128 * 1024 });
    const urls = (): Urls => ({ slow: server.server.url, missing: server.server.urlFor('missing.bin'), lift: () => server.server.setFaults({}) });

    const aria2Dir = join(scratch.dir, 'aria2');
    const aria2c = await startAria2c(['-d', aria2Dir, `--save-session=${join(scratch.dir, 'aria2.session')}`, '--max-tries=1', '--retry-wait=0'], SECRET);
    running.push(aria2c);
    const theirs = await script(aria2c.client(), aria2c.client('wrong'), urls());
    await aria2c.kill();

    server.server.setFaults({ rateBytesPerSec: 128 * 1024 });
    const daemon = await startDaemon(['-d', join(scratch.dir, 'segdl'), '--session', join(scratch.dir, 'segdl.session')], { env: { SEGDL_RPC_SECRET: SECRET }, secret: SECRET });
    running.push(daemon);
    const ours = await script(daemon.client(), daemon.client('wrong'), urls());

    for (const key of Object.keys(theirs)) expect({ [key]: ours[key] }).toEqual({ [key]: theirs[key] });
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
  });

  it('segdl lists every method of the issue, all of them among aria2c\'s', async () => {
    const aria2c = await startAria2c(['-d', scratch.dir]);
    running.push(aria2c);
    const theirs = (await aria2c.client().call('system.listMethods')) as string[];
    const daemon = await startDaemon(['-d', scratch.dir]);
    running.push(daemon);
    const ours = (await daemon.client().call('system.listMethods')) as string[];
    for (const method of ours) expect(theirs).toContain(method);
    const wanted = 'addUri tellStatus tellActive tellWaiting tellStopped getGlobalStat getVersion pause forcePause unpause pauseAll forcePauseAll unpauseAll remove forceRemove removeDownloadResult purgeDownloadResult getOption changeOption getGlobalOption changeGlobalOption changePosition getFiles getUris getServers getSessionInfo saveSession shutdown forceShutdown';
    for (const name of wanted.split(' ')) expect(ours).toContain(`aria2.${name}`);
    for (const name of ['system.multicall', 'system.listMethods', 'system.listNotifications']) expect(ours).toContain(name);
  });
});
