/**
 * Fault knobs of the range server, their validation, and the server-wide counters that
 * turn "the first N requests" / "after N requests" into per-request decisions.
 */

/** Faults the range server can inject. Every knob is off unless set. */
export interface FaultOptions {
  /** Per-connection send rate cap in bytes/s (each TCP connection paced independently). */
  rateBytesPerSec?: number;
  /** A cap on all responses together in bytes/s (a saturated server: more connections add nothing). */
  totalRateBytesPerSec?: number;
  /** Every `every`-th accepted connection (1-based: connections every, 2*every, ...) is paced at rateBytesPerSec instead (stragglers). */
  slowConnections?: { every: number; rateBytesPerSec: number };
  /** Delay before the response headers of every request. */
  firstByteLatencyMs?: number;
  /** Destroy the socket after sending this many body bytes of a response. */
  resetAfterBytes?: number;
  /** Send this many body bytes, then stop sending but keep the socket open (a stall). */
  stallAfterBytes?: number;
  /** Answer 503 with Retry-After to the first `count` requests (GET only; HEAD unaffected unless includeHead). */
  unavailable?: { count: number; retryAfter?: string; includeHead?: boolean };
  /** More than this many concurrent connections → each extra connection's requests get 503 + Retry-After: 1 (or reset when mode 'reset'). */
  maxConnections?: number;
  /** @default '503' */
  maxConnectionsMode?: '503' | 'reset';
  /** Ignore Range headers: always 200 with the full body. Also HEAD omits Accept-Ranges. */
  ignoreRanges?: boolean;
  /** No Content-Length (chunked transfer encoding) and no range support. */
  noLength?: boolean;
  /** Send a Content-Range whose start/end is shifted by this many bytes (the body is still the requested bytes). */
  shiftContentRange?: number;
  /** Send body bytes shifted by this many bytes (Content-Range header correct: a lying server). */
  shiftBody?: number;
  /** Change the ETag (and Last-Modified) after this many GET requests (simulates the remote file changing; the body stays). */
  changeEtagAfter?: number;
  /** Use a weak ETag (W/"...") instead of a strong one. */
  weakEtag?: boolean;
  /** Ignore Range only for requests whose range starts after 0 (200 full body to a ranged request at offset > 0). */
  ignoreRangesAfterZero?: boolean;
  /** Answer a range that starts at 0 with a 200 and the whole file, still sending Accept-Ranges: bytes (as some servers and CDNs answer bytes=0-). */
  ignoreRangesAtZero?: boolean;
  /** Content-Disposition header value to send. */
  contentDisposition?: string;
  // Protocol faults (catalogue cases 1-29). Per-request use through `faultFor` is the norm.
  /** Reset the connection (RST) instead of answering. */
  resetConnection?: boolean;
  /** Answer 302 (or `redirectStatus`) to this Location; a list sends one Location header per entry. */
  redirect?: string | string[];
  /** @default 302 */
  redirectStatus?: 301 | 302 | 303 | 307 | 308;
  /**
   * Write the `redirect` answer raw, its Location as the UTF-8 bytes of its text, not percent-encoded,
   * as some servers do (curl's test 1138). Without it Node's writer refuses characters above U+00FF.
   */
  utf8Location?: boolean;
  /** Answer this status with a short text body instead of the file (a 416 also gets an unsatisfied-range Content-Range). */
  status?: number;
  /** Retry-After value sent with a `status` answer. */
  retryAfter?: string;
  /** Complete-length reported in Content-Range (206 and 416) instead of the file's size. */
  reportedSize?: number;
  /** Raw Content-Range value for a 206 or 416; false omits the header. */
  contentRange?: string | false;
  /** A 206 ends this many bytes after (or, negative, before) the requested end; headers match the body. */
  rangeEndDelta?: number;
  /** Answer a single range with a one-part multipart/byteranges body. */
  multipart?: boolean;
  /** Content-Encoding header to send with file bodies (the body is unchanged unless `gzipBody`). */
  contentEncoding?: string;
  /** Gzip the body (Content-Length is the compressed length). */
  gzipBody?: boolean;
  /** After the body, send this many 0xEE bytes the headers did not announce. */
  extraBytes?: number;
  /** Close the connection after the last body byte instead of ending the response (chunked: no zero chunk). */
  closeBeforeEnd?: boolean;
  /** Body framing, written raw for 'close' and 'chunked+length'. @default 'length' */
  framing?: 'length' | 'chunked' | 'close' | 'chunked+length';
  /** Corrupt chunked framing half way: a non-hex size line, or a size beyond 2^64. Written raw. */
  chunkFault?: 'bad-size' | 'overflow';
  /** Raw Content-Length value(s): a list sends one header line per entry. Written raw. */
  contentLength?: string | string[];
  /** Close after the complete header block, or after the headers without the blank line ending them. Written raw. */
  truncateHeaders?: 'after-headers' | 'no-final-crlf';
  /** Informational (1xx) heads sent before the final answer, e.g. [103] or [100, 103]; a 103 carries a Link and a Content-Length that must not apply to the body. Written raw. */
  interim?: number[];
  /** A Transfer-Encoding list for the body, e.g. 'gzip, chunked': a gzip coding compresses the body, chunked frames it. Written raw. */
  transferEncoding?: string;
  /** Write the answer raw without closing the connection (no Connection: close): an unframed answer then never ends. */
  keepOpen?: boolean;
  /** Ignore If-Modified-Since (answer as if it were not sent), as many servers do for ranged requests. */
  ignoreConditionals?: boolean;
}

