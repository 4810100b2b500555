import { readdir, symlink, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { Download, DownloadError, download } from '../../src/index.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-hard-');

const MiB = 1024 * 1024;
const fast = { attempts: 3, minDelayMs: 1, maxDelayMs: 5 };
/** Paced, so that a 4 MiB file is worth four connections and has segments inside it. */
const PACED = { rateBytesPerSec: 4 * MiB };

describe('seam check', () => {
  it('a server that shifts one body under a correct Content-Range is caught at the seam and that segment fetched again', async () => {
    let lied: number | undefined;
    const server = await scratch.server(4 * MiB, PACED, 'segdl', {
      // Only the first request of the first segment starting between 1 and 3 MiB lies (its body is shifted by 7 bytes).
      faultFor: (req) => {
        if (req.range !== undefined && req.range.start > MiB && req.range.start < 3 * MiB && lied === undefined) {
          lied = req.range.start;
          return { shiftBody: 7 };
        }
        return undefined;
      },
    });
    const dl = new Download(server.server.url, { output: join(scratch.dir, 'f'), connections: 4, retry: fast });
    const warnings: string[] = [];
    dl.on('warning', (w) => warnings.push(w.message));
    await dl.start();
    expect(lied).toBeDefined();
    expect(warnings).toContain('bytes at a segment seam disagree: fetching 1 segment(s) again');
    // Only the segment that lied was fetched again (a segment's requests start 16 bytes early, with its seam).
    const starts = server.server.requests.map((r) => r.range?.start);
    expect(starts.filter((s) => s === lied)).toHaveLength(2);
    expect(new Set(starts).size).toBe(starts.length - 1);
    expect(await sha256File(join(scratch.dir, 'f'))).toBe(server.sha256);
  });

  it('a server that keeps lying at one seam fails with ERR_RANGE_MISMATCH and publishes nothing', async () => {
    const server = await scratch.server(4 * MiB, PACED, 'segdl', {
      faultFor: (req) => (req.range !== undefined && req.range.start > MiB && req.range.start < 3 * MiB ? { shiftBody: 7 } : undefined),
    });
    const error = await download(server.server.url, { output: join(scratch.dir, 'f'), connections: 4, retry: fast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).code).toBe('ERR_RANGE_MISMATCH');
    expect(await readdir(scratch.dir)).not.toContain('f');
  });
});

describe('stalls (catalogue case 60)', () => {
  it('a connection that stops sending is cut after the stall window and its segment finishes on a retry', async () => {
    let stalls = 0;
    const server = await scratch.server(2 * MiB, {}, 'segdl', {
      faultFor: (req) => (req.method === 'GET' && stalls++ === 0 ? { stallAfterBytes: 100_000 } : undefined),
    });
    const dl = new Download(server.server.url, { output: join(scratch.dir, 'f'), connections: 2, stallTimeoutMs: 300, retry: fast });
    const codes: string[] = [];
    dl.on('retry', (r) => codes.push(r.code));
    await dl.start();
    expect(codes).toEqual(['ERR_STALLED']);
    expect(await sha256File(join(scratch.dir, 'f'))).toBe(server.sha256);
  });

  it('a trickle below the floor counts as a stall', async () => {
    let slow = 0;
    const server = await scratch.server(1 * MiB, {}, 'segdl', {
      faultFor: (req) => (req.method === 'GET' && slow++ === 0 ? { rateBytesPerSec: 20_000 } : undefined),
    });
    const dl = new Download(server.server.url, { output: join(scratch.dir, 'f'), connections: 1, stallTimeoutMs: 400, minSpeed: 200_000, retry: fast });
    const messages: string[] = [];
    dl.on('retry', (r) => messages.push(`${r.code} ${r.message}`));
    await dl.start();
    expect(messages[0]).toMatch(/^ERR_STALLED only \d+ B\/s over 400 ms \(floor 200000 B\/s\)$/);
    expect(await sha256File(join(scratch.dir, 'f'))).toBe(server.sha256);
  });
});

describe('remote file changed (catalogue cases 12, 39)', () => {
  it('during a run: starts over once with a restart event, never splices two versions', async () => {
    const server = await scratch.server(4 * MiB, { ...PACED, changeEtagAfter: 2 });
    const dl = new Download(server.server.url, { output: join(scratch.dir, 'f'), connections: 4, retry: fast });
    const restarts: string[] = [];
    dl.on('restart', (r) => restarts.push(r.reason));
    await dl.start();
    expect(restarts).toHaveLength(1);
    expect(restarts[0]).toMatch(/^remote file changed during the download/);
    expect(await sha256File(join(scratch.dir, 'f'))).toBe(server.sha256);
    // Every request carried If-Range with a strong ETag, but the first of each attempt, which learns it.
    const gets = server.server.requests.filter((r) => r.method === 'GET');
    const unguarded = gets.filter((r) => r.headers['if-range'] === undefined);
    expect(unguarded.map((r) => r.range?.start)).toEqual([0, 0]);
    for (const r of gets) if (!unguarded.includes(r)) expect(r.headers['if-range']).toMatch(/^"/);
  });

  it("with ifRemoteChanged: 'fail' it fails with ERR_REMOTE_CHANGED and keeps the partial", async () => {
    const server = await scratch.server(4 * MiB, { changeEtagAfter: 2, rateBytesPerSec: 4 * MiB });
    const error = await download(server.server.url, { output: join(scratch.dir, 'f'), connections: 4, retry: fast, ifRemoteChanged: 'fail' }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_REMOTE_CHANGED');
    expect((await readdir(scratch.dir)).sort()).toEqual(['f.part', 'f.segdl.json']);
  });

  it('a URL whose ETag changes on every request does not loop: one restart, then ERR_REMOTE_CHANGED', async () => {
    const server = await scratch.server(2 * MiB, { ...PACED, changeEtagAfter: 0 });
    let changes = 0;
    const s = server.server;
    const original = s.setFaults.bind(s);
    // Re-arm the change after every GET so each request sees a new ETag.
    server.server.requests.push = function (...items) {
      const n = Array.prototype.push.apply(this, items);
      if (items.some((r) => r.method === 'GET')) original({ ...PACED, changeEtagAfter: 0 }), changes++;
      return n;
    };
    const dl = new Download(s.url, { output: join(scratch.dir, 'f'), connections: 2, retry: fast });
    const restarts: string[] = [];
    dl.on('restart', (r) => restarts.push(r.reason));
    const error = await dl.start().catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_REMOTE_CHANGED');
    expect(restarts).toHaveLength(1);
    expect(changes).toBeGreaterThan(0);
  });
});

describe('symlinks are never written through (catalogue case 54)', () => {
  it('a symlink planted at the .part is refused and its target untouched', async () => {
    const server = await scratch.server(64 * 1024);
    const victim = join(scratch.dir, 'victim.txt');
    await writeFile(victim, 'precious');
    await symlink(victim, join(scratch.dir, 'f.part'));
    const error = await download(server.server.url, { output: join(scratch.dir, 'f'), retry: fast }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_IO');
    expect((error as DownloadError).message).toMatch(/symbolic link/);
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });

  it('a symlink planted at the final path is not followed (TargetExists without --force)', async () => {
    const server = await scratch.server(64 * 1024);
    const victim = join(scratch.dir, 'victim.txt');
    await writeFile(victim, 'precious');
    await symlink(victim, join(scratch.dir, 'f'));
    const error = await download(server.server.url, { output: join(scratch.dir, 'f') }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_TARGET_EXISTS');
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });
});
