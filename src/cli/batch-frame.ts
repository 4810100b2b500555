/**
 * The live block of a batch on a terminal (pure: state in, lines out): a totals line, then one
 * line per running file with its name, bar, size, speed and ETA. Finished and failed files are
 * printed above the block by the reporter, so they scroll away.
 */
import type { Progress } from '../events.js';
import { formatBytes, formatDuration } from '../units.js';
import { bar, fit } from './frame.js';

export interface RunningFile {
  name: string;
  progress: Progress | undefined;
}

export interface BatchView {
  files: number;
  done: number;
  failed: number;
  running: RunningFile[];
  /** Bytes of the files already finished in this run. */
  finishedBytes: number;
  /** Whether every file's size is known (all started, none without a length). */
  sizesKnown: boolean;
  /** Sum of the sizes known so far. */
  totalBytes: number;
}

const MAX_FILE_LINES = 20;

export function renderBatchFrame(view: BatchView, columns: number): string[] {
  let transferred = view.finishedBytes;
  let speed = 0;
  for (const file of view.running) {
    transferred += file.progress?.transferredBytes ?? 0;
    speed += file.progress?.bytesPerSecond ?? 0;
  }
  const eta = view.sizesKnown && speed > 0 ? `ETA ${formatDuration(((view.totalBytes - transferred) / speed) * 1000)}` : 'ETA --';
  const counts = [`${view.done}/${view.files} done`, ...(view.failed > 0 ? [`${view.failed} failed`] : []), `${view.running.length} running`].join(', ');
  const size = view.sizesKnown ? `${formatBytes(transferred)} / ${formatBytes(view.totalBytes)}` : formatBytes(transferred);
  const lines = [`${counts}  ${size}  ${formatBytes(speed)}/s  ${eta}`];
  const nameWidth = Math.max(12, Math.min(32, Math.floor(columns / 3)));
  for (const file of view.running.slice(0, MAX_FILE_LINES)) lines.push(`  ${fileLine(file, nameWidth)}`);
  if (view.running.length > MAX_FILE_LINES) lines.push(`  … ${view.running.length - MAX_FILE_LINES} more running`);
  return lines.map((line) => fit(line, columns));
}

function fileLine(file: RunningFile, width: number): string {
  const name = shorten(file.name, width).padEnd(width);
  const p = file.progress;
  if (p === undefined) return `${name}  starting`;
  const total = p.totalBytes;
  const fraction = total ? p.transferredBytes / total : 0;
  const head = total ? `${bar(fraction, 12)} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatBytes(p.transferredBytes)} / ${formatBytes(total)}` : formatBytes(p.transferredBytes);
  return `${name}  ${head}  ${formatBytes(p.bytesPerSecond)}/s  ${p.etaMs === undefined ? 'ETA --' : `ETA ${formatDuration(p.etaMs)}`}`;
}

/** Keeps the end of a long name (the extension tells most), marking the cut. */
function shorten(name: string, width: number): string {
  const chars = [...name];
  return chars.length <= width ? name : `…${chars.slice(chars.length - width + 1).join('')}`;
}
