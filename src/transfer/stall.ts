/**
 * Stall detection for one request: within every window, a connection must deliver at least
 * `minBytesPerSec × window` (curl's --speed-limit/--speed-time). A dead connection and a
 * slowloris trickle are both cut well before undici's 300 s body timeout.
 */
import { DownloadError } from '../errors.js';

export interface StallPolicy {
  /** Length of the window (ms). */
  windowMs: number;
  /** Least average throughput over a window (bytes/s); 0 means "any byte at all". */
  minBytesPerSec: number;
}

/** Calls `abort` with ERR_STALLED once `progress()` grows too little over a window. Returns a stop function. */
export function watchStall(policy: StallPolicy, progress: () => number, abort: (error: DownloadError) => void, url: string): () => void {
  const tick = Math.min(1000, Math.max(25, policy.windowMs / 8));
  const samples: Array<{ at: number; bytes: number }> = [{ at: Date.now(), bytes: progress() }];
  const floor = Math.max(1, (policy.minBytesPerSec * policy.windowMs) / 1000);
  const timer = setInterval(() => {
    const now = Date.now();
    const bytes = progress();
    samples.push({ at: now, bytes });
    // Keep the newest sample that is at least a window old as the baseline.
    while (samples.length > 2 && now - samples[1]!.at >= policy.windowMs) samples.shift();
    const base = samples[0]!;
    if (now - base.at >= policy.windowMs && bytes - base.bytes < floor) {
      clearInterval(timer);
      const rate = ((bytes - base.bytes) * 1000) / (now - base.at);
      abort(
        new DownloadError(
          'ERR_STALLED',
          bytes === base.bytes ? `no data for ${policy.windowMs} ms` : `only ${rate.toFixed(0)} B/s over ${policy.windowMs} ms (floor ${policy.minBytesPerSec} B/s)`,
          { url },
        ),
      );
    }
  }, tick);
  timer.unref();
  return () => clearInterval(timer);
}
