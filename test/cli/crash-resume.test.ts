import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { startCli } from '../helpers/cli.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-cli-');

const MiB = 1024 * 1024;
const SIZE = 24 * MiB;
const CONNECTIONS = 4;
const atLeast = (fraction: number) => (e: Record<string, unknown>) => e['event'] === 'progress' && (e['transferredBytes'] as number) >= SIZE * fraction;

describe('the CLI survives interruptions and resumes', () => {
  it('SIGKILL mid-download, then the same command: right hash, at most one checkpoint per connection fetched twice', async () => {
    const server = await scratch.server(SIZE, { rateBytesPerSec: 3 * MiB });
    const args = [server.server.url, '-o', 'file.bin', '-c', String(CONNECTIONS), '--json'];
    const first = startCli(args, { cwd: scratch.dir });
    await first.waitForEvent(atLeast(0.4));
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    expect(await readdir(scratch.dir)).not.toContain('file.bin');

    const second = await startCli([...args], { cwd: scratch.dir }).exited;
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const result = JSON.parse(second.stdout.trim().split('\n').pop()!) as { event: string; resumed: boolean; bytesFetched: number };
    expect(result).toMatchObject({ event: 'result', resumed: true });
    expect(result.bytesFetched).toBeLessThan(SIZE * 0.6 + CONNECTIONS * 2 * MiB);
    expect(await sha256File(join(scratch.dir, 'file.bin'))).toBe(server.sha256);
    // What the kill cost: the server sent the file once plus at most ~one checkpoint's worth per connection.
    expect(server.server.stats.bytesSent).toBeLessThanOrEqual(SIZE + CONNECTIONS * 2 * MiB);
    expect(await readdir(scratch.dir)).toEqual(['file.bin']);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s stops with exit %i, saves state, and the next run resumes', async (signal, code) => {
    const server = await scratch.server(SIZE, { rateBytesPerSec: 3 * MiB });
    const args = [server.server.url, '-o', 'file.bin', '-c', String(CONNECTIONS), '--json'];
    const first = startCli(args, { cwd: scratch.dir });
    await first.waitForEvent(atLeast(0.3));
    first.child.kill(signal);
    const stopped = await first.exited;
    expect(stopped.code).toBe(code);
    expect(stopped.stderr).toMatch(new RegExp(`^segdl: ERR_ABORTED: interrupted by ${signal}; run the same command again to resume\\n$`));
    expect((await readdir(scratch.dir)).sort()).toEqual(['file.bin.part', 'file.bin.segdl.json']);
    const second = await startCli(args, { cwd: scratch.dir }).exited;
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('"event":"resume"');
    expect(await sha256File(join(scratch.dir, 'file.bin'))).toBe(server.sha256);
  });
});
