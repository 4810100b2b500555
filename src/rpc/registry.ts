/**
 * The daemon's books: every download by gid and by queue id, and the stopped ones in the order
 * they stopped (at most `maxResults`, as aria2's max-download-result; the oldest are forgotten).
 */
import type { DownloadResult, Progress, StartInfo } from '../events.js';
import type { QueuedDownload } from '../queue.js';
import type { OptionSet } from './options-map.js';
import { gidNotFound } from './rpc-error.js';

export interface Entry {
  gid: string;
  uris: string[];
  /** The download's own options (aria2 names); the effective ones are the global options merged with these. */
  options: OptionSet;
  handle: QueuedDownload;
  /** From the last start of its download (path, size). */
  info: StartInfo | undefined;
  progress: Progress | undefined;
  error: unknown;
  result: DownloadResult | undefined;
}

export type Aria2Status = 'active' | 'waiting' | 'paused' | 'error' | 'complete' | 'removed';

const STATUS: Record<QueuedDownload['state'], Aria2Status> = {
  running: 'active',
  queued: 'waiting',
  paused: 'paused',
  failed: 'error',
  done: 'complete',
  cancelled: 'removed',
};

export function statusOf(entry: Entry): Aria2Status {
  return STATUS[entry.handle.state];
}

export function isStopped(entry: Entry): boolean {
  const status = statusOf(entry);
  return status === 'error' || status === 'complete' || status === 'removed';
}

/**
 * aria2's paging: [offset, offset + num) from the front; a negative offset counts from the back
 * (-1 is the last) and the answer then runs backwards.
 */
export function page<T>(list: readonly T[], offset: number, num: number): T[] {
  if (num <= 0) return [];
  if (offset >= 0) return list.slice(offset, offset + num);
  const from = list.length + offset;
  if (from < 0) return [];
  return list.slice(Math.max(0, from - num + 1), from + 1).reverse();
}

export class Registry {
  readonly #byGid = new Map<string, Entry>();
  readonly #byId = new Map<number, Entry>();
  readonly #stopped: Entry[] = [];
  #stoppedTotal = 0;
  readonly #maxResults: number;

  constructor(maxResults: number) {
    this.#maxResults = maxResults;
  }

  has(gid: string): boolean {
    return this.#byGid.has(gid);
  }

  add(entry: Entry): void {
    this.#byGid.set(entry.gid, entry);
    this.#byId.set(entry.handle.id, entry);
  }

  get(gid: string): Entry {
    const entry = this.#byGid.get(gid);
    if (entry === undefined) throw gidNotFound(gid);
    return entry;
  }

  byId(id: number): Entry | undefined {
    return this.#byId.get(id);
  }

  /** Every download the daemon knows, in the order they were added. */
  all(): Entry[] {
    return [...this.#byGid.values()];
  }

  /** Unfinished downloads (active, waiting, paused), in the order they were added. */
  unfinished(): Entry[] {
    return this.all().filter((e) => !isStopped(e));
  }

  get stopped(): readonly Entry[] {
    return this.#stopped;
  }

  get stoppedTotal(): number {
    return this.#stoppedTotal;
  }

  /** Records a stop; returns the entries forgotten to stay within `maxResults`. */
  stop(entry: Entry): Entry[] {
    this.#stopped.push(entry);
    this.#stoppedTotal++;
    const dropped = this.#stopped.splice(0, Math.max(0, this.#stopped.length - this.#maxResults));
    for (const old of dropped) this.#forget(old);
    return dropped;
  }

  /** Forgets a stopped download; false if it is not stopped. */
  removeResult(gid: string): boolean {
    const index = this.#stopped.findIndex((e) => e.gid === gid);
    if (index < 0) return false;
    this.#forget(this.#stopped.splice(index, 1)[0]!);
    return true;
  }

  purge(): Entry[] {
    const dropped = this.#stopped.splice(0);
    for (const old of dropped) this.#forget(old);
    return dropped;
  }

  #forget(entry: Entry): void {
    this.#byGid.delete(entry.gid);
    this.#byId.delete(entry.handle.id);
  }
}
