/** Pure retry policy: how long to wait before the next attempt, and whether one is allowed. */

export interface RetryOptions {
  /**
   * Attempts per segment after a failure (reset whenever an attempt made progress).
   * @default 5
   */
  attempts: number;
  /** @default 250 */
  minDelayMs: number;
  /** @default 10000 */
  maxDelayMs: number;
  /**
   * Longest `Retry-After` honoured: a server asking for more is waited on for this long, not longer.
   * @default 60000
   */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, minDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 };

/**
 * Delay before retry number `attempt` (1-based): exponential backoff with full jitter, or the
 * server's Retry-After when it asked for one (never less than it asked).
 */
export function retryDelay(attempt: number, options: RetryOptions, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = options.minDelayMs + random() * Math.max(0, ceiling - options.minDelayMs);
  if (retryAfterMs !== undefined) return Math.max(Math.min(retryAfterMs, options.maxRetryAfterMs), jittered);
  return jittered;
}

/** IMF-fixdate, obsolete RFC 850 and asctime forms: nothing else is a date here (V8's Date.parse accepts far too much). */
const HTTP_DATE = [
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/,
];

/** Parses Retry-After (delta-seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!HTTP_DATE.some((format) => format.test(trimmed))) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
