/**
 * Many downloads under one connection budget (global and per host) and, optionally, one
 * bandwidth cap. Each `add` returns the download's result promise, with controls attached.
 * Slots freed by one download (finished, paused, throttled) flow to the others at once.
 */
import { EventEmitter } from 'node:events';
import { ConnectionBudget } from './schedule/connection-budget.js';
import { Download } from './download.js';
import { DownloadError } from './errors.js';
import type { DownloadResult, Progress } from './events.js';
import type { DownloadOptions } from './options.js';
import { RateLimiter } from './transfer/rate-limit.js';

export interface QueueOptions {
  /** Requests in flight across all downloads. @default 16 */
  maxConnections?: number;
  /** Requests in flight (and so sockets in use) per host. @default 8 */
  maxConnectionsPerHost?: number;
  /** Bandwidth cap for the whole queue in bytes/s; `queue.maxSpeed` changes it. @default no limit */
  maxSpeed?: number;
  /** Aborting it cancels everything. */
  signal?: AbortSignal;
}

export interface QueueItemOptions extends DownloadOptions {
  /** Higher runs first when connections are scarce. @default 0 */
  priority?: number;
}

export type ItemState = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled';

/** The promise of one download's result, with its controls. */
export interface QueuedDownload extends Promise<DownloadResult> {
  readonly id: number;
  readonly url: string;
  readonly state: ItemState;
  /** Stops it (state saved) until `resume()`; its connections go to the others. */
  pause(): void;
  resume(): void;
  /** Stops it for good: the promise rejects with ERR_ABORTED (the partial stays resumable). */
  cancel(): void;
}

export interface QueueProgress {
  transferredBytes: number;
  totalBytes: number | undefined;
  bytesPerSecond: number;
  running: number;
  queued: number;
  done: number;
}

export interface QueueEvents {
  /** One item's progress, tagged with its id. */
  progress: [{ id: number; progress: Progress }];
  /** All items together (after every item progress event). */
  aggregate: [QueueProgress];
  done: [{ id: number; result: DownloadResult }];
  failed: [{ id: number; error: unknown }];
  /** A Download was created for an item (again after each pause): listen to its own events here. */
  download: [{ id: number; download: Download }];
  idle: [];
}

const PAUSE = Symbol('pause');

interface Item {
  id: number;
  url: string;
  options: QueueItemOptions;
  state: ItemState;
  download: Download | undefined;
  last: Progress | undefined;
  resumeWaiter: (() => void) | undefined;
}

export class DownloadQueue extends EventEmitter<QueueEvents> {
  readonly #budget: ConnectionBudget;
  readonly #limiter: RateLimiter;
  readonly #items: Item[] = [];
  readonly #settled = new Set<Promise<unknown>>();
  readonly #signal: AbortSignal | undefined;
  #nextId = 1;

  constructor(options: QueueOptions = {}) {
    super();
    const max = options.maxConnections ?? 16;
    const perHost = options.maxConnectionsPerHost ?? 8;
    for (const [name, value] of [['maxConnections', max], ['maxConnectionsPerHost', perHost]] as const) {
      if (!Number.isInteger(value) || value < 1 || value > 1024) {
        throw new DownloadError('ERR_INVALID_OPTION', `Expected \`${name}\` to be an integer from 1 to 1024, got ${String(value)}`);
      }
    }
    this.#budget = new ConnectionBudget(max, perHost);
    this.#limiter = new RateLimiter(options.maxSpeed ?? Number.POSITIVE_INFINITY);
    this.#signal = options.signal;
    this.#signal?.addEventListener('abort', () => this.cancel(), { once: true });
  }

  get maxSpeed(): number {
    return this.#limiter.bytesPerSecond;
  }

  set maxSpeed(bytesPerSecond: number) {
    this.#limiter.bytesPerSecond = bytesPerSecond;
  }

  /** Requests in flight right now (all hosts). */
  get connectionsInUse(): number {
    return this.#budget.inUse;
  }

