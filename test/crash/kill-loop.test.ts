/**
 * Catalogue cases 32 and 41: `kill -9` at random instants and at every crash point (inside a
 * checkpoint, around the manifest rename, while hashing, before and after the final rename),
 * rerunning the same command until it succeeds. Every restart converges, nothing but the
 * right file ever appears at the final name, the manifest left by a kill is always intact and
 * claims only bytes that are in the .part, and each kill costs a bounded re-fetch.
 *
 * SEGDL_LONG=1 runs 200 kills (not in CI); SEGDL_KILL_SEED replays another random sequence.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { startCli, type CliRun, stopIfRunning } from '../helpers/cli.js';
import { claimedRanges, jsonEvents, KiB, listDir, MiB, prng, readManifest, wrongBytes } from '../helpers/crash.js';
import { startServer, type TestServer } from '../helpers/server.js';

const LONG = process.env['SEGDL_LONG'] === '1';
const SEED = Number(process.env['SEGDL_KILL_SEED'] ?? 20240611);
const KILLS = LONG ? 200 : 15;
/** Kills at random instants, at least (the rest are crash points). */
const RANDOM_KILLS = LONG ? 150 : 10;
/** Random kills per download before a run is left to finish (each download also takes one crash-point kill). */
const RANDOM_PER_DOWNLOAD = LONG ? 3 : 2;
const SIZE = 6 * MiB + 777;
const CONNECTIONS = 4;
/** Per-connection pacing of the server: 4 connections × 2 MiB/s, so a download takes under a second. */
const RATE = 2 * MiB;
/** What one kill may cost: a checkpoint interval's worth (bytes or time) for every connection. */
const BUDGET_PER_KILL = Math.max(512 * KiB * CONNECTIONS, 0.25 * RATE * CONNECTIONS);
const CRASH_POINTS = ['manifest-temp-written:3', 'manifest-renamed:3', 'manifest-appended:3', 'hashing:1', 'verified', 'published'] as const;

let out: string;
let server: TestServer | undefined;
let current: CliRun | undefined;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'segdl-crash-kill-'));
});
afterEach(async () => {
  await stopIfRunning(current);
  current = undefined;
  await server?.cleanup();
  server = undefined;
  await rm(out, { recursive: true, force: true });
});

type Spec = { kind: 'crash'; point: string } | { kind: 'random'; fraction: number } | { kind: 'finish' };

interface RunRecord {
  spec: Spec;
  killed: boolean;
  /** Server body bytes sent while this run was alive. */
  sent: number;
  /** Bytes of the file this run started with (kept from earlier runs). */
  startedWith: number;
}

function describeSpec(spec: Spec): string {
  return spec.kind === 'crash' ? `crash at ${spec.point}` : spec.kind === 'random' ? `kill at ${(spec.fraction * 100).toFixed(0)}% of the rest` : 'run to the end';
}

