import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-json-');

const MiB = 1024 * 1024;
const EVENTS = new Set(['start', 'progress', 'segment', 'retry', 'warning', 'resume', 'restart', 'done', 'result', 'error']);

/** Checks every line against the schema documented in the README; returns the parsed events. */
function parseEvents(stdout: string): Array<Record<string, unknown>> {
  const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const e of events) {
    expect(EVENTS.has(e['event'] as string)).toBe(true);
    if (e['event'] === 'progress') {
      for (const key of ['transferredBytes', 'resumedBytes', 'fetchedBytes', 'bytesPerSecond', 'segments', 'activeConnections']) expect(typeof e[key]).toBe('number');
      expect(e['transferredBytes']).toBe((e['resumedBytes'] as number) + (e['fetchedBytes'] as number));
    }
    if (e['event'] === 'result') {
      expect(Object.keys(e).sort()).toEqual(['alreadyComplete', 'bytesFetched', 'connectionsUsed', 'digest', 'elapsedMs', 'event', 'path', 'resumed', 'size', 'verifyMs']);
      expect((e['digest'] as Record<string, string>)['xxh64blocks']).toMatch(/^[0-9a-f]{16}$/);
    }
  }
  return events;
}

describe('--json output', () => {
  it('a normal download: start, progress, segment events, then the result object', async () => {
    const server = await scratch.server(4 * MiB, { rateBytesPerSec: 8 * MiB });
    const run = await runCli([server.server.url, '-o', 'f.bin', '-c', '4', '--json'], { cwd: scratch.dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const events = parseEvents(run.stdout);
    expect(events[0]).toMatchObject({ event: 'start', totalBytes: 4 * MiB, connections: 4, acceptsRanges: true });
    expect(events.at(-1)).toMatchObject({ event: 'result', size: 4 * MiB, resumed: false, bytesFetched: 4 * MiB });
    expect(events.filter((e) => e['event'] === 'segment' && e['state'] === 'done').length).toBeGreaterThanOrEqual(2);
  });

  it('a resumed download: a resume event and resumed: true', async () => {
    const server = await scratch.server(16 * MiB, { rateBytesPerSec: 2 * MiB });
    const args = [server.server.url, '-o', 'f.bin', '-c', '4', '--json'];
    const first = startCli(args, { cwd: scratch.dir });
    await first.waitForEvent((e) => e['event'] === 'progress' && (e['transferredBytes'] as number) >= 4 * MiB);
    first.child.kill('SIGINT');
    expect((await first.exited).code).toBe(130);
    const second = await runCli(args, { cwd: scratch.dir });
    const events = parseEvents(second.stdout);
    const resume = events.find((e) => e['event'] === 'resume');
    expect(resume).toMatchObject({ totalBytes: 16 * MiB });
    expect(resume!['resumedBytes']).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ event: 'result', resumed: true, bytesFetched: 16 * MiB - (resume!['resumedBytes'] as number) });
  });

  it('a failed download: an error object with a stable code, exit 1', async () => {
    const server = await scratch.server(1024);
    const run = await runCli([server.server.urlFor('nope.bin'), '-o', 'f.bin', '--json'], { cwd: scratch.dir });
    expect(run.code).toBe(1);
    const events = parseEvents(run.stdout);
    expect(events.at(-1)).toEqual({ event: 'error', code: 'ERR_HTTP_STATUS', message: 'server answered 404' });
  });
});
