/**
 * What a batch prints: on a terminal a live block (totals, one line per running file) with
 * finished and failed files scrolling above it; otherwise a line per file start, finish and
 * failure; with --json every event of every download tagged with its `id`, `url` and `path`.
 * Human output goes to stderr, JSON to stdout.
 */
import { isAbsolute, relative } from 'node:path';
import { filenameFromUrl } from '../disk/filename.js';
import { publicUrl } from '../disk/manifest.js';
import type { Download } from '../download.js';
import { DownloadError } from '../errors.js';
import type { DownloadResult, Progress } from '../events.js';
import { formatBytes } from '../units.js';
import type { BatchView, RunningFile } from './batch-frame.js';
import { JSON_EVENTS, jsonLine, type ReportMode, type TtyFrames } from './report.js';

export type BatchFrames = TtyFrames & typeof import('./batch-frame.js');

interface FileState extends RunningFile {
  id: number;
  url: string;
  path: string | undefined;
}

export class BatchReporter {
  readonly #mode: ReportMode;
  readonly #err: NodeJS.WriteStream;
  readonly #out: NodeJS.WritableStream;
  readonly #frames: BatchFrames | undefined;
  readonly #block: InstanceType<TtyFrames['LiveBlock']> | undefined;
  readonly #running = new Map<number, FileState>();
  readonly #paths = new Map<number, string>();
  readonly #view: BatchView;

  constructor(mode: ReportMode, files: number, err: NodeJS.WriteStream, out: NodeJS.WritableStream, frames?: BatchFrames) {
    this.#mode = mode;
    this.#err = err;
    this.#out = out;
    this.#frames = frames;
    this.#block = mode === 'tty' && frames !== undefined ? new frames.LiveBlock(err) : undefined;
    this.#view = { files, done: 0, failed: 0, running: [], finishedBytes: 0, sizesKnown: false, totalBytes: 0 };
  }

  /** Follows one download's events (`id` is its queue id). */
  attach(id: number, download: Download): void {
    const file: FileState = { id, url: publicUrl(download.url), path: undefined, name: nameOf(download.url), progress: undefined };
    this.#running.set(id, file);
    this.#refresh();
    download.on('start', (s) => {
      file.path = s.path;
      this.#paths.set(id, s.path);
      file.name = s.path.split(/[/\\]/).pop() ?? file.name;
      if (s.totalBytes !== undefined) this.#view.totalBytes += s.totalBytes;
      this.#refresh();
    });
    if (this.#mode === 'json') {
      for (const event of JSON_EVENTS) download.on(event, (data: object) => this.#out.write(`${jsonLine(event, data, this.#tag(file))}\n`));
      return;
    }
    if (this.#mode === 'quiet') return;
    if (this.#mode === 'plain') {
      download.on('start', (s) => this.#line(`segdl: ${this.#label(id)} ${s.url} -> ${shown(s.path)} (${s.totalBytes === undefined ? 'size unknown' : formatBytes(s.totalBytes)})`));
    }
    download.on('warning', (w) => this.#line(`segdl: ${this.#label(id)} warning: ${w.message}`));
    download.on('retry', (r) => this.#line(`segdl: ${this.#label(id)} retry ${r.attempt} in ${Math.round(r.delayMs)} ms: ${r.message}`));
    download.on('progress', (p: Progress) => {
      file.progress = p;
      this.#draw(false);
    });
  }

  finished(id: number, result: DownloadResult): void {
    this.#settle(id);
    this.#view.done++;
    this.#view.finishedBytes += result.size;
    if (this.#mode === 'json' || this.#mode === 'quiet') return this.#refresh();
    if (result.alreadyComplete) return this.#line(`segdl: ${this.#label(id)} already complete: ${shown(result.path)} (${formatBytes(result.size)}), nothing downloaded`);
    const seconds = result.elapsedMs / 1000;
    const speed = seconds > 0 ? `, ${formatBytes(result.bytesFetched / seconds)}/s` : '';
    this.#line(`segdl: ${this.#label(id)} saved ${shown(result.path)} (${formatBytes(result.size)}) in ${seconds.toFixed(2)} s${speed}${result.resumed ? `, resumed ${formatBytes(result.size - result.bytesFetched)}` : ''}`);
  }

  failed(id: number, error: unknown): void {
    const file = this.#settle(id);
    this.#view.failed++;
    const { code, message } = describeError(error);
    if (this.#mode === 'json') {
      this.#out.write(`${JSON.stringify({ event: 'error', ...this.#tag(file), code, message })}\n`);
      return this.#refresh();
    }
    this.#line(`segdl: ${this.#label(id)} failed ${file?.url ?? ''}: ${code}: ${message}`);
  }

  /** A download stopped by Ctrl-C (its state is saved). */
  interrupted(id: number): void {
    this.#settle(id);
    this.#refresh();
  }

  /** The output path of download `id`, once it is known. */
  pathOf(id: number | undefined): string | null {
    return (id === undefined ? undefined : this.#paths.get(id)) ?? null;
  }

  /** Removes the live block before the closing lines. */
  close(): void {
    this.#block?.clear();
  }

  #tag(file: FileState | undefined): object {
    return { id: file?.id, url: file?.url, path: file?.path ?? null };
  }

  #label(id: number): string {
    return `[${id}/${this.#view.files}]`;
  }

  #settle(id: number): FileState | undefined {
    const file = this.#running.get(id);
    this.#running.delete(id);
    return file;
  }

  #refresh(): void {
    this.#draw(true);
  }

  #draw(force: boolean): void {
    if (this.#block === undefined) return;
    const view = this.#view;
    view.running = [...this.#running.values()];
    // Sizes are all known once every file has started and said its length.
    view.sizesKnown = view.running.every((f) => f.progress?.totalBytes !== undefined) && view.done + view.failed + view.running.length === view.files;
    this.#block.draw(this.#frames!.renderBatchFrame(view, this.#block.columns), force);
  }

  #line(text: string): void {
    this.#block?.clear();
    this.#err.write(`${text}\n`);
    this.#refresh();
  }
}

export function describeError(error: unknown): { code: string; message: string } {
  return {
    code: error instanceof DownloadError ? error.code : 'ERR_INTERNAL',
    message: error instanceof Error ? error.message : String(error),
  };
}

/** A path under the current directory as a relative one: a batch's lines stay short. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function nameOf(url: URL): string {
  return filenameFromUrl(url) ?? url.host;
}
