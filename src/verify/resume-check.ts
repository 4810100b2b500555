/**
 * Bytes an earlier run left are trusted only once they are read back and match the hashes that
 * run recorded. Within every block, the claimed bytes must be tiled by recorded pieces: the
 * whole block's hash, or the pieces the segments wrote into it (a block two segments shared), or a
 * segment's hash of its bytes in the block it was still filling. Bytes no matching piece covers (a
 * torn write, tampering, nothing recorded) are fetched again, and only they: the segments are
 * split around them.
 */
import type { FileHandle } from 'node:fs/promises';
import { debuglog } from 'node:util';
import type { XXHashAPI } from 'xxhash-wasm';
import type { ByteRange, Segment } from '../schedule/plan.js';
import { BLOCK_BYTES, blockEndAfter, blockOf, type BlockLedger, type Piece } from './blocks.js';

/** NODE_DEBUG=segdl names every part that failed the check. */
const debug = debuglog('segdl');

export interface ResumeCheck {
  segments: Segment[];
  /** Bytes that failed the check and will be fetched again. */
  dropped: number;
}

export async function checkResumed(
  file: FileHandle,
  segments: readonly Segment[],
  trailing: ReadonlyMap<Segment, string | undefined>,
  pieces: readonly Piece[],
  ledger: BlockLedger,
  api: XXHashAPI,
): Promise<ResumeCheck> {
  const byOffset = new Map<number, Piece[]>();
  const record = (piece: Piece) => (byOffset.get(piece.offset) ?? byOffset.set(piece.offset, []).get(piece.offset)!).push(piece);
  for (const piece of pieces) record(piece);
  // A segment's hash of its bytes in the block it was filling is a piece like any other.
  for (const segment of segments) {
    const hex = trailing.get(segment);
    const claimedEnd = segment.start + segment.done;
    if (hex === undefined || segment.done === 0 || claimedEnd % BLOCK_BYTES === 0) continue;
    const offset = Math.max(segment.start, blockOf(claimedEnd) * BLOCK_BYTES);
    record({ offset, length: claimedEnd - offset, hash: BigInt(`0x${hex}`) });
  }
  const offsets = [...byOffset.keys()].sort((a, b) => a - b);
  const bad: ByteRange[] = [];
  const buffer = Buffer.allocUnsafe(BLOCK_BYTES);
  for (const claim of union(segments.filter((s) => s.done > 0).map((s) => ({ start: s.start, end: s.start + s.done })))) {
    for (let at = claim.start; at < claim.end; ) {
      const end = Math.min(blockEndAfter(at, ledger.size), claim.end);
      const view = buffer.subarray(0, end - at);
      const { bytesRead } = await file.read(view, 0, view.length, at);
      if (bytesRead !== view.length) bad.push({ start: at, end });
      else bad.push(...tile(view, at, end, byOffset, offsets, ledger, api));
      at = end;
    }
  }
  let dropped = 0;
  for (const range of bad) {
    debug('resume check: [%d, %d) matches no recorded hash', range.start, range.end);
    dropped += range.end - range.start;
  }
  return { segments: splitAround(segments, bad), dropped };
}

/**
 * Matches the bytes `view` of [start, end) (within one block) against the recorded pieces that
 * start where the last one ended; returns the ranges nothing matched.
 */
function tile(view: Buffer, start: number, end: number, byOffset: ReadonlyMap<number, Piece[]>, offsets: readonly number[], ledger: BlockLedger, api: XXHashAPI): ByteRange[] {
  const bad: ByteRange[] = [];
  for (let at = start; at < end; ) {
    const candidates = (byOffset.get(at) ?? []).filter((p) => p.offset + p.length <= end).sort((a, b) => b.length - a.length);
    const match = candidates.find((p) => api.h64Raw(view.subarray(at - start, at - start + p.length)) === p.hash);
    if (match !== undefined) {
      ledger.restore(match);
      at += match.length;
      continue;
    }
    // Unmatched up to where the next recorded piece starts.
    const next = Math.min(end, offsets.find((o) => o > at) ?? end);
    bad.push({ start: at, end: next });
    at = next;
  }
  return bad;
}

/** Sorted, merged union of ranges. */
function union(ranges: ByteRange[]): ByteRange[] {
  const out: ByteRange[] = [];
  for (const r of ranges.sort((a, b) => a.start - b.start)) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

/** The segments with every bad range taken out of their done bytes (as segments of their own, to fetch). */
function splitAround(segments: readonly Segment[], bad: readonly ByteRange[]): Segment[] {
  const out: Segment[] = [];
  for (const segment of [...segments].sort((a, b) => a.start - b.start)) {
    const claimedEnd = segment.start + segment.done;
    let at = segment.start;
    for (const range of bad) {
      if (range.end <= at || range.start >= claimedEnd) continue;
      if (range.start > at) out.push({ start: at, end: range.start, done: range.start - at });
      out.push({ start: Math.max(at, range.start), end: Math.min(range.end, claimedEnd), done: 0 });
      at = Math.min(range.end, claimedEnd);
    }
    if (at < claimedEnd) out.push({ start: at, end: claimedEnd, done: claimedEnd - at });
    if (claimedEnd < segment.end) out.push({ start: Math.max(at, claimedEnd), end: segment.end, done: 0 });
  }
  return out;
}

/** One block's worth of memory for every read-back of the process, taken in turn. */
const readBack = { buffer: undefined as Buffer | undefined, turn: Promise.resolve() };

/** xxh64 of bytes on disk (at most a block: one two segments shared, once both wrote their parts). */
export function hashOnDisk(file: FileHandle, offset: number, length: number, api: XXHashAPI): Promise<bigint> {
  const hashed = readBack.turn.then(async () => {
    readBack.buffer ??= Buffer.allocUnsafe(BLOCK_BYTES);
    const bytes = readBack.buffer.subarray(0, length);
    const { bytesRead } = await file.read(bytes, 0, length, offset);
    if (bytesRead !== length) throw new Error(`read ${bytesRead} of ${length} bytes at ${offset}`);
    return api.h64Raw(bytes);
  });
  readBack.turn = hashed.then(
    () => undefined,
    () => undefined,
  );
  return hashed;
}
