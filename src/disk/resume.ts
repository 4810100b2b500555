/**
 * Whether the state left by an earlier run can be trusted, and what is left to fetch.
 * A manifest is trusted only if it is intact, describes this URL, this size and these
 * validators, and the .part it describes is there with the right size; otherwise the
 * download starts over (and the caller says why).
 */
import { rm } from 'node:fs/promises';
import { loadManifest } from './manifest.js';
import { isSymlink, regularFileSize } from './output-files.js';
import { missingRanges, planRanges, type PlanOptions, type Segment } from '../schedule/plan.js';
import type { Piece } from '../verify/blocks.js';

export interface ResumeInput {
  manifest: string;
  part: string;
  /** The URL as the manifest stores it (no credentials). */
  url: string;
  size: number;
  etag: string | undefined;
  lastModified: string | undefined;
  plan: PlanOptions;
}

export type ResumeDecision =
  | { kind: 'fresh'; segments: Segment[] }
  | { kind: 'restart'; segments: Segment[]; reason: string; remoteChanged: boolean }
  /**
   * `hashes`: for a finished piece whose end is not a block boundary, the hash of its bytes in
   * that last block; `pieces`: the block pieces the earlier run hashed (src/verify/resume-check.ts).
   */
  | { kind: 'resume'; segments: Segment[]; resumedBytes: number; hashes: Map<Segment, string | undefined>; pieces: Piece[] };

export async function decideResume(input: ResumeInput): Promise<ResumeDecision> {
  await rm(`${input.manifest}.tmp`, { force: true }); // a temp that was never renamed is not state
  const fresh = planRanges([{ start: 0, end: input.size }], input.plan).map((r) => ({ ...r, done: 0 }));
  const restart = (reason: string, remoteChanged = false): ResumeDecision => ({ kind: 'restart', segments: fresh, reason, remoteChanged });
  if (await isSymlink(input.manifest)) return restart(`${input.manifest} is a symbolic link: ignored, starting over`);
  const loaded = await loadManifest(input.manifest);
  if (loaded.state === 'missing') {
    const part = await regularFileSize(input.part);
    return part === undefined ? { kind: 'fresh', segments: fresh } : restart(`${input.part} has no manifest: starting over`);
  }
  if (loaded.state === 'invalid') return restart(`manifest ${input.manifest} is unusable (${loaded.reason}): starting over`);
  const { data } = loaded;
  if (data.url !== input.url) return restart(`manifest ${input.manifest} belongs to another URL: starting over`);
  const changed =
    data.size !== input.size ||
    data.etag !== input.etag ||
    (data.lastModified !== undefined && input.lastModified !== undefined && data.lastModified !== input.lastModified);
  if (changed) return restart('remote file changed since the last run: starting over', true);
  if ((await regularFileSize(input.part)) !== input.size) return restart(`${input.part} is missing or has the wrong size: starting over`);
  // Finished pieces stay as they are; only the missing ranges are re-planned for this run's connections.
  const hashes = new Map<Segment, string | undefined>();
  const finished = loaded.segments.flatMap((s) => {
    if (s.done === 0) return [];
    const piece = { start: s.start, end: s.start + s.done, done: s.done };
    hashes.set(piece, s.hash);
    return [piece];
  });
  const missing = planRanges(missingRanges(loaded.segments), input.plan).map((r) => ({ ...r, done: 0 }));
  const segments = [...finished, ...missing].sort((a, b) => a.start - b.start);
  return { kind: 'resume', segments, resumedBytes: finished.reduce((sum, s) => sum + s.done, 0), hashes, pieces: loaded.pieces };
}
