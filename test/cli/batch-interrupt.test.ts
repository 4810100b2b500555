import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { runCli, startCli } from '../helpers/cli.js';
import { jsonEvents } from '../helpers/crash.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-batch-int-');
const MiB = 1024 * 1024;
const NAMES = ['a.bin', 'b.bin', 'c.bin'];

describe('Ctrl-C in a batch', () => {
  it('SIGINT saves every running download (exit 130); the same command resumes them all', async () => {
    const server = await scratch.dirServer({ 'a.bin': 6 * MiB, 'b.bin': 5 * MiB, 'c.bin': 4 * MiB, 'd.bin': MiB }, { rateBytesPerSec: 512 * 1024 });
    const args = ['--json', '-d', 'out', '-j', '3', '-c', '2', ...[...NAMES, 'd.bin'].map((n) => server.server.urlFor(n))];
    const first = startCli(args, { cwd: scratch.dir });
    // Every one of the three running files has bytes on disk.
    const progressed = new Set<unknown>();
    await first.waitForEvent((e) => {
      if (e['event'] === 'progress' && (e['transferredBytes'] as number) > 256 * 1024) progressed.add(e['id']);
      return progressed.size === 3;
    });
    first.child.kill('SIGINT');
    const stopped = await first.exited;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toBe('segdl: ERR_ABORTED: interrupted by SIGINT; 0 done, 3 saved, 1 not started: run the same command again to resume\n');
    const summary = jsonEvents(stopped.stdout).at(-1)!;
    expect(summary).toMatchObject({ event: 'summary', files: 4, succeeded: 0, failed: 0, interrupted: 3, notStarted: 1 });
    const saved = (await readdir(join(scratch.dir, 'out'))).sort();
    expect(saved).toEqual(NAMES.flatMap((n) => [`${n}.part`, `${n}.segdl.json`]).sort());

    server.server.setFaults({});
    const second = await runCli(args, { cwd: scratch.dir });
    expect(second.code).toBe(0);
    const events = jsonEvents(second.stdout);
    const resumed = events.filter((e) => e['event'] === 'resume').map((e) => String(e['path']).split('/').pop());
    expect(resumed.sort()).toEqual(NAMES);
    for (const e of events.filter((x) => x['event'] === 'resume')) expect(e['resumedBytes']).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ event: 'summary', files: 4, succeeded: 4 });
    expect((await readdir(join(scratch.dir, 'out'))).sort()).toEqual([...NAMES, 'd.bin']);
    for (const name of [...NAMES, 'd.bin']) expect(await sha256File(join(scratch.dir, 'out', name))).toBe(server.sha256[name]);
  });
});
