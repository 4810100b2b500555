/**
 * The contiguous prefix (issue 14, point 3): pieces are handed out in file order, so the part of
 * the .part that is complete from byte 0 grows while the download runs, and progress events (and
 * --json) say how far: a reader may read that far, and what it reads there is final.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataRange } from '../../fixtures/data.js';
import { download, type Progress } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { useScratch } from '../helpers/scratch.js';

const MiB = 1024 * 1024;
const scratch = useScratch('segdl-prefix-');

describe('prefixBytes', () => {
  it('grows during a multi-connection download, and the .part up to it is already the file', async () => {
    const size = 48 * MiB;
    // 4 connections at 3 MiB/s: about 4 s, long next to a piece (about a second of one connection).
    const server = await scratch.server(size, { rateBytesPerSec: 3 * MiB });
    const output = join(scratch.dir, 'f.bin');
    const seen: Progress[] = [];
    const checks: Array<Promise<boolean>> = [];
    await download(server.server.url, {
      output,
      connections: 4,
      progressIntervalMs: 50,
      onProgress: (p) => {
        seen.push(p);
        // Read what the prefix promises, while the download is still running.
        if (p.prefixBytes > 0 && p.prefixBytes < size && checks.length < 5) {
          const upTo = p.prefixBytes;
          checks.push(
            (async () => {
              const file = await open(`${output}.part`, 'r');
              try {
                const bytes = Buffer.alloc(upTo);
                await file.read(bytes, 0, upTo, 0);
                return bytes.equals(dataRange('segdl', 0, upTo));
              } finally {
                await file.close();
              }
            })(),
          );
        }
      },
    });
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.prefixBytes).toBeGreaterThanOrEqual(seen[i - 1]!.prefixBytes);
    // How far the prefix runs ahead depends on the plan the measured rates lead to (many pieces in
    // order for a long file, an equal split near the threshold, as on a loaded machine): the plan
    // itself is pinned on a scripted clock in test/unit/scheduler-plan.test.ts. Here: whatever the plan,
    // the prefix grew while the download ran and the .part up to it was already the file.
    expect(checks.length).toBeGreaterThan(0);
    expect(await Promise.all(checks)).toEqual(checks.map(() => true));
    expect(seen.at(-1)!.prefixBytes).toBe(size);
  });

  it('is in every --json progress event', async () => {
    const server = await scratch.server(8 * MiB, { rateBytesPerSec: 8 * MiB });
    const run = await runCli([server.server.url, '-o', 'f.bin', '-c', '4', '--json'], { cwd: scratch.dir });
    expect(run.code, run.stderr).toBe(0);
    const progress = run.stdout.split('\n').filter((l) => l.includes('"event":"progress"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) expect(typeof p['prefixBytes']).toBe('number');
  });
});
