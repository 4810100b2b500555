/**
 * Catalogue case 30: a full disk. Downloads go to a 3 MiB tmpfs mounted for each test (needs
 * root or CAP_SYS_ADMIN, which this project's machines and CI have). A file that cannot fit is refused before a byte is
 * written (statfs). When the disk fills up mid-download (another program takes the space), the
 * run fails with ERR_DISK_FULL, the manifest claims only bytes that are really in the .part,
 * and once space is freed the same command resumes and finishes.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { runCli, startCli, type CliRun, stopIfRunning } from '../helpers/cli.js';
import { claimedRanges, jsonEvents, KiB, listDir, MiB, readManifest, totalLength, wrongBytes } from '../helpers/crash.js';
import { startServer, type TestServer } from '../helpers/server.js';

const TMPFS_BYTES = 3 * MiB;

function mountTmpfs(dir: string, bytes: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
}

/** Writes zeros to `path` until the file system refuses (ENOSPC); returns the bytes written. */
function fillUp(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * KiB);
  let total = 0;
  try {
    for (;;) total += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return total;
}

let disk: string;
let server: TestServer | undefined;
let current: CliRun | undefined;

// Needs root (mount -t tmpfs), as this project's machines and CI have: it fails, never skips, without it.
describe('a full disk (case 30)', () => {
  beforeEach(async () => {
    disk = await mkdtemp(join(tmpdir(), 'segdl-crash-disk-'));
    mountTmpfs(disk, TMPFS_BYTES);
  });
  afterEach(async () => {
    await stopIfRunning(current);
    current = undefined;
    await server?.cleanup();
    server = undefined;
    execFileSync('umount', [disk]);
    await rmdir(disk);
  });

  it('a file larger than the free space is refused before anything is written: the first request tells the size, its body is dropped', async () => {
    server = await startServer(4 * MiB);
    const run = await runCli([server.server.url, '-o', 'file.bin', '-c', '2'], { cwd: disk });
    expect(run.code).toBe(1);
    // The message says how much is needed and how much is free (in bytes or human units).
    expect(run.stderr).toMatch(new RegExp(`^segdl: ERR_DISK_FULL: .*(${4 * MiB}|4\\.0 MiB).* needed, .+ free in ${disk}`, 'm'));
    expect(server.server.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
    // Refused before the .part (or anything else) was created.
    expect(await listDir(disk)).toEqual([]);
  });

  it('the disk fills up mid-download: ERR_DISK_FULL, the manifest claims only written bytes, and the rerun resumes once space is freed', async () => {
    const size = 2 * MiB;
    server = await startServer(size, { rateBytesPerSec: 512 * KiB });
    const args = [server.server.url, '-o', 'file.bin', '-c', '2', '--json'];
    const manifest = join(disk, 'file.bin.segdl.json');
    const part = join(disk, 'file.bin.part');
    const filler = join(disk, 'filler');
    const first = startCli(args, { cwd: disk });
    current = first;
    // Once a checkpoint is on disk, another program takes all the free space.
    await first.waitForEvent((e) => e['event'] === 'progress' && existsSync(manifest));
    expect(fillUp(filler)).toBeGreaterThan(0);
    const failed = await first.exited;
    current = undefined;
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^segdl: ERR_DISK_FULL: .+$/m);
    expect(jsonEvents(failed.stdout).find((e) => e['event'] === 'error')).toMatchObject({ code: 'ERR_DISK_FULL' });

    // I3/I4: the manifest is intact and claims only bytes that really are in the .part.
    const saved = await readManifest(manifest);
    const claimed = claimedRanges(saved);
    expect(totalLength(claimed)).toBeGreaterThan(0);
    expect(totalLength(claimed)).toBeLessThan(size);
    expect(await wrongBytes(part, claimed)).toEqual([]);

    await rm(filler);
    const second = await runCli(args, { cwd: disk });
    expect(second.code, second.stderr).toBe(0);
    const events = jsonEvents(second.stdout);
    expect(events.find((e) => e['event'] === 'resume')).toMatchObject({ resumedBytes: totalLength(claimed) });
    expect(events.filter((e) => e['event'] === 'warning')).toEqual([]);
    expect(await sha256File(join(disk, 'file.bin'))).toBe(server.sha256);
    expect(await listDir(disk)).toEqual(['file.bin']);
  });
});
