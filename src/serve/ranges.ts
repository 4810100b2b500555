/**
 * Pure parsing of the request side of RFC 9110 range requests (§14.1.2 Range, §13.1.5 If-Range).
 * No I/O: the server hands in the representation's size and validators.
 */

/** What a `Range` header asks of a representation of a known size. */
export type RangeRequest =
  /** No Range header, or one the server must ignore (unknown unit, bad syntax). */
  | { kind: 'none' }
  /** One satisfiable range, clamped to the representation; `end` is inclusive. */
  | { kind: 'single'; start: number; end: number }
  /** Several ranges: answered with the full representation (a valid, simple choice). */
  | { kind: 'multiple' }
  /** Syntactically valid but no byte of it exists: 416. */
  | { kind: 'unsatisfiable' };

const DIGITS = /^\d+$/;

/**
 * Parses a `Range` header against a representation of `size` bytes.
 * Syntax errors yield `none` because RFC 9110 §14.2 lets (and in effect requires) a server
 * to ignore a Range it cannot parse and answer 200.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'none' };
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'none' };

  // range-set is a 1#list: empty elements are allowed and ignored (RFC 9110 §5.6.1).
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0) return { kind: 'none' };

  const parsed: Array<{ start: number; end: number } | null> = [];
  for (const spec of specs) {
    const range = parseSpec(spec, size);
    if (range === 'invalid') return { kind: 'none' };
    parsed.push(range);
  }
  if (parsed.length > 1) {
    return parsed.some((r) => r !== null) ? { kind: 'multiple' } : { kind: 'unsatisfiable' };
  }
  const only = parsed[0];
  return only ? { kind: 'single', ...only } : { kind: 'unsatisfiable' };
}

/** One range-spec: a clamped range, `null` when unsatisfiable, or 'invalid' syntax. */
function parseSpec(spec: string, size: number): { start: number; end: number } | null | 'invalid' {
  const dash = spec.indexOf('-');
  if (dash < 0) return 'invalid';
  const first = spec.slice(0, dash).trim();
  const last = spec.slice(dash + 1).trim();

  if (first === '') {
    // suffix-range "-n": the last n bytes; "-0" selects nothing.
    if (!DIGITS.test(last)) return 'invalid';
    const n = Number(last);
    if (n === 0 || size === 0) return null;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  if (!DIGITS.test(first) || (last !== '' && !DIGITS.test(last))) return 'invalid';
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  if (end < start) return 'invalid';
  if (start >= size) return null;
  return { start, end: Math.min(end, size - 1) };
}

/** The current validators of a representation, as sent in ETag and Last-Modified. */
export interface Validators {
  etag: string;
  lastModified: string;
}

/**
 * Whether an `If-Range` precondition holds, i.e. the Range may be honoured (RFC 9110 §13.1.5).
 * An entity-tag matches only by strong comparison (neither side weak); a date only when it
 * equals Last-Modified exactly. Anything else means "send the whole representation".
 */
export function ifRangeHolds(ifRange: string | undefined, current: Validators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    return !value.startsWith('W/') && !current.etag.startsWith('W/') && value === current.etag;
  }
  const date = Date.parse(value);
  return !Number.isNaN(date) && date === Date.parse(current.lastModified);
}

/** `Content-Range` value for a satisfied range (`end` inclusive). */
/**
 * If-Modified-Since (RFC 9110 §13.1.3): true when the file has not changed since that date, so the
 * answer is 304. Ignored when If-None-Match is sent, or when the date cannot be read.
 */
export function notModifiedSince(ifModifiedSince: string | undefined, ifNoneMatch: string | undefined, current: Validators): boolean {
  if (ifModifiedSince === undefined || ifNoneMatch !== undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && Date.parse(current.lastModified) <= since;
}

export function contentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}

/** `Content-Range` value for a 416 response. */
export function unsatisfiedRange(size: number): string {
  return `bytes */${size}`;
}
