/** Pure parsing of the headers that gate a ranged response (RFC 9110 §14.4, §8.6). */

export type ContentRange =
  | { kind: 'range'; start: number; end: number; total: number | undefined }
  | { kind: 'unsatisfied'; total: number };

const RANGE_RE = /^bytes[ \t]+(\d+)-(\d+)\/(\d+|\*)$/i;
const UNSATISFIED_RE = /^bytes[ \t]+\*\/(\d+)$/i;

/** Parses `Content-Range`; undefined when it is malformed (wrong unit, last < first, total ≤ last). */
export function parseContentRange(value: string | undefined): ContentRange | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const unsatisfied = UNSATISFIED_RE.exec(text);
  if (unsatisfied) {
    const total = toSafeInt(unsatisfied[1]);
    return total === undefined ? undefined : { kind: 'unsatisfied', total };
  }
  const match = RANGE_RE.exec(text);
  if (!match) return undefined;
  const start = toSafeInt(match[1]);
  const end = toSafeInt(match[2]);
  const total = match[3] === '*' ? undefined : toSafeInt(match[3]);
  if (start === undefined || end === undefined || end < start) return undefined;
  if (match[3] !== '*' && (total === undefined || total <= end)) return undefined;
  return { kind: 'range', start, end, total };
}

/**
 * Parses `Content-Length`; undefined when absent. Returns NaN when present but unusable
 * (non-numeric, negative, conflicting duplicates, beyond 2^53-1) so callers can reject it.
 */
export function parseContentLength(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  // Duplicates arrive as an array or as a comma list; identical values are allowed (RFC 9110 §8.6).
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim());
  const first = parts[0];
  if (first === undefined || parts.some((p) => p !== first) || !/^\d+$/.test(first)) return Number.NaN;
  const n = Number(first);
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

/** `Range` header value for the inclusive byte range [start, last]. */
export function rangeHeader(start: number, last: number): string {
  return `bytes=${start}-${last}`;
}

function toSafeInt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
