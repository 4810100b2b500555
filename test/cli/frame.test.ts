import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fileMap, LiveBlock, renderFrame } from '../../src/cli/frame.js';
import type { Progress } from '../../src/events.js';

const MiB = 1024 * 1024;
const progress: Progress = {
  transferredBytes: 40 * MiB,
  totalBytes: 100 * MiB,
  resumedBytes: 10 * MiB,
  fetchedBytes: 30 * MiB,
  bytesPerSecond: 20 * MiB,
  etaMs: 3000,
  prefixBytes: 30 * MiB,
  segments: [
    { start: 0, end: 50 * MiB, done: 30 * MiB, active: true, bytesPerSecond: 12 * MiB },
    { start: 50 * MiB, end: 75 * MiB, done: 10 * MiB, active: true, bytesPerSecond: 8 * MiB },
    { start: 75 * MiB, end: 100 * MiB, done: 0, active: false, bytesPerSecond: 0 },
  ],
};

describe('TTY progress frame', () => {
  it('shows totals, a file map and one line per working connection', () => {
    // The map has 60 cells for 100 MiB: segment 1's first 30 MiB done then active, segment 2's
    // first 10 MiB done then active, segment 3 missing (no connection on it).
    expect(renderFrame(progress, 120)).toEqual([
      '████████░░░░░░░░░░░░  40%  40.0 MiB / 100.0 MiB  20.0 MiB/s  ETA 3s  2 conn  resumed 10.0 MiB',
      `[${'█'.repeat(18)}${'▓'.repeat(12)}${'█'.repeat(6)}${'▓'.repeat(9)}${'·'.repeat(15)}]`,
      '  # 1 @  0.0% ██████░░░░  30.0 MiB / 50.0 MiB  12.0 MiB/s',
      '  # 2 @ 50.0% ████░░░░░░  10.0 MiB / 25.0 MiB  8.0 MiB/s',
    ]);
  });

  it('cuts every line to the terminal width', () => {
    for (const line of renderFrame(progress, 30)) expect([...line].length).toBeLessThanOrEqual(30);
  });

  it('maps done, active and missing cells exactly', () => {
    expect(fileMap([{ start: 0, end: 10, done: 5, active: true, bytesPerSecond: 1 }, { start: 10, end: 20, done: 0, active: false, bytesPerSecond: 0 }], 20, 4)).toBe('█▓··');
  });

  it('redraws in place: cursor up over the previous block, every line cleared', () => {
    const out = Object.assign(new PassThrough(), { columns: 40 });
    let written = '';
    out.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const block = new LiveBlock(out, 0);
    block.draw(['a', 'b', 'c']);
    block.draw(['d', 'e']);
    block.clear();
    expect(written).toBe(
      '\r\x1b[2Ka\n\x1b[2Kb\n\x1b[2Kc' + // first frame: three lines
        '\x1b[2A\r\x1b[2Kd\n\x1b[2Ke\n\x1b[2K' + // second frame overwrites, clearing the leftover third line
        '\x1b[2A\r\x1b[2K\n\x1b[2K\n\x1b[2K\x1b[2A\r', // clear: blank all three, back to the top
    );
  });

  // Issue 10, item 6: a pty with no size (`script`, `docker run -t`) reports 0 columns, and a
  // stream that is no real TTY none; the frame was cut to one character per line.
  it.each([
    ['0', 0],
    ['undefined', undefined],
  ])('a terminal whose columns is %s is drawn 80 columns wide', (_what, columns) => {
    const out = Object.assign(new PassThrough(), { columns });
    let written = '';
    out.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const block = new LiveBlock(out, 0);
    expect(block.columns).toBe(80);
    block.draw(renderFrame(progress, block.columns));
    const lines = written.split('\n').map((line) => line.replace(/^\r?\x1b\[2K/, ''));
    const wide = renderFrame(progress, 200);
    expect(lines[0]).toBe([...wide[0]!].slice(0, 80).join('')); // the totals line, cut at 80, not at 1
    expect(lines[0]).toMatch(/^█{8}░{12}  40%  40\.0 MiB \/ 100\.0 MiB  20\.0 MiB\/s  ETA 3s  2 conn/);
    expect(lines[1]).toMatch(/^\[[█▓·]{60}\]$/);
    expect(lines[2]).toBe('  # 1 @  0.0% ██████░░░░  30.0 MiB / 50.0 MiB  12.0 MiB/s');
  });
});