/** A per-request override, merged over the server's faults. */
export type FaultPlan = Partial<FaultOptions>;

type Check = (value: unknown) => boolean;
const isCount: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const isPositiveInt: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 1;
const isDuration: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isRate: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isShift: Check = (v) => Number.isSafeInteger(v);
const isFlag: Check = (v) => typeof v === 'boolean';
const isHeaderText: Check = (v) => typeof v === 'string' && !/[\r\n\0]/.test(v);
const isHeaderList: Check = (v) => isHeaderText(v) || (Array.isArray(v) && v.length > 0 && v.every(isHeaderText));
const oneOf = (...values: unknown[]): Check => (v) => values.includes(v);

const CHECKS: Record<string, [Check, string]> = {
  rateBytesPerSec: [isRate, 'a positive finite number'],
  totalRateBytesPerSec: [isRate, 'a positive finite number'],
  firstByteLatencyMs: [isDuration, 'a finite number >= 0'],
  resetAfterBytes: [isCount, 'an integer >= 0'],
  stallAfterBytes: [isCount, 'an integer >= 0'],
  maxConnections: [isPositiveInt, 'an integer >= 1'],
  maxConnectionsMode: [(v) => v === '503' || v === 'reset', "'503' or 'reset'"],
  ignoreRanges: [isFlag, 'a boolean'],
  noLength: [isFlag, 'a boolean'],
  shiftContentRange: [isShift, 'an integer'],
  shiftBody: [isShift, 'an integer'],
  changeEtagAfter: [isCount, 'an integer >= 0'],
  weakEtag: [isFlag, 'a boolean'],
  ignoreRangesAfterZero: [isFlag, 'a boolean'],
  ignoreRangesAtZero: [isFlag, 'a boolean'],
  contentDisposition: [(v) => typeof v === 'string' && !/[\r\n\0]/.test(v), 'a string without CR, LF or NUL'],
  resetConnection: [isFlag, 'a boolean'],
  redirect: [isHeaderList, 'a string or a non-empty list of strings without CR, LF or NUL'],
  redirectStatus: [oneOf(301, 302, 303, 307, 308), '301, 302, 303, 307 or 308'],
  utf8Location: [isFlag, 'a boolean'],
  status: [(v) => Number.isSafeInteger(v) && (v as number) >= 200 && (v as number) <= 599, 'an integer from 200 to 599'],
  retryAfter: [isHeaderText, 'a string without CR, LF or NUL'],
  reportedSize: [isCount, 'an integer >= 0'],
  contentRange: [(v) => v === false || isHeaderText(v), 'false or a string without CR, LF or NUL'],
  rangeEndDelta: [isShift, 'an integer'],
  multipart: [isFlag, 'a boolean'],
  contentEncoding: [isHeaderText, 'a string without CR, LF or NUL'],
  gzipBody: [isFlag, 'a boolean'],
  extraBytes: [isCount, 'an integer >= 0'],
  closeBeforeEnd: [isFlag, 'a boolean'],
  framing: [oneOf('length', 'chunked', 'close', 'chunked+length'), "'length', 'chunked', 'close' or 'chunked+length'"],
  chunkFault: [oneOf('bad-size', 'overflow'), "'bad-size' or 'overflow'"],
  contentLength: [isHeaderList, 'a string or a non-empty list of strings without CR, LF or NUL'],
  truncateHeaders: [oneOf('after-headers', 'no-final-crlf'), "'after-headers' or 'no-final-crlf'"],
  interim: [(v) => Array.isArray(v) && v.length > 0 && v.every((s) => Number.isSafeInteger(s) && s >= 100 && s <= 199), 'a non-empty list of 1xx statuses'],
  transferEncoding: [isHeaderText, 'a string without CR, LF or NUL'],
  keepOpen: [isFlag, 'a boolean'],
  ignoreConditionals: [isFlag, 'a boolean'],
  'slowConnections.every': [isPositiveInt, 'an integer >= 1'],
  'slowConnections.rateBytesPerSec': [isRate, 'a positive finite number'],
  'unavailable.count': [isCount, 'an integer >= 0'],
  'unavailable.retryAfter': [(v) => typeof v === 'string' && !/[\r\n\0]/.test(v), 'a string without CR, LF or NUL'],
  'unavailable.includeHead': [isFlag, 'a boolean'],
};

