/**
 * How many connections a download opens once its first response shows the link. A new connection
 * waits a first-byte time (handshake and server latency, as the first request measured) before it
 * adds a byte, so it is worth opening only if its share of what is left takes clearly longer than
 * that: a 1 MiB file on a fast link stays one request on one connection, a slow link gets many.
 * Pure: measurements in, a count out.
 */

/** A connection's share must take at least this many first-byte times. */
export const WORTH_FACTOR = 2;

export interface WorthInput {
  /** Bytes still to fetch. */
  remainingBytes: number;
  /** What the first connection delivers per second (0 when nothing is known yet). */
  bytesPerSecond: number;
  /** The first request's time to its response head, connection set-up included. */
  firstByteMs: number;
  /** The most connections allowed. */
  max: number;
  /** No share smaller than this. */
  minSplitSize: number;
}

export function connectionsWorthOpening(input: WorthInput): number {
  const byPieces = Math.max(1, Math.floor(input.remainingBytes / input.minSplitSize));
  const cap = Math.min(input.max, byPieces);
  if (input.bytesPerSecond <= 0) return cap;
  const aloneMs = (input.remainingBytes * 1000) / input.bytesPerSecond;
  const worth = Math.floor(aloneMs / (WORTH_FACTOR * Math.max(1, input.firstByteMs)));
  return Math.max(1, Math.min(cap, worth));
}
