/**
 * Catalogue case 33 (invariant I3): with `--durability power`, the manifest on disk never claims
 * bytes that a power cut could lose. The CLI journals every completed write (`W pos len`) and
 * every data sync (`S+` before, `S-` after). After a SIGKILL we simulate the power cut:
 * every write that completed after the last sync that finished (its `S+` and `S-` both in the
 * journal) is replaced by garbage in the .part, as if it never reached the disk. The manifest
 * must claim only bytes written before that sync began; the next run resumes without noticing
 * the garbage and produces the right file. A negative control puts the same kind of garbage on
 * bytes the manifest does claim (a broken protocol): the per-segment hashes catch it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { startCli, type CliRun, stopIfRunning } from '../helpers/cli.js';
import { claimedRanges, jsonEvents, listDir, MiB, readManifest, scribble, totalLength, uncovered, type ByteRange, type ManifestBody } from '../helpers/crash.js';
import { startServer, type TestServer } from '../helpers/server.js';

let out: string;
let scratch: string;
let server: TestServer | undefined;
let current: CliRun | undefined;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'segdl-crash-power-'));
  scratch = await mkdtemp(join(tmpdir(), 'segdl-crash-journal-'));
});
afterEach(async () => {
  await stopIfRunning(current);
  current = undefined;
  await server?.cleanup();
  server = undefined;
  await rm(out, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

const SIZE = 8 * MiB + 4321;

/**
 * The recorded piece a resume re-checks `write` with: one of the manifest's block pieces, else the
 * claimed segment's bytes in the block it was filling (its trailing hash).
 */
function pieceHolding(manifest: ManifestBody, segment: ByteRange, write: ByteRange): ByteRange {
  const recorded = (manifest.pieces ?? []).map(([offset, length]) => ({ start: offset, end: offset + length }));
  const holding = recorded.find((p) => p.start <= write.start && write.end <= p.end);
  if (holding !== undefined) return holding;
  return { start: Math.max(segment.start, Math.floor(segment.end / MiB) * MiB), end: segment.end };
}
const CONNECTIONS = 4;

interface Journal {
  /** Writes that completed before the last finished sync began: on disk whatever happens. */
  durable: ByteRange[];
  /** Writes that completed after it: a power cut may lose them. */
  volatile: ByteRange[];
  /** Finished syncs. */
  syncs: number;
}

function parseJournal(text: string): Journal {
  const lines = text.split('\n').filter((l) => l !== '');
  // The last S+ whose S- made it into the journal (syncs never overlap: they run under the manifest lock).
  let lastSynced = -1;
  let syncs = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== 'S-') continue;
    syncs++;
    for (let j = i - 1; j >= 0; j--) {
      if (lines[j] === 'S+') {
        lastSynced = j;
        break;
      }
    }
  }
  const durable: ByteRange[] = [];
  const volatile: ByteRange[] = [];
  lines.forEach((line, i) => {
    const write = /^W (\d+) (\d+)$/.exec(line);
    if (write === null) return;
    const start = Number(write[1]);
    (i < lastSynced ? durable : volatile).push({ start, end: start + Number(write[2]) });
  });
  return { durable, volatile, syncs };
}

/** `rewrite`: every checkpoint is a full snapshot (temp file, rename), as the crash points at the rename need. */
type Kill = { name: string; crashAt?: string; atFraction?: number; rewrite?: boolean };

const KILLS: Kill[] = [
  { name: 'SIGKILL mid-transfer (40%)', atFraction: 0.4 },
  { name: 'crash after the 3rd temp manifest was written (synced data, manifest not renamed)', crashAt: 'manifest-temp-written:3', rewrite: true },
  { name: 'crash right after the 2nd manifest rename', crashAt: 'manifest-renamed:2', rewrite: true },
  { name: 'crash right after the 3rd checkpoint line was appended (synced data, synced line)', crashAt: 'manifest-appended:3' },
];

