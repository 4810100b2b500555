/**
 * aria2.js (the npm `aria2` client) drives `segdl daemon`, a real child process, over WebSocket
 * and HTTP: the flow an aria2 web UI goes through, against segdl's own range server.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { notified, startDaemon, until, type RpcProcess } from '../helpers/daemon.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-rpc-flow-');
const MiB = 1024 * 1024;
const SECRET = 'flow-secret-0123456789';
let daemon: RpcProcess | undefined;
afterEach(async () => {
  await daemon?.kill();
  daemon = undefined;
});

describe('aria2.js drives segdl daemon', () => {
  it('add, status while running, live speed limit, pause/unpause, multicall, a failing URL, remove, completion — over WebSocket, with notifications', async () => {
    const server = await scratch.server(6 * MiB, { rateBytesPerSec: 256 * 1024 });
    const dir = join(scratch.dir, 'downloads');
    daemon = await startDaemon(['-d', dir], { env: { SEGDL_RPC_SECRET: SECRET }, secret: SECRET });
    const ws = daemon.client();
    await ws.open();
    const notifications: string[] = [];
    for (const event of ['onDownloadStart', 'onDownloadPause', 'onDownloadStop', 'onDownloadComplete', 'onDownloadError']) {
      ws.on(event, (params: Array<{ gid: string }>) => notifications.push(`${event} ${params[0]!.gid}`));
    }
    const progress: unknown[] = [];
    ws.on('segdl.onDownloadProgress', (params: unknown[]) => progress.push(params[0]));

    const started = notified(ws, 'onDownloadStart');
    const gid = (await ws.call('addUri', [server.server.url], { split: '4', out: 'file.bin' })) as string;
    expect(gid).toMatch(/^[0-9a-f]{16}$/);
    expect(await started).toEqual({ gid });

    // Status while running: aria2's shape, numbers as decimal strings.
    const running = await until(async () => {
      const s = await ws.call('tellStatus', gid);
      return s.status === 'active' && Number(s.completedLength) > 0 ? s : undefined;
    }, 'the download to be active with bytes on disk');
    expect(running).toMatchObject({ gid, status: 'active', totalLength: String(6 * MiB), dir, numPieces: '6', pieceLength: String(MiB) });
    expect(running.files).toEqual([
      expect.objectContaining({ index: '1', path: join(dir, 'file.bin'), length: String(6 * MiB), selected: 'true', uris: [{ uri: server.server.url, status: 'used' }] }),
    ]);
    expect(Number(running.connections)).toBeGreaterThanOrEqual(1);
    expect(running.bitfield).toMatch(/^[0-9a-f]{2}$/);

    // The speed limit changes live, and reads back in bytes as aria2 reports it.
    expect(await ws.call('changeOption', gid, { 'max-download-limit': '128K' })).toBe('OK');
    expect((await ws.call('getOption', gid))['max-download-limit']).toBe(String(128 * 1024));

    const paused = notified(ws, 'onDownloadPause', gid);
    expect(await ws.call('pause', gid)).toBe(gid);
    await paused;
    const pausedStatus = await ws.call('tellStatus', gid, ['status', 'connections', 'downloadSpeed']);
    expect(pausedStatus).toEqual({ status: 'paused', connections: '0', downloadSpeed: '0' });
    expect((await ws.call('tellWaiting', 0, 10, ['gid'])).map((s: { gid: string }) => s.gid)).toEqual([gid]);

    // multicall: every call carries the token; the answers come back in order, results wrapped in arrays.
    const [[version], [stat], [keys]] = await ws.multicall([['getVersion'], ['getGlobalStat'], ['tellStatus', gid, ['gid', 'status']]]);
    expect(version.enabledFeatures).toContain('HTTPS');
    expect(stat).toMatchObject({ numActive: '0', numWaiting: '1' });
    expect(keys).toEqual({ gid, status: 'paused' });

    // A failing URL: its download fails alone, with aria2's code for "not found".
    const failedGid = (await ws.call('addUri', [server.server.urlFor('missing.bin')])) as string;
    await until(async () => ((await ws.call('tellStatus', failedGid, ['status'])).status === 'error' ? true : undefined), 'the missing file to fail');
    const failed = await ws.call('tellStatus', failedGid, ['errorCode', 'errorMessage']);
    expect(failed).toEqual({ errorCode: '3', errorMessage: expect.stringContaining('404') });

    // A second download, removed while it waits paused.
    const second = (await ws.call('addUri', [server.server.url], { pause: 'true', out: 'second.bin' })) as string;
    expect(await ws.call('changePosition', second, 0, 'POS_SET')).toBe(0);
    expect((await ws.call('tellWaiting', 0, 10, ['gid'])).map((s: { gid: string }) => s.gid)).toEqual([second, gid]);
    const stopped = notified(ws, 'onDownloadStop', second);
    expect(await ws.call('remove', second)).toBe(second);
    await stopped;
    expect((await ws.call('tellStatus', second, ['status'])).status).toBe('removed');

    // Unpause, lift the limits, and let it finish.
    const complete = notified(ws, 'onDownloadComplete', gid);
    expect(await ws.call('changeOption', gid, { 'max-download-limit': '0' })).toBe('OK');
    expect(await ws.call('unpause', gid)).toBe(gid);
    server.server.setFaults({});
    await complete;
    expect(await sha256File(join(dir, 'file.bin'))).toBe(server.sha256);
    const done = await ws.call('tellStatus', gid);
    expect(done).toMatchObject({ status: 'complete', completedLength: String(6 * MiB), bitfield: 'fc', errorCode: '0', errorMessage: '' });

    expect(notifications).toEqual(
      expect.arrayContaining([`onDownloadStart ${gid}`, `onDownloadPause ${gid}`, `onDownloadError ${failedGid}`, `onDownloadStop ${second}`, `onDownloadComplete ${gid}`]),
    );
    expect(notifications.filter((n) => n === `onDownloadStart ${gid}`)).toHaveLength(2); // started, and again after unpause
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatchObject({ gid, totalLength: String(6 * MiB) });

    // tellStopped: oldest first, or newest first with a negative offset.
    const order = (list: Array<{ gid: string }>) => list.map((s) => s.gid);
    expect(order(await ws.call('tellStopped', 0, 10, ['gid']))).toEqual([failedGid, second, gid]);
    expect(order(await ws.call('tellStopped', -1, 2, ['gid']))).toEqual([gid, second]);
    await ws.close();

    // The same over plain HTTP (no socket open): results, then the stopped list purged.
    const http = daemon.client();
    expect((await http.call('getGlobalStat')).numStopped).toBe('3');
    expect(await http.call('removeDownloadResult', failedGid)).toBe('OK');
    expect(await http.call('purgeDownloadResult')).toBe('OK');
    expect(await http.call('tellStopped', 0, 10)).toEqual([]);

    // A wrong token is refused with aria2's error, over both transports.
    await expect(daemon.client('wrong').call('getVersion')).rejects.toMatchObject({ code: 1, message: 'Unauthorized' });
    const wrongWs = daemon.client('wrong');
    await wrongWs.open();
    await expect(wrongWs.call('tellActive')).rejects.toMatchObject({ message: 'Unauthorized' });
    await wrongWs.close();

    // shutdown answers, then the daemon exits cleanly.
    expect(await http.call('shutdown')).toBe('OK');
    expect((await daemon.exited).code).toBe(0);
  });
});
