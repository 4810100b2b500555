/**
 * The session file (`--session`): the unfinished downloads (active, waiting, paused) in queue
 * order, with their URIs and options, saved atomically on every change. At start they come back
 * and resume from their manifests. Finished and failed downloads are not kept (see README).
 * Mode 0600: it holds the URIs and headers the client gave, which may carry credentials.
 */
import { readFile } from 'node:fs/promises';
import { writeAtomic } from '../disk/atomic-write.js';
import { DownloadError } from '../errors.js';
import type { OptionSet } from './options-map.js';

const VERSION = 1;

export interface SessionDownload {
  gid: string;
  uris: string[];
  options: OptionSet;
  paused: boolean;
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function isDownload(value: unknown): value is SessionDownload {
  const d = value as Partial<SessionDownload> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.gid === 'string' &&
    isStrings(d.uris) &&
    d.uris.length > 0 &&
    typeof d.paused === 'boolean' &&
    typeof d.options === 'object' &&
    d.options !== null &&
    Object.values(d.options).every((v) => typeof v === 'string')
  );
}

export class SessionFile {
  readonly path: string;
  #writing: Promise<void> | undefined;
  #again = false;
  #snapshot: (() => SessionDownload[]) | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** The saved downloads; none if the file does not exist yet. A garbled file is refused, never overwritten. */
  async load(): Promise<SessionDownload[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new DownloadError('ERR_IO', `cannot read the session file ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    const invalid = (why: string) => new DownloadError('ERR_INVALID_OPTION', `session file ${this.path} is not a segdl session (${why}); move it away to start afresh`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw invalid('not valid JSON');
    }
    const file = parsed as { version?: unknown; downloads?: unknown } | null;
    if (typeof file !== 'object' || file === null || file.version !== VERSION || !Array.isArray(file.downloads)) throw invalid('unknown format or version');
    if (!file.downloads.every(isDownload)) throw invalid('a download entry is malformed');
    return file.downloads;
  }

  /** Saves what `snapshot` returns; saves asked for while one is being written collapse into one more. */
  save(snapshot: () => SessionDownload[]): Promise<void> {
    this.#snapshot = snapshot;
    if (this.#writing !== undefined) {
      this.#again = true;
      return this.#writing;
    }
    this.#writing = (async () => {
      try {
        do {
          this.#again = false;
          const text = `${JSON.stringify({ version: VERSION, downloads: this.#snapshot!() }, null, 1)}\n`;
          await writeAtomic(this.path, text, { fsync: false });
        } while (this.#again);
      } finally {
        this.#writing = undefined;
      }
    })();
    return this.#writing;
  }

  /** Waits for the save in progress, if any. */
  async flush(): Promise<void> {
    await this.#writing;
  }
}
