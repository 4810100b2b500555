import { describe, expect, it } from 'vitest';
import { renderBatchFrame, type BatchView } from '../../src/cli/batch-frame.js';
import type { Progress } from '../../src/events.js';

const MiB = 1024 * 1024;
const progress = (transferred: number, total: number | undefined, speed: number, etaMs: number | undefined): Progress => ({
  transferredBytes: transferred,
  totalBytes: total,
  resumedBytes: 0,
  fetchedBytes: transferred,
  bytesPerSecond: speed,
  etaMs,
  prefixBytes: 0,
  segments: [],
});

describe('the batch frame', () => {
  it('a totals line, then one line per running file: name, bar, size, speed, ETA', () => {
    const view: BatchView = {
      files: 5,
      done: 2,
      failed: 1,
      finishedBytes: 30 * MiB,
      sizesKnown: true,
      totalBytes: 100 * MiB,
      running: [
        { name: 'debian-12.7.0-amd64-netinst.iso', progress: progress(20 * MiB, 40 * MiB, 4 * MiB, 5000) },
        { name: 'small.bin', progress: progress(10 * MiB, 30 * MiB, 6 * MiB, 3400) },
      ],
    };
    expect(renderBatchFrame(view, 100)).toEqual([
      '2/5 done, 1 failed, 2 running  60.0 MiB / 100.0 MiB  10.0 MiB/s  ETA 4s',
      '  debian-12.7.0-amd64-netinst.iso   ██████░░░░░░  50%  20.0 MiB / 40.0 MiB  4.0 MiB/s  ETA 5s',
      '  small.bin                         ████░░░░░░░░  33%  10.0 MiB / 30.0 MiB  6.0 MiB/s  ETA 3s',
    ]);
  });

  it('unknown sizes, a file still starting, a long name cut at the front, a narrow terminal', () => {
    const view: BatchView = {
      files: 3,
      done: 0,
      failed: 0,
      finishedBytes: 0,
      sizesKnown: false,
      totalBytes: 0,
      running: [
        { name: 'a-very-long-name-that-does-not-fit-anywhere.tar.gz', progress: progress(MiB, undefined, MiB, undefined) },
        { name: 'next.bin', progress: undefined },
      ],
    };
    expect(renderBatchFrame(view, 60)).toEqual([
      '0/3 done, 2 running  1.0 MiB  1.0 MiB/s  ETA --',
      '  …fit-anywhere.tar.gz  1.0 MiB  1.0 MiB/s  ETA --', // 20 columns of name at 60 wide
      '  next.bin              starting',
    ]);
  });
});
