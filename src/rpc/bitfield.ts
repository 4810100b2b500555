/**
 * aria2's piece map from segdl's segments: the file in pieces of `pieceLength` bytes, one bit per
 * piece (high bit first, in hex), set when every byte of the piece is on disk. AriaNg draws its
 * progress map from it.
 */
import type { SegmentView } from '../events.js';

/** aria2's default piece length for HTTP downloads. */
const PIECE = 1024 * 1024;
/** More pieces than this double the piece length: a status stays small (bounded work per request). */
const MAX_PIECES = 4096;

export interface PieceMap {
  pieceLength: number;
  numPieces: number;
  /** Hex, ceil(numPieces / 8) bytes; undefined when the size is unknown or zero (aria2 omits it then). */
  bitfield: string | undefined;
}

export function pieceLengthFor(size: number): number {
  let length = PIECE;
  while (Math.ceil(size / length) > MAX_PIECES) length *= 2;
  return length;
}

/** Done ranges as [start, end) from segments (each holds `done` bytes from its start). */
export function pieceMap(size: number | undefined, segments: readonly Pick<SegmentView, 'start' | 'done'>[]): PieceMap {
  if (size === undefined || size <= 0) return { pieceLength: PIECE, numPieces: 0, bitfield: undefined };
  const pieceLength = pieceLengthFor(size);
  const numPieces = Math.ceil(size / pieceLength);
  const bytes = new Uint8Array(Math.ceil(numPieces / 8));
  const done = segments
    .filter((s) => s.done > 0)
    .map((s) => [s.start, s.start + s.done] as const)
    .sort((a, b) => a[0] - b[0]);
  // Merge touching ranges so a piece that spans a seam counts when both sides have it.
  const merged: Array<[number, number]> = [];
  for (const [start, end] of done) {
    const last = merged.at(-1);
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  for (const [start, end] of merged) {
    const first = Math.ceil(start / pieceLength);
    // The last piece may be short: it is complete when the range reaches the file's end.
    const after = end >= size ? numPieces : Math.floor(end / pieceLength);
    for (let piece = first; piece < after; piece++) bytes[piece >> 3]! |= 0x80 >> (piece & 7);
  }
  return { pieceLength, numPieces, bitfield: Buffer.from(bytes).toString('hex') };
}