  add(url: string, options: QueueItemOptions = {}): QueuedDownload {
    const item: Item = { id: this.#nextId++, url, options, state: 'queued', download: undefined, last: undefined, resumeWaiter: undefined };
    this.#items.push(item);
    const promise = this.#run(item);
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.#settled.add(settled);
    void settled.finally(() => {
      this.#settled.delete(settled);
      if (this.#settled.size === 0) this.emit('idle');
    });
    // defineProperties, not Object.assign: `state` must stay a live getter.
    return Object.defineProperties(promise, {
      id: { value: item.id },
      url: { value: url },
      state: { get: () => item.state },
      pause: { value: () => this.#pause(item) },
      resume: { value: () => this.#resume(item) },
      cancel: { value: () => this.#cancel(item) },
    }) as QueuedDownload;
  }

  pause(): void {
    for (const item of this.#items) this.#pause(item);
  }

  resume(): void {
    for (const item of this.#items) this.#resume(item);
  }

  cancel(): void {
    for (const item of this.#items) this.#cancel(item);
  }

  /** Resolves when every item added so far has finished, failed or been cancelled. */
  async onIdle(): Promise<void> {
    while (this.#settled.size > 0) await Promise.all([...this.#settled]);
  }

  /** Cancels what is left and waits for it to stop. Sockets stay in the process-wide pool (idle ones never keep the process alive). */
  async close(): Promise<void> {
    this.cancel();
    await this.onIdle();
  }

  async #run(item: Item): Promise<DownloadResult> {
    for (;;) {
      if (item.state === 'paused') await new Promise<void>((resolve) => (item.resumeWaiter = resolve));
      if (item.state === 'cancelled') throw new DownloadError('ERR_ABORTED', 'download cancelled');
      const { priority = 0, ...options } = item.options;
      // Every download shares the process-wide keep-alive pool; the budget keeps a host's requests, and so its sockets, within its cap.
      const download = new Download(item.url, options);
      download.shareBudget(this.#budget, priority);
      download.shareLimiter(this.#limiter);
      download.on('progress', (progress) => {
        item.last = progress;
        this.emit('progress', { id: item.id, progress });
        this.emit('aggregate', this.#aggregate());
      });
      item.download = download;
      item.state = 'running';
      this.emit('download', { id: item.id, download });
      try {
        const result = await download.start();
        item.state = 'done';
        this.emit('done', { id: item.id, result });
        return result;
      } catch (error) {
        if ((item.state as ItemState) === 'cancelled') throw new DownloadError('ERR_ABORTED', 'download cancelled', { cause: error });
        if (error === PAUSE) continue; // paused (and maybe already resumed): go round again
        item.state = 'failed';
        this.emit('failed', { id: item.id, error });
        throw error;
      } finally {
        item.download = undefined;
      }
    }
  }

  #pause(item: Item): void {
    if (item.state !== 'running' && item.state !== 'queued') return;
    item.state = 'paused';
    item.download?.abort(PAUSE);
  }

  #resume(item: Item): void {
    if (item.state !== 'paused') return;
    item.state = 'queued';
    item.resumeWaiter?.();
    item.resumeWaiter = undefined;
  }

  #cancel(item: Item): void {
    if (item.state === 'done' || item.state === 'failed' || item.state === 'cancelled') return;
    const wasPaused = item.state === 'paused';
    item.state = 'cancelled';
    item.download?.abort(new DownloadError('ERR_ABORTED', 'download cancelled'));
    if (wasPaused) {
      item.resumeWaiter?.();
      item.resumeWaiter = undefined;
    }
  }

  #aggregate(): QueueProgress {
    let transferred = 0;
    let total: number | undefined = 0;
    let speed = 0;
    for (const item of this.#items) {
      transferred += item.last?.transferredBytes ?? 0;
      speed += item.state === 'running' ? (item.last?.bytesPerSecond ?? 0) : 0;
      const size = item.last?.totalBytes;
      total = total === undefined || size === undefined ? undefined : total + size;
    }
    const count = (state: ItemState) => this.#items.filter((i) => i.state === state).length;
    return { transferredBytes: transferred, totalBytes: total, bytesPerSecond: speed, running: count('running'), queued: count('queued') + count('paused'), done: count('done') };
  }
}
