/**
 * Test-only hooks, inert unless SEGDL_TEST_* variables are set: crash points so the kill-loop
 * tests can SIGKILL the CLI at exact instants (inside a checkpoint, a rename, the final verify),
 * a write journal so the power-loss test knows which bytes had been synced, and full manifest
 * snapshots at every checkpoint.
 */
import { appendFileSync } from 'node:fs';

/** `point` or `point:n` (the n-th time that point is reached). */
const CRASH_AT = process.env['SEGDL_TEST_CRASH_AT'];
const JOURNAL = process.env['SEGDL_TEST_JOURNAL'];
const reached = new Map<string, number>();

export type CrashPoint = 'manifest-temp-written' | 'manifest-renamed' | 'manifest-appended' | 'hashing' | 'verified' | 'published';

export function crashPoint(point: CrashPoint): void {
  if (CRASH_AT === undefined) return;
  const [name, nth = '1'] = CRASH_AT.split(':');
  if (name !== point) return;
  const count = (reached.get(point) ?? 0) + 1;
  reached.set(point, count);
  if (count === Number(nth)) process.kill(process.pid, 'SIGKILL');
}

/**
 * SEGDL_TEST_MANIFEST_REWRITE=1: every checkpoint writes a full snapshot (temp file, rename)
 * instead of appending a line, so the crash tests reach the rename's crash points mid-transfer.
 */
export const rewriteEveryCheckpoint = process.env['SEGDL_TEST_MANIFEST_REWRITE'] === '1';

/** One line per completed write (`W start length`) and around every data sync (`S+` / `S-`). */
export function journal(line: string): void {
  if (JOURNAL !== undefined) appendFileSync(JOURNAL, `${line}\n`);
}