describe('kill -9 anywhere, rerun the same command (cases 32, 41)', () => {
  it(
    `converges after ${KILLS} kills with a bounded re-fetch per kill`,
    async () => {
      server = await startServer(SIZE, { rateBytesPerSec: RATE });
      const args = [server.server.url, '-o', 'file.bin', '-c', String(CONNECTIONS), '--json'];
      const output = join(out, 'file.bin');
      const manifest = `${output}.segdl.json`;
      const part = `${output}.part`;
      const random = prng(SEED);
      const records: RunRecord[] = [];
      let kills = 0;
      let randomKills = 0;
      let downloads = 0;
      /** Re-fetch per kill: bytes sent during the killed run that the next run did not keep. */
      const costs: Array<{ kind: Spec['kind']; bytes: number }> = [];

      /** Checks the state a kill left, and says whether the next run must resume from it. */
      const checkAfterKill = async (what: string): Promise<boolean> => {
        // I1: a file at the final name is only ever the right one.
        if (existsSync(output)) expect(await sha256File(output), `${what}: wrong file at the final name`).toBe(server!.sha256);
        if (!existsSync(manifest)) return false;
        // The rename is atomic: a kill never leaves a torn manifest, and (I3) it claims only bytes in the .part.
        const data = await readManifest(manifest);
        if (!existsSync(part)) return false; // killed after the final rename
        expect(await wrongBytes(part, claimedRanges(data)), `${what}: the manifest claims bytes that are not in the .part`).toEqual([]);
        return true;
      };

      // Crash points inside a checkpoint need a run with several saves ahead of it: they open a
      // download. The others happen in any run that gets to the end: they close one, after the random kills.
      const pending: string[] = [...CRASH_POINTS];
      while (kills < KILLS || randomKills < RANDOM_KILLS || pending.length > 0) {
        const point = pending.shift() ?? CRASH_POINTS[downloads % CRASH_POINTS.length]!;
        const early = point.startsWith('manifest-');
        downloads++;
        const cycle: RunRecord[] = [];
        let mustResume = false;
        let randomHere = 0;
        let crashed = false;
        for (let attempt = 0; ; attempt++) {
          expect(attempt, 'a download that never converges').toBeLessThan(20);
          const wantRandom = randomHere < RANDOM_PER_DOWNLOAD && (kills < KILLS || randomKills < RANDOM_KILLS);
          const spec: Spec =
            !crashed && (early || !wantRandom)
              ? { kind: 'crash', point }
              : wantRandom
                ? { kind: 'random', fraction: 0.05 + 0.8 * random() }
                : { kind: 'finish' };
          const what = `download ${downloads}, run ${attempt + 1} (${describeSpec(spec)}, seed ${SEED})`;
          const sentBefore = server.server.stats.bytesSent;
          const cli = startCli(args, { cwd: out, env: spec.kind === 'crash' ? { SEGDL_TEST_CRASH_AT: spec.point, ...(/^manifest-(temp|renamed)/.test(spec.point) ? { SEGDL_TEST_MANIFEST_REWRITE: '1' } : {}) } : {} });
          current = cli;
          if (spec.kind === 'random') {
            const fraction = spec.fraction;
            // Kill once this run has fetched `fraction` of what it had left (never at 100%: that is the crash points' job).
            const landed = await cli
              .waitForEvent((e) => {
                if (e['event'] !== 'progress') return false;
                const [total, resumed, fetched, transferred] = [e['totalBytes'], e['resumedBytes'], e['fetchedBytes'], e['transferredBytes']] as number[];
                return transferred! < total! && fetched! >= Math.max(1, fraction * (total! - resumed!));
              })
              .then(
                () => true,
                () => false, // finished first
              );
            if (landed) cli.child.kill('SIGKILL');
          }
          const exit = await cli.exited;
          current = undefined;
          const events = jsonEvents(exit.stdout);
          const warnings = events.filter((e) => e['event'] === 'warning').map((e) => e['code'] as string);
          const resumed = events.find((e) => e['event'] === 'resume')?.['resumedBytes'] as number | undefined;
          const result = events.find((e) => e['event'] === 'result');
          // Finished by an earlier run (killed after the rename): this one kept the whole file and fetched
          // nothing, whether it said so by a warning or by proving the file complete (issue 10, item 4).
          const finishedEarlier = result !== undefined && result['bytesFetched'] === 0 && (result['alreadyComplete'] === true || warnings.includes('ERR_TARGET_EXISTS'));
          // A kill never damages what the manifest claims: no integrity repairs, and no restart from a usable manifest.
          expect(warnings.filter((w) => w !== 'ERR_RESTART' && w !== 'ERR_TARGET_EXISTS'), what).toEqual([]);
          if (mustResume) expect(warnings, `${what}: restarted from a usable manifest`).not.toContain('ERR_RESTART');
          const record: RunRecord = {
            spec,
            killed: exit.signal === 'SIGKILL',
            sent: server.server.stats.bytesSent - sentBefore,
            startedWith: finishedEarlier ? SIZE : (resumed ?? 0),
          };
          cycle.push(record);
          if (record.killed) {
            kills++;
            if (spec.kind === 'crash') crashed = true;
            if (spec.kind === 'random') {
              randomKills++;
              randomHere++;
            }
            mustResume = await checkAfterKill(what);
            continue;
          }
          expect(spec.kind, `${what}: the crash point was never reached`).not.toBe('crash');
          expect(exit.code, `${what}: ${exit.stderr}`).toBe(0);
          break;
        }
        // A random-kill run finished this download before its crash point came: keep it for the next one.
        if (!crashed) pending.unshift(point);
        // Converged: the right file, and nothing else (no .part, manifest, temp or lock left).
        expect(await sha256File(output)).toBe(server.sha256);
        expect(await listDir(out)).toEqual(['file.bin']);
        // What each kill cost: bytes the server sent during the killed run that the next run did not keep.
        for (let i = 0; i < cycle.length; i++) {
          const run = cycle[i]!;
          if (!run.killed) continue;
          const keptAfter = cycle[i + 1]!.startedWith;
          costs.push({ kind: run.spec.kind, bytes: run.sent - (keptAfter - run.startedWith) });
        }
        records.push(...cycle);
        await rm(output);
      }

      const refetched = server.server.stats.bytesSent - downloads * SIZE;
      const mean = refetched / kills;
      const worst = Math.max(...costs.map((c) => c.bytes));
      const randomCosts = costs.filter((c) => c.kind === 'random').map((c) => c.bytes);
      const randomMean = randomCosts.reduce((a, b) => a + b, 0) / randomCosts.length;
      console.log(
        `KILL-LOOP RESULT: ${kills} kills (${randomKills} random, ${kills - randomKills} at crash points) over ${downloads} downloads ` +
          `of ${SIZE} B, ${CONNECTIONS} connections at ${RATE / MiB} MiB/s each, ${records.length} runs, seed ${SEED}; ` +
          `re-fetched per kill: mean ${(mean / KiB).toFixed(1)} KiB (random kills only ${(randomMean / KiB).toFixed(1)} KiB), ` +
          `worst ${(worst / KiB).toFixed(1)} KiB (budget ${(BUDGET_PER_KILL / KiB).toFixed(0)} KiB)`,
      );
      expect(kills).toBeGreaterThanOrEqual(KILLS);
      expect(randomKills).toBeGreaterThanOrEqual(RANDOM_KILLS);
      expect(mean).toBeLessThanOrEqual(BUDGET_PER_KILL);
    },
    LONG ? 3_600_000 : 120_000,
  );
});
