/**
 * What the CLI prints while a download runs: a live bar on a TTY, sparse plain lines
 * otherwise, JSON lines with --json, nothing but errors with --quiet. Output goes to stderr
 * (stdout carries only --json), so piping segdl never mixes progress into data.
 */
import type { Download } from '../download.js';
import type { DownloadResult, Progress } from '../events.js';
import { formatBytes, formatDuration } from './units.js';

export type ReportMode = 'tty' | 'plain' | 'json' | 'quiet';

export interface Reporter {
  /** Clears any live line before a final message. */
  close(): void;
}

const BAR_WIDTH = 24;

function bar(fraction: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

export function progressLine(p: Progress): string {
  const total = p.totalBytes;
  const percent = total ? Math.floor((p.transferredBytes / total) * 100) : undefined;
  const active = p.segments.filter((s) => s.active).length;
  const parts = [
    total ? `${bar(p.transferredBytes / total)} ${String(percent).padStart(3)}%` : formatBytes(p.transferredBytes),
    `${formatBytes(p.transferredBytes)}${total ? ` / ${formatBytes(total)}` : ''}`,
    `${formatBytes(p.bytesPerSecond)}/s`,
    p.etaMs === undefined ? 'ETA --' : `ETA ${formatDuration(p.etaMs)}`,
    `${active} conn`,
  ];
  if (p.resumedBytes > 0) parts.push(`resumed ${formatBytes(p.resumedBytes)}`);
  return parts.join('  ');
}

export function attachReporter(download: Download, mode: ReportMode, err: NodeJS.WriteStream, out: NodeJS.WriteStream): Reporter {
  let live = false;
  let lastTenth = -1;
  const clearLive = () => {
    if (live) err.write('\r\x1b[2K');
    live = false;
  };
  const line = (text: string) => {
    clearLive();
    err.write(`${text}\n`);
  };
  if (mode === 'json') {
    const emit = (event: string, data: unknown) => out.write(`${JSON.stringify({ event, ...(data as object) })}\n`);
    download.on('progress', (p) => emit('progress', { ...p, segments: p.segments.length }));
    download.on('retry', (r) => emit('retry', r));
    download.on('warning', (w) => emit('warning', w));
    download.on('resume', (r) => emit('resume', r));
    download.on('restart', (r) => emit('restart', r));
    download.on('done', (r) => emit('done', r));
    return { close() {} };
  }
  if (mode === 'quiet') return { close() {} };
  download.on('warning', (w) => line(`segdl: warning: ${w.message}`));
  download.on('resume', (r) => line(`segdl: resuming: ${formatBytes(r.resumedBytes)} of ${formatBytes(r.totalBytes)} already on disk`));
  download.on('retry', (r) => line(`segdl: retry ${r.attempt} in ${Math.round(r.delayMs)} ms: ${r.message}`));
  download.on('progress', (p) => {
    if (mode === 'tty') {
      err.write(`\r\x1b[2K${progressLine(p)}`);
      live = true;
      return;
    }
    const tenth = p.totalBytes ? Math.floor((p.transferredBytes / p.totalBytes) * 10) : -1;
    if (tenth > lastTenth) {
      lastTenth = tenth;
      line(progressLine(p));
    }
  });
  return { close: clearLive };
}

export function resultLine(result: DownloadResult): string {
  const seconds = result.elapsedMs / 1000;
  const speed = seconds > 0 ? result.bytesFetched / seconds : 0;
  return (
    `segdl: saved ${result.path} (${formatBytes(result.size)}) in ${seconds.toFixed(2)} s, ${formatBytes(speed)}/s, ` +
    `${result.connectionsUsed} connections, fetched ${formatBytes(result.bytesFetched)}` +
    `${result.resumed ? `, resumed ${formatBytes(result.size - result.bytesFetched)}` : ''}, xxh64 ${result.digest.xxh64}`
  );
}
