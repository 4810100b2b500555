/**
 * `npm run bench:manifest`: what one checkpoint costs with 16 segments and with 16,000 (a long
 * download split many times), as segdl saves it (a line appended with what changed) and as a
 * full snapshot every time would (temp file, rename). Each checkpoint changes 16 segments (one per
 * connection) and adds 16 block pieces. Prints the median, 95th percentile and mean per save.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestStore, type ManifestSnapshot, type SavedPieceEntry, type SavedSegmentEntry } from '../src/disk/manifest.js';

const SAVES = 2000;
const CHANGED_PER_SAVE = 16;
const BLOCK = 1024 * 1024;

async function measure(segments: number, everySaveFull: boolean): Promise<{ median: number; p95: number; mean: number; bytes: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'segdl-bench-manifest-'));
  try {
    const size = segments * 4 * BLOCK;
    const entries: SavedSegmentEntry[] = Array.from({ length: segments }, (_, i) => [i * 4 * BLOCK, (i + 1) * 4 * BLOCK, 0]);
    const pieces: SavedPieceEntry[] = [];
    let fresh: SavedPieceEntry[] = [];
    let changed: SavedSegmentEntry[] = [];
    const store = new ManifestStore(join(dir, 'f.segdl.json'), { fsync: false });
    const snapshot: ManifestSnapshot = {
      full: () => ({ url: 'http://127.0.0.1/f', size, etag: '"e"', lastModified: undefined, segments: entries, pieces: [...pieces] }),
      delta: () => {
        const out = { segments: changed, pieces: fresh };
        changed = [];
        fresh = [];
        return out;
      },
    };
    await store.save(snapshot);
    const times: number[] = [];
    for (let save = 0; save < SAVES; save++) {
      // Sixteen connections each wrote a block into their segment since the last checkpoint.
      for (let c = 0; c < CHANGED_PER_SAVE; c++) {
        const entry = entries[(save * CHANGED_PER_SAVE + c) % segments]!;
        if (entry[2] < 4 * BLOCK) {
          pieces.push([entry[0] + entry[2], BLOCK, 'aaaaaaaaaaaaaaaa']);
          fresh.push(pieces.at(-1)!);
          entry[2] += BLOCK;
        }
        changed.push(entry);
      }
      if (everySaveFull) store.rewriteNext();
      const started = performance.now();
      await store.save(snapshot);
      times.push(performance.now() - started);
    }
    const bytes = (await stat(join(dir, 'f.segdl.json'))).size;
    await store.close();
    times.sort((a, b) => a - b);
    const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
    return { median: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)]!, mean, bytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const rows: string[] = ['| segments | save | median ms | p95 ms | mean ms (with the occasional fresh snapshot) | manifest bytes at the end |', '|--:|---|--:|--:|--:|--:|'];
for (const segments of [16, 16_000]) {
  for (const full of [false, true]) {
    const r = await measure(segments, full);
    rows.push(`| ${segments} | ${full ? 'full snapshot every time' : 'segdl (appended changes)'} | ${r.median.toFixed(3)} | ${r.p95.toFixed(3)} | ${r.mean.toFixed(3)} | ${r.bytes} |`);
  }
}
process.stdout.write(`${rows.join('\n')}\n`);