/** Throws a TypeError naming the first bad knob, so a typo fails loudly instead of injecting nothing. */
export function validateFaults(faults: FaultPlan): void {
  for (const [key, value] of Object.entries(faults)) {
    if (value === undefined) continue;
    if (key === 'slowConnections' || key === 'unavailable') {
      if (typeof value !== 'object' || value === null) fail(key, 'an object', value);
      for (const [sub, subValue] of Object.entries(value as object)) {
        if (subValue !== undefined) check(`${key}.${sub}`, subValue);
      }
      const required = key === 'slowConnections' ? ['every', 'rateBytesPerSec'] : ['count'];
      for (const sub of required) check(`${key}.${sub}`, (value as Record<string, unknown>)[sub]);
    } else {
      check(key, value);
    }
  }
}

function check(key: string, value: unknown): void {
  const rule = CHECKS[key];
  if (!rule) throw new TypeError(`Unknown fault option \`${key}\``);
  if (!rule[0](value)) fail(key, rule[1], value);
}

function fail(key: string, expected: string, value: unknown): never {
  throw new TypeError(`Expected fault \`${key}\` to be ${expected}, got ${String(value)}`);
}

/** The send rate of a connection under `faults`, or undefined for "as fast as possible". */
export function rateFor(faults: FaultPlan, connection: number): number | undefined {
  const slow = faults.slowConnections;
  if (slow && connection % slow.every === 0) return slow.rateBytesPerSec;
  return faults.rateBytesPerSec;
}

/**
 * Server-wide fault state. `setFaults` starts a new epoch: counters restart, but an ETag
 * change that already happened stays (the "remote file" does not change back).
 */
export class FaultState {
  #faults: FaultOptions;
  #unavailableSent = 0;
  #getsSeen = 0;
  #generation = 0;

  constructor(faults: FaultOptions) {
    validateFaults(faults);
    this.#faults = { ...faults };
  }

  get faults(): FaultOptions {
    return this.#faults;
  }

  replace(faults: FaultOptions): void {
    validateFaults(faults);
    this.#generation = this.#currentGeneration(this.#faults);
    this.#faults = { ...faults };
    this.#unavailableSent = 0;
    this.#getsSeen = 0;
  }

  /** Whether this request gets the `unavailable` 503; consumes one of the `count` when it does. */
  takeUnavailable(plan: FaultPlan, method: string): boolean {
    const u = plan.unavailable;
    if (!u || (method !== 'GET' && !(u.includeHead && method === 'HEAD'))) return false;
    if (this.#unavailableSent >= u.count) return false;
    this.#unavailableSent++;
    return true;
  }

  /** The validator generation for a response that carries validators; counts GETs for `changeEtagAfter`. */
  generationFor(plan: FaultPlan, method: string): number {
    const generation = this.#currentGeneration(plan);
    if (method === 'GET') this.#getsSeen++;
    return generation;
  }

  #currentGeneration(plan: FaultPlan): number {
    const after = plan.changeEtagAfter;
    return this.#generation + (after !== undefined && this.#getsSeen >= after ? 1 : 0);
  }
}
