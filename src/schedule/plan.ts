/**
 * Pure range planning: no I/O, no clocks. A download is a list of segments that cover
 * [0, size) exactly once; each segment knows how many bytes from its start are done.
 */

export interface Segment {
  /** First byte of the segment. */
  start: number;
  /** One past the last byte (exclusive). Shrinks when the segment is split in flight. */
  end: number;
  /** Bytes from `start` that are complete (durably written when read from a manifest). */
  done: number;
}

/** A byte range [start, end) still to fetch. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PlanOptions {
  /** How many pieces to aim for (usually the connection count). */
  connections: number;
  /** Never create a piece smaller than this (bytes). */
  minSplitSize: number;
  /** Split points fall on multiples of this (bytes), so writes stay page- and block-aligned. */
  alignment: number;
  /**
   * In a range long enough (BLOCK_ALIGNED_PIECES of them), split points fall on multiples of this
   * instead: the hash blocks' size, so that one connection writes (and hashes) each whole block.
   */
  blockAlignment?: number;
}

/** Ranges at least this many blocks long are cut on block boundaries only. */
const BLOCK_ALIGNED_PIECES = 16;

/** The alignment for cutting a range of `length` bytes. */
function alignmentFor(length: number, options: Pick<PlanOptions, 'alignment' | 'blockAlignment'>): number {
  const block = options.blockAlignment;
  return block !== undefined && length >= BLOCK_ALIGNED_PIECES * block ? block : options.alignment;
}

/** Bytes still missing from a segment. */
export function remainingOf(segment: Segment): number {
  return segment.end - segment.start - segment.done;
}

/** The missing parts of a set of segments, in file order. */
export function missingRanges(segments: readonly Segment[]): ByteRange[] {
  return [...segments]
    .sort((a, b) => a.start - b.start)
    .filter((s) => remainingOf(s) > 0)
    .map((s) => ({ start: s.start + s.done, end: s.end }));
}

/**
 * Where to cut [from, end) so the first part keeps `keepFraction` of it, aligned, or undefined
 * when either side would be smaller than `minSplitSize`.
 */
export function splitPoint(
  from: number,
  end: number,
  keepFraction: number,
  options: Pick<PlanOptions, 'minSplitSize' | 'alignment' | 'blockAlignment'>,
): number | undefined {
  const length = end - from;
  if (length < 2 * options.minSplitSize) return undefined;
  const fraction = Math.min(Math.max(keepFraction, 0), 1);
  const raw = from + Math.max(options.minSplitSize, Math.floor(length * fraction));
  const alignment = alignmentFor(length, options);
  let cut = Math.ceil(raw / alignment) * alignment;
  if (end - cut < options.minSplitSize) cut = Math.floor((end - options.minSplitSize) / alignment) * alignment;
  if (cut - from < options.minSplitSize || end - cut < options.minSplitSize) return undefined;
  return cut;
}

/**
 * Segments for a fresh download of `size` bytes: `connections` pieces of near-equal length
 * (aligned), fewer when the file is too small to give each piece `minSplitSize`.
 */
export function planSegments(size: number, options: PlanOptions): Segment[] {
  return planRanges(size === 0 ? [] : [{ start: 0, end: size }], options).map((r) => ({ ...r, done: 0 }));
}

/**
 * Cuts missing ranges into at least `connections` pieces where possible, by repeatedly halving
 * the largest piece. Used for fresh plans and for resuming with another connection count.
 */
export function planRanges(ranges: readonly ByteRange[], options: PlanOptions): ByteRange[] {
  const pieces = ranges.filter((r) => r.end > r.start).map((r) => ({ ...r }));
  if (pieces.length === 0) return pieces;
  const total = pieces.reduce((sum, r) => sum + lengthOf(r), 0);
  // Equal shares of the total rather than repeated halving, so 3 connections get thirds.
  const share = Math.max(options.minSplitSize, total / options.connections);
  const out: ByteRange[] = [];
  for (const piece of pieces) {
    const length = lengthOf(piece);
    const count = Math.max(1, Math.min(Math.round(length / share), Math.floor(length / options.minSplitSize)));
    let start = piece.start;
    for (let i = 1; i < count; i++) {
      // The aligned point at or after the ideal one, else the one before, leaving room for the pieces to come.
      const ideal = piece.start + (length * i) / count;
      const alignment = alignmentFor(length / count, options);
      const up = Math.ceil(ideal / alignment) * alignment;
      const down = Math.floor(ideal / alignment) * alignment;
      const fits = (cut: number) => cut - start >= options.minSplitSize && piece.end - cut >= options.minSplitSize * (count - i);
      const cut = [up, down].find(fits);
      if (cut === undefined) continue;
      out.push({ start, end: cut });
      start = cut;
    }
    out.push({ start, end: piece.end });
  }
  // Small leftovers (many holes from a resume) may leave fewer pieces than connections: halve the largest.
  while (out.length < options.connections) {
    let largest = 0;
    for (let i = 1; i < out.length; i++) if (lengthOf(out[i]!) > lengthOf(out[largest]!)) largest = i;
    const victim = out[largest]!;
    const cut = splitPoint(victim.start, victim.end, 0.5, options);
    if (cut === undefined) break;
    out.splice(largest, 1, { start: victim.start, end: cut }, { start: cut, end: victim.end });
  }
  return out.sort((a, b) => a.start - b.start);
}

function lengthOf(range: ByteRange): number {
  return range.end - range.start;
}

/**
 * Checks that segments tile [0, size) exactly once with sane `done` counts.
 * Returns a reason when they do not (used to refuse a corrupt manifest).
 */
export function validateSegments(segments: readonly Segment[], size: number): string | undefined {
  const sorted = [...segments].sort((a, b) => a.start - b.start);
  let expected = 0;
  for (const s of sorted) {
    if (![s.start, s.end, s.done].every(Number.isSafeInteger)) return 'non-integer segment bounds';
    if (s.start !== expected) return s.start < expected ? `segments overlap at ${s.start}` : `gap at ${expected}`;
    if (s.end <= s.start) return `empty or reversed segment at ${s.start}`;
    if (s.done < 0 || s.done > s.end - s.start) return `segment at ${s.start} claims ${s.done} bytes done`;
    expected = s.end;
  }
  if (expected !== size) return `segments end at ${expected}, file size is ${size}`;
  return undefined;
}
