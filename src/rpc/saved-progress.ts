/**
 * What a download restored from the session already has on disk, read from its manifest, so a
 * paused download shows its progress (and piece map) before it runs again.
 */
import { loadManifest, manifestPath } from '../disk/manifest.js';
import type { Progress } from '../events.js';

export async function savedProgress(output: string): Promise<Progress | undefined> {
  const loaded = await loadManifest(manifestPath(output)).catch(() => undefined);
  if (loaded?.state !== 'ok') return undefined;
  const done = loaded.segments.reduce((sum, s) => sum + s.done, 0);
  return {
    transferredBytes: done,
    totalBytes: loaded.data.size,
    resumedBytes: done,
    fetchedBytes: 0,
    bytesPerSecond: 0,
    etaMs: undefined,
    prefixBytes: [...loaded.segments].sort((a, b) => a.start - b.start).reduce((prefix, s) => (s.start === prefix && s.done > 0 ? s.start + s.done : prefix), 0),
    segments: loaded.segments.map((s) => ({ start: s.start, end: s.end, done: s.done, active: false, bytesPerSecond: 0 })),
  };
}
