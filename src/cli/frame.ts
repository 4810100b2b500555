/**
 * One frame of the live progress block (pure: progress in, lines out). Line 1: totals. Line 2:
 * a map of the file, one cell per slice ('█' on disk, '▓' being fetched, '·' missing), so steals
 * and resumed parts are visible. Then one line per working connection: where in the file its
 * segment is, how far it got, its speed.
 */
import type { Progress, SegmentView } from '../events.js';
import { formatBytes, formatDuration } from '../units.js';

const MAX_CONNECTION_LINES = 16;
const DEFAULT_COLUMNS = 80;

export function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/** A cell is done if every byte in its slice is on disk, active if a working segment touches it. */
export function fileMap(segments: readonly SegmentView[], total: number, width: number): string {
  if (total <= 0 || width <= 0) return '';
  const cells: string[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * total) / width);
    const to = Math.max(from + 1, Math.floor(((i + 1) * total) / width));
    let done = true;
    let active = false;
    for (const s of segments) {
      if (s.end <= from || s.start >= to) continue;
      const doneEnd = s.start + s.done;
      if (doneEnd < Math.min(to, s.end)) done = false;
      if (s.active) active = true;
    }
    cells.push(done ? '█' : active ? '▓' : '·');
  }
  return cells.join('');
}

export function fit(line: string, columns: number): string {
  return [...line].slice(0, Math.max(1, columns)).join('');
}

export function renderFrame(p: Progress, columns: number): string[] {
  const total = p.totalBytes;
  const width = Math.max(10, Math.min(60, columns - 2));
  const speed = `${formatBytes(p.bytesPerSecond)}/s`;
  const eta = p.etaMs === undefined ? 'ETA --' : `ETA ${formatDuration(p.etaMs)}`;
  const active = p.segments.filter((s) => s.active);
  const head = total
    ? `${bar(p.transferredBytes / total, 20)} ${String(Math.floor((p.transferredBytes / total) * 100)).padStart(3)}%  ${formatBytes(p.transferredBytes)} / ${formatBytes(total)}`
    : formatBytes(p.transferredBytes);
  const lines = [`${head}  ${speed}  ${eta}  ${active.length} conn${p.resumedBytes > 0 ? `  resumed ${formatBytes(p.resumedBytes)}` : ''}`];
  if (total) lines.push(`[${fileMap(p.segments, total, width)}]`);
  active
    .sort((a, b) => a.start - b.start)
    .slice(0, MAX_CONNECTION_LINES)
    .forEach((s, i) => {
      const length = s.end - s.start;
      const at = total ? `@${((s.start / total) * 100).toFixed(1).padStart(5)}%` : `@${formatBytes(s.start)}`;
      lines.push(`  #${String(i + 1).padStart(2)} ${at} ${bar(length > 0 ? s.done / length : 1, 10)} ${formatBytes(s.done).padStart(9)} / ${formatBytes(length).padEnd(9)} ${formatBytes(s.bytesPerSecond)}/s`);
    });
  if (active.length > MAX_CONNECTION_LINES) lines.push(`  … ${active.length - MAX_CONNECTION_LINES} more connections`);
  return lines.map((line) => fit(line, columns));
}

/** Redraws a block of lines in place on a terminal, at most every `minIntervalMs`. */
export class LiveBlock {
  readonly #out: NodeJS.WritableStream & { columns?: number | undefined };
  readonly #minIntervalMs: number;
  #lines = 0;
  #lastDraw = 0;

  constructor(out: NodeJS.WritableStream & { columns?: number | undefined }, minIntervalMs = 100) {
    this.#out = out;
    this.#minIntervalMs = minIntervalMs;
  }

  /** The terminal's width; 80 when it reports none (a pty with no size, as under `script` or `docker run -t`, says 0). */
  get columns(): number {
    const columns = this.#out.columns;
    return columns !== undefined && Number.isInteger(columns) && columns > 0 ? columns : DEFAULT_COLUMNS;
  }

  draw(lines: readonly string[], force = false): void {
    const now = Date.now();
    if (!force && now - this.#lastDraw < this.#minIntervalMs) return;
    this.#lastDraw = now;
    // Up to the block's first line, then rewrite every line (clearing leftovers of longer ones).
    let text = this.#lines > 1 ? `\x1b[${this.#lines - 1}A\r` : '\r';
    const count = Math.max(lines.length, this.#lines);
    for (let i = 0; i < count; i++) text += `\x1b[2K${lines[i] ?? ''}${i < count - 1 ? '\n' : ''}`;
    this.#out.write(text);
    this.#lines = count;
  }

  /** Removes the block, leaving the cursor where it started. */
  clear(): void {
    if (this.#lines === 0) return;
    let text = this.#lines > 1 ? `\x1b[${this.#lines - 1}A\r` : '\r';
    for (let i = 0; i < this.#lines; i++) text += `\x1b[2K${i < this.#lines - 1 ? '\n' : ''}`;
    text += this.#lines > 1 ? `\x1b[${this.#lines - 1}A\r` : '\r';
    this.#out.write(text);
    this.#lines = 0;
  }
}
