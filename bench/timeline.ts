/**
 * Records one segdl download, through the library, as a per-segment timeline: progress samples
 * every 50 ms (each segment's range, bytes done, activity and speed) plus split, done and retry
 * events. The CLI's --json progress only carries a segment count, hence the library here.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Download } from '../src/download.js';
import { serve, type FaultOptions } from '../src/serve/index.js';
import type { DataFile } from './data.js';

export interface TimelineSegment {
  start: number;
  end: number;
  done: number;
  active: boolean;
  bytesPerSecond: number;
}

export interface TimelineEvent {
  /** Seconds since the download started. */
  t: number;
  kind: 'split' | 'done' | 'retry';
  start: number;
  end: number;
  message?: string;
}

export interface Timeline {
  title: string;
  size: number;
  connections: number;
  wallS: number;
  error?: string;
  samples: Array<{ t: number; segments: TimelineSegment[] }>;
  events: TimelineEvent[];
}

export interface TimelineSetup {
  data: DataFile;
  workDir: string;
  faults: FaultOptions;
  connections: number;
  title: string;
  /** This GET (0-based among all requests) has its connection reset part-way, so the chart shows a retry. */
  resetRequest: number;
}

export async function recordTimeline(setup: TimelineSetup): Promise<Timeline> {
  const { data } = setup;
  const resetAfterBytes = Math.min(2 * 1024 * 1024, Math.floor(data.size / 64));
  const server = await serve({
    root: data.path,
    faults: setup.faults,
    faultFor: (req) => (req.index === setup.resetRequest && req.method === 'GET' ? { resetAfterBytes } : undefined),
  });
  const dir = join(setup.workDir, 'timeline');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const timeline: Timeline = { title: setup.title, size: data.size, connections: setup.connections, wallS: 0, samples: [], events: [] };
  const started = performance.now();
  const now = (): number => (performance.now() - started) / 1000;
  try {
    const download = new Download(server.url, {
      output: join(dir, data.name),
      connections: setup.connections,
      progressIntervalMs: 50,
      checksum: `sha256:${data.sha256}`,
    });
    download.on('progress', (p) => {
      timeline.samples.push({ t: now(), segments: p.segments.map(({ start, end, done, active, bytesPerSecond }) => ({ start, end, done, active, bytesPerSecond })) });
    });
    download.on('segment', (s) => {
      if (s.state !== 'start') timeline.events.push({ t: now(), kind: s.state, start: s.start, end: s.end });
    });
    download.on('retry', (r) => {
      timeline.events.push({ t: now(), kind: 'retry', start: r.segment?.start ?? 0, end: r.segment?.end ?? 0, message: `${r.code}: ${r.message}` });
    });
    await download.start();
  } catch (error) {
    timeline.error = error instanceof Error ? error.message : String(error);
  } finally {
    timeline.wallS = now();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  return timeline;
}
