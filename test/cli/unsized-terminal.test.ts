/**
 * Issue 10, item 6, for real: under `script` with no terminal of its own to copy a size from,
 * the pty reports 0 × 0 (as `docker run -t` and some CI runners do). The live frame must still
 * be drawn 80 columns wide, not cut to one character per line.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { CLI } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/server.js';

let out: string;
let server: TestServer | undefined;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'segdl-pty-'));
});
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
  await rm(out, { recursive: true, force: true });
});

const MiB = 1024 * 1024;
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Runs `command` in a new pty with no size; resolves with everything written to the pty. */
function underScript(command: string, cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // stdin is not a terminal, so script has no size to copy: the pty starts at 0 × 0.
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

it('a pty with no size (script): the live frame is drawn 80 columns wide', async () => {
  // Paced at 1 MiB/s, a 1 MiB download takes about a second whatever the machine: several frames.
  server = await startServer(1 * MiB, { rateBytesPerSec: 1 * MiB });
  const run = await underScript(`stty size; ${quote(process.execPath)} ${quote(CLI)} ${quote(server.server.url)} -o file.bin -c 1`, out);
  expect(run.code, run.output).toBe(0);
  expect(run.output.split(/\r?\n/)[0]).toBe('0 0'); // the premise: rows and columns are 0
  expect(await sha256File(join(out, 'file.bin'))).toBe(server.sha256);
  // Each frame line follows an erase-line sequence and ends at the next CR, LF or escape.
  const frameLines = run.output.split('\x1b[2K').slice(1).map((piece) => piece.split(/[\r\n\x1b]/)[0]!).filter((line) => line !== '');
  const totals = frameLines.filter((line) => /^[█░]{20} +\d+%  .* \/ 1\.0 MiB  .*\/s  ETA \S+  1 conn$/.test(line));
  expect(totals.length, run.output).toBeGreaterThan(0);
  expect(frameLines.some((line) => /^\[[█▓·]{60}\]$/.test(line))).toBe(true); // the file map: 60 cells, 62 columns
  for (const line of frameLines) expect([...line].length).toBeLessThanOrEqual(80);
});