/** Runs the CLI with power durability and the journal, kills it as `kill` says, returns the state left. */
async function interrupted(kill: Kill): Promise<{ args: string[]; part: string; manifest: ManifestBody; journal: Journal }> {
  server = await startServer(SIZE, { rateBytesPerSec: 2 * MiB });
  const args = [server.server.url, '-o', 'file.bin', '-c', String(CONNECTIONS), '--json'];
  const journalPath = join(scratch, 'journal');
  const env: NodeJS.ProcessEnv = { SEGDL_TEST_JOURNAL: journalPath };
  if (kill.crashAt !== undefined) env['SEGDL_TEST_CRASH_AT'] = kill.crashAt;
  if (kill.rewrite === true) env['SEGDL_TEST_MANIFEST_REWRITE'] = '1';
  const cli = startCli([...args, '--durability', 'power'], { cwd: out, env });
  current = cli;
  if (kill.atFraction !== undefined) {
    const fraction = kill.atFraction;
    await cli.waitForEvent((e) => e['event'] === 'progress' && (e['transferredBytes'] as number) >= SIZE * fraction);
    cli.child.kill('SIGKILL');
  }
  const exit = await cli.exited;
  current = undefined;
  expect(exit.signal).toBe('SIGKILL');
  expect(existsSync(join(out, 'file.bin'))).toBe(false);
  const journal = parseJournal(await readFile(journalPath, 'utf8'));
  expect(journal.syncs).toBeGreaterThan(0);
  return { args, part: join(out, 'file.bin.part'), manifest: await readManifest(join(out, 'file.bin.segdl.json')), journal };
}

async function resume(args: string[]) {
  const exit = await startCli(args, { cwd: out }).exited;
  expect(exit.code, exit.stderr).toBe(0);
  const events = jsonEvents(exit.stdout);
  return {
    warnings: events.filter((e) => e['event'] === 'warning').map((e) => e['code']),
    resumed: events.find((e) => e['event'] === 'resume')?.['resumedBytes'] as number | undefined,
    fetched: events.find((e) => e['event'] === 'result')?.['bytesFetched'] as number | undefined,
  };
}

describe('power loss after a kill: the manifest claims only synced bytes (case 33)', () => {
  it.each(KILLS.map((k) => [k.name, k] as const))('%s', async (_name, kill) => {
    const { args, part, manifest, journal } = await interrupted(kill);
    const claimed = claimedRanges(manifest);
    expect(totalLength(claimed)).toBeGreaterThan(0);
    // I3: every claimed byte was written before the last sync that finished began.
    expect(uncovered(claimed, journal.durable)).toEqual([]);

    // The power cut: whatever was not synced is garbage now.
    await scribble(part, journal.volatile);
    const run = await resume(args);
    expect(run.warnings).toEqual([]); // nothing claimed was lost, so no integrity repair
    expect(run.resumed).toBe(totalLength(claimed));
    expect(run.fetched).toBe(SIZE - totalLength(claimed));
    expect(await sha256File(join(out, 'file.bin'))).toBe(server!.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });

  it('negative control: lost bytes that the manifest does claim are caught by the segment hashes', async () => {
    const { args, part, manifest, journal } = await interrupted(KILLS[0]!);
    const claimed = claimedRanges(manifest);
    // A broken protocol (manifest written before its data was synced) would lose the last
    // writes it claims: garble the last claimed write of the journal.
    const lastClaimedWrite = journal.durable.filter((w) => uncovered([w], claimed).length === 0).pop();
    expect(lastClaimedWrite).toBeDefined();
    const hit = claimed.find((c) => c.start <= lastClaimedWrite!.start && lastClaimedWrite!.end <= c.end)!;
    await scribble(part, [lastClaimedWrite!]);

    const run = await resume(args);
    expect(run.warnings).toEqual(['ERR_INTEGRITY']);
    // Exactly the recorded piece holding the garbage was dropped (a block, a part of a shared
    // block, or the segment's bytes in the block it was filling); the rest was kept.
    const piece = pieceHolding(manifest, hit, lastClaimedWrite!);
    expect(piece.end - piece.start).toBeLessThanOrEqual(MiB);
    expect(run.resumed).toBe(totalLength(claimed) - (piece.end - piece.start));
    expect(run.fetched).toBe(SIZE - run.resumed!);
    expect(await sha256File(join(out, 'file.bin'))).toBe(server!.sha256);
    expect(await listDir(out)).toEqual(['file.bin']);
  });
});
