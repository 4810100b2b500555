/**
 * `--session`: the daemon is SIGKILLed mid-download, started again with the same session file,
 * and the download comes back under its gid, resumes from its manifest and completes exactly.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { runCli } from '../helpers/cli.js';
import { startDaemon, until, type RpcProcess } from '../helpers/daemon.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-rpc-session-');
const MiB = 1024 * 1024;
const SIZE = 8 * MiB;
const running: RpcProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.kill()));
});

async function daemon(args: string[]): Promise<RpcProcess> {
  const d = await startDaemon(args);
  running.push(d);
  return d;
}

describe('segdl daemon --session', () => {
  it('after a SIGKILL mid-download, a restart brings the download back under its gid and finishes it from its manifest', async () => {
    const server = await scratch.server(SIZE, { rateBytesPerSec: 512 * 1024 });
    const dir = join(scratch.dir, 'dl');
    const session = join(scratch.dir, 'session.json');
    const args = ['-d', dir, '--session', session];
    const first = await daemon(args);
    const client = first.client();
    // The server picks the name; a paused second download keeps its place and its pause.
    const gid = (await client.call('addUri', [server.server.url], { split: '4' })) as string;
    const waiting = (await client.call('addUri', [server.server.url], { out: 'later.bin', pause: 'true' })) as string;
    await until(async () => ((await client.call('tellStatus', gid, ['completedLength'])).completedLength >= 2 * MiB ? true : undefined), '2 MiB on disk');
    // The manifest has recorded some of those bytes once it exists (checkpoints run every 250 ms).
    await until(async () => (await stat(join(dir, 'data.bin.segdl.json')).catch(() => undefined)) && true, 'a manifest');
    await first.kill();
    const sentBefore = server.server.stats.bytesSent;

    const saved = JSON.parse(await readFile(session, 'utf8')) as { downloads: Array<{ gid: string; paused: boolean; options: Record<string, string> }> };
    expect(saved.downloads.map((d) => [d.gid, d.paused, d.options['out']])).toEqual([
      [gid, false, 'data.bin'],
      [waiting, true, 'later.bin'],
    ]);

    server.server.setFaults({});
    const second = await daemon(args);
    const again = second.client();
    expect((await again.call('tellStatus', waiting, ['status'])).status).toBe('paused');
    expect((await again.call('tellWaiting', 0, 10, ['gid'])).map((s: { gid: string }) => s.gid)).toContain(waiting);
    const done = await until(async () => {
      const s = await again.call('tellStatus', gid);
      if (s.status === 'error') throw new Error(`failed: ${s.errorMessage}`);
      return s.status === 'complete' ? s : undefined;
    }, 'the restored download to complete');
    expect(done.files[0].path).toBe(join(dir, 'data.bin'));
    expect(await sha256File(join(dir, 'data.bin'))).toBe(server.sha256);
    // It resumed: the second run fetched less than the whole file.
    expect(server.server.stats.bytesSent - sentBefore).toBeLessThan(SIZE);
    // Finished downloads leave the session; the paused one stays.
    const after = JSON.parse(await readFile(session, 'utf8')) as { downloads: Array<{ gid: string }> };
    expect(after.downloads.map((d) => d.gid)).toEqual([waiting]);
    await second.stop();
  });

  it('after SIGTERM, a paused download comes back paused, showing what is on disk, and finishes when unpaused', async () => {
    const server = await scratch.server(SIZE, { rateBytesPerSec: 512 * 1024 });
    const dir = join(scratch.dir, 'dl');
    const args = ['-d', dir, '--session', join(scratch.dir, 'session.json')];
    const first = await daemon(args);
    const client = first.client();
    const gid = (await client.call('addUri', [server.server.url], { out: 'f.bin', split: '2' })) as string;
    await until(async () => ((await client.call('tellStatus', gid, ['completedLength'])).completedLength >= MiB ? true : undefined), '1 MiB on disk');
    await client.call('pause', gid);
    await until(async () => ((await client.call('tellStatus', gid, ['status'])).status === 'paused' ? true : undefined), 'paused');
    expect((await first.stop()).code).toBe(0);

    const second = await daemon(args);
    const again = second.client();
    const restored = await again.call('tellStatus', gid);
    expect(restored).toMatchObject({ status: 'paused', totalLength: String(SIZE), numPieces: '8' });
    expect(Number(restored.completedLength)).toBeGreaterThanOrEqual(MiB);
    expect(restored.bitfield).toMatch(/^[0-9a-f]{2}$/);
    server.server.setFaults({});
    await again.call('unpause', gid);
    await until(async () => ((await again.call('tellStatus', gid, ['status'])).status === 'complete' ? true : undefined), 'complete');
    expect(await sha256File(join(dir, 'f.bin'))).toBe(server.sha256);
    await second.stop();
  });

  it('a session file that is not a segdl session is refused at start, with one line, and left as it was', async () => {
    const session = join(scratch.dir, 'session.json');
    await writeFile(session, 'http://example.invalid/file\n  dir=/tmp\n'); // aria2's input-file format
    const { code, stderr } = await runCli(['daemon', '--rpc-listen-port', '0', '-d', scratch.dir, '--session', session]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^segdl: ERR_INVALID_OPTION: session file .* is not a segdl session \(not valid JSON\)/m);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(await readFile(session, 'utf8')).toBe('http://example.invalid/file\n  dir=/tmp\n');
  });
});
