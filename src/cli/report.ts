/**
 * What the CLI prints while a download runs: a live block on a TTY, sparse plain lines
 * otherwise, JSON lines with --json (on stdout), nothing but errors with --quiet. Human output
 * goes to stderr, so piping segdl never mixes progress into data.
 */
import type { Download } from '../download.js';
import type { DownloadResult, Progress } from '../events.js';
import { formatBytes, formatDuration } from '../units.js';

/** The live-frame module, loaded only when stderr is a terminal. */
export type TtyFrames = typeof import('./frame.js');

export type ReportMode = 'tty' | 'plain' | 'json' | 'quiet';

export interface Reporter {
  /** Removes the live block before a final message. */
  close(): void;
}

function progressLine(p: Progress): string {
  const total = p.totalBytes;
  const parts = [
    total ? `${String(Math.floor((p.transferredBytes / total) * 100)).padStart(3)}%` : '',
    `${formatBytes(p.transferredBytes)}${total ? ` / ${formatBytes(total)}` : ''}`,
    `${formatBytes(p.bytesPerSecond)}/s`,
    p.etaMs === undefined ? 'ETA --' : `ETA ${formatDuration(p.etaMs)}`,
    `${p.segments.filter((s) => s.active).length} conn`,
  ].filter((part) => part !== '');
  if (p.resumedBytes > 0) parts.push(`resumed ${formatBytes(p.resumedBytes)}`);
  return parts.join('  ');
}

/** The events --json prints, in the README's order. */
export const JSON_EVENTS = ['start', 'progress', 'segment', 'retry', 'warning', 'resume', 'restart', 'done'] as const;

/**
 * The --json line for an event: `{"event": name, ...tag, ...fields}` (`tag` says which download
 * in a batch); progress carries counts, not segment lists.
 */
export function jsonLine(event: string, data: object, tag: object = {}): string {
  if (event === 'progress') {
    const p = data as Progress;
    const { segments, ...rest } = p;
    return JSON.stringify({ event, ...tag, ...rest, segments: segments.length, activeConnections: segments.filter((s) => s.active).length });
  }
  return JSON.stringify({ event, ...tag, ...data });
}

export function attachReporter(download: Download, mode: ReportMode, err: NodeJS.WriteStream, out: NodeJS.WritableStream, frames?: TtyFrames): Reporter {
  if (mode === 'json') {
    for (const event of JSON_EVENTS) {
      download.on(event, (data: object) => out.write(`${jsonLine(event, data)}\n`));
    }
    return { close() {} };
  }
  if (mode === 'quiet') return { close() {} };
  const block = mode === 'tty' && frames !== undefined ? new frames.LiveBlock(err) : undefined;
  let last: Progress | undefined;
  const line = (text: string) => {
    block?.clear();
    err.write(`${text}\n`);
    if (block && last) block.draw(frames!.renderFrame(last, block.columns), true);
  };
  download.on('start', (s) =>
    line(`segdl: ${s.url} -> ${s.path} (${s.totalBytes === undefined ? 'size unknown' : formatBytes(s.totalBytes)}, up to ${s.connections} connection${s.connections === 1 ? '' : 's'})`),
  );
  download.on('warning', (w) => line(`segdl: warning: ${w.message}`));
  download.on('resume', (r) => line(`segdl: resuming: ${formatBytes(r.resumedBytes)} of ${formatBytes(r.totalBytes)} already on disk`));
  download.on('retry', (r) => line(`segdl: retry ${r.attempt} in ${Math.round(r.delayMs)} ms: ${r.message}`));
  let lastTenth = -1;
  download.on('progress', (p) => {
    last = p;
    if (block) {
      block.draw(frames!.renderFrame(p, block.columns));
      return;
    }
    const tenth = p.totalBytes ? Math.floor((p.transferredBytes / p.totalBytes) * 10) : -1;
    if (tenth > lastTenth) {
      lastTenth = tenth;
      line(`segdl: ${progressLine(p)}`);
    }
  });
  return { close: () => block?.clear() };
}

export function resultLine(result: DownloadResult): string {
  if (result.alreadyComplete) return `segdl: already complete: ${result.path} (${formatBytes(result.size)}) is the remote's current file, nothing downloaded`;
  const seconds = result.elapsedMs / 1000;
  const speed = seconds > 0 ? result.bytesFetched / seconds : 0;
  return (
    `segdl: ${result.path === '-' ? 'streamed to stdout' : `saved ${result.path}`} (${formatBytes(result.size)}) in ${seconds.toFixed(2)} s, ${formatBytes(speed)}/s, ` +
    `${result.connectionsUsed} connections, fetched ${formatBytes(result.bytesFetched)}` +
    `${result.resumed ? `, resumed ${formatBytes(result.size - result.bytesFetched)}` : ''}, verified ${result.verifyMs} ms after the last byte, xxh64blocks ${result.digest.xxh64blocks}`
  );
}
