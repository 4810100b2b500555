/**
 * Many downloads under one connection budget (global and per host) and, optionally, one
 * bandwidth cap and a limit on how many run at once (the others wait in order). Each `add`
 * returns the download's result promise, with controls attached. Slots freed by one download
 * (finished, paused, throttled) flow to the others at once.
 */
import { EventEmitter } from 'node:events';
import { ConnectionBudget } from './schedule/connection-budget.js';
import { Download } from './download.js';
import { DownloadError } from './errors.js';
import type { DownloadResult, Progress, StartInfo } from './events.js';
import { checkConnections, DEFAULT_CONNECTIONS, type DownloadOptions } from './options.js';
import { RateLimiter } from './transfer/rate-limit.js';

export interface QueueOptions {
  /** Requests in flight across all downloads. @default 16 */
  maxConnections?: number;
  /** Requests in flight (and so sockets in use) per host. @default 8 */
  maxConnectionsPerHost?: number;
  /** Bandwidth cap for the whole queue in bytes/s; `queue.maxSpeed` changes it. @default no limit */
  maxSpeed?: number;
  /** Downloads that run at the same time; the others wait in order. `queue.maxRunning` changes it. @default no limit */
  maxRunning?: number;
  /** Aborting it cancels everything. */
  signal?: AbortSignal;
}

export interface QueueItemOptions extends DownloadOptions {
  /** Higher runs first when connections are scarce. @default 0 */
  priority?: number;
  /** Add it paused: it waits until `resume()`. @default false */
  paused?: boolean;
}

export type ItemState = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled';

/** The promise of one download's result, with its controls. */
export interface QueuedDownload extends Promise<DownloadResult> {
  readonly id: number;
  readonly url: string;
  readonly state: ItemState;
  /** Its bandwidth cap in bytes/s (Infinity: none); setting it takes effect at once, also while it runs. */
  maxSpeed: number;
  /** Its connection count; setting it takes effect at once, also while it runs (see `Download.connections`). */
  connections: number;
  /**
   * Replaces the options its download starts with from now on (when its turn comes, or after a
   * pause). `maxSpeed` and `connections` also reach a running download at once; the rest wait
   * for its next start.
   */
  update(options: QueueItemOptions): void;
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
  /** An item changed state. */
  state: [{ id: number; state: ItemState }];
  /** An item's download found its file and chose its output (again after every pause). */
  start: [{ id: number; info: StartInfo }];
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
  /** Set while the item waits for its turn to run. */
  wake: (() => void) | undefined;
}

export class DownloadQueue extends EventEmitter<QueueEvents> {
  readonly #budget: ConnectionBudget;
  readonly #limiter: RateLimiter;
  readonly #items: Item[] = [];
  readonly #settled = new Set<Promise<unknown>>();
  readonly #signal: AbortSignal | undefined;
  #maxRunning: number;
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
    this.#maxRunning = checkMaxRunning(options.maxRunning ?? Number.POSITIVE_INFINITY);
    this.#signal = options.signal;
    this.#signal?.addEventListener('abort', () => this.cancel(), { once: true });
  }

  get maxSpeed(): number {
    return this.#limiter.bytesPerSecond;
  }

  set maxSpeed(bytesPerSecond: number) {
    this.#limiter.bytesPerSecond = bytesPerSecond;
  }

  /** How many downloads run at once; raising it starts waiting ones at once, lowering it lets running ones finish. */
  get maxRunning(): number {
    return this.#maxRunning;
  }

  set maxRunning(count: number) {
    this.#maxRunning = checkMaxRunning(count);
    this.#pump();
  }

  /** Ids of the items waiting to run (queued or paused), in the order they will start. */
  waiting(): number[] {
    return this.#items.filter(isWaiting).map((i) => i.id);
  }

  /**
   * Moves a waiting item to `index` among the waiting ones (clamped); returns where it landed.
   * Throws ERR_INVALID_OPTION for an item that is not waiting.
   */
  move(id: number, index: number): number {
    const item = this.#items.find((i) => i.id === id);
    if (item === undefined || !isWaiting(item)) throw new DownloadError('ERR_INVALID_OPTION', `item ${id} is not waiting`);
    const others = this.#items.filter((i) => i !== item && isWaiting(i));
    const target = Math.max(0, Math.min(Math.trunc(index), others.length));
    this.#items.splice(this.#items.indexOf(item), 1);
    const anchor = others[target];
    const at = anchor !== undefined ? this.#items.indexOf(anchor) : others.length > 0 ? this.#items.indexOf(others.at(-1)!) + 1 : this.#items.length;
    this.#items.splice(at, 0, item);
    this.#pump();
    return target;
  }

  /** Drops a finished, failed or cancelled item from the queue's books; false if it is not settled. */
  forget(id: number): boolean {
    const index = this.#items.findIndex((i) => i.id === id && (i.state === 'done' || i.state === 'failed' || i.state === 'cancelled'));
    if (index >= 0) this.#items.splice(index, 1);
    return index >= 0;
  }

  /** Requests in flight right now (all hosts). */
  get connectionsInUse(): number {
    return this.#budget.inUse;
  }

  add(url: string, options: QueueItemOptions = {}): QueuedDownload {
    const { paused = false, ...rest } = options;
    const item: Item = { id: this.#nextId++, url, options: rest, state: paused ? 'paused' : 'queued', download: undefined, last: undefined, wake: undefined };
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
      maxSpeed: {
        get: () => item.download?.maxSpeed ?? item.options.maxSpeed ?? Number.POSITIVE_INFINITY,
        set: (bytesPerSecond: number) => {
          // 0 and Infinity mean no limit, as for Download.maxSpeed.
          const limit = bytesPerSecond > 0 && Number.isFinite(bytesPerSecond) ? bytesPerSecond : undefined;
          if (limit === undefined) delete item.options.maxSpeed;
          else item.options.maxSpeed = limit;
          if (item.download !== undefined) item.download.maxSpeed = bytesPerSecond;
        },
      },
      update: {
        value: (next: QueueItemOptions) => {
          const { paused: _ignored, ...rest } = next;
          checkConnections(rest.connections ?? DEFAULT_CONNECTIONS);
          item.options = rest;
          if (item.download !== undefined) {
            item.download.maxSpeed = rest.maxSpeed ?? Number.POSITIVE_INFINITY;
            item.download.connections = rest.connections ?? DEFAULT_CONNECTIONS;
          }
        },
      },
      connections: {
        get: () => item.options.connections ?? DEFAULT_CONNECTIONS,
        set: (connections: number) => {
          item.options.connections = checkConnections(connections);
          if (item.download !== undefined) item.download.connections = connections;
        },
      },
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
      // The turn is given in a later microtask: a pause() right after add() comes first.
      await new Promise<void>((resolve) => {
        item.wake = resolve;
        queueMicrotask(() => this.#pump());
      });
      if (item.state === 'cancelled') throw new DownloadError('ERR_ABORTED', 'download cancelled');
      if (item.state !== 'running') continue; // paused (and maybe resumed) between its turn and now
      const { priority = 0, ...options } = item.options;
      // Every download shares the process-wide keep-alive pool; the budget keeps a host's requests, and so its sockets, within its cap.
      const download = new Download(item.url, options);
      download.shareBudget(this.#budget, priority);
      download.shareLimiter(this.#limiter);
      download.on('start', (info) => this.emit('start', { id: item.id, info }));
      download.on('progress', (progress) => {
        item.last = progress;
        this.emit('progress', { id: item.id, progress });
        this.emit('aggregate', this.#aggregate());
      });
      item.download = download;
      this.emit('download', { id: item.id, download });
      try {
        const result = await download.start();
        this.#setState(item, 'done');
        this.emit('done', { id: item.id, result });
        return result;
      } catch (error) {
        if ((item.state as ItemState) === 'cancelled') throw new DownloadError('ERR_ABORTED', 'download cancelled', { cause: error });
        if (error === PAUSE) continue; // paused (and maybe already resumed): go round again
        this.#setState(item, 'failed');
        this.emit('failed', { id: item.id, error });
        throw error;
      } finally {
        item.download = undefined;
      }
    }
  }

  #pause(item: Item): void {
    if (item.state !== 'running' && item.state !== 'queued') return;
    this.#setState(item, 'paused');
    item.download?.abort(PAUSE);
  }

  #resume(item: Item): void {
    if (item.state !== 'paused') return;
    this.#setState(item, 'queued');
  }

  #cancel(item: Item): void {
    if (item.state === 'done' || item.state === 'failed' || item.state === 'cancelled') return;
    this.#setState(item, 'cancelled');
    item.download?.abort(new DownloadError('ERR_ABORTED', 'download cancelled'));
    this.#wake(item); // a waiting item ends at once
  }

  #setState(item: Item, state: ItemState): void {
    item.state = state;
    this.emit('state', { id: item.id, state });
    if (state !== 'running') this.#pump();
  }

  #wake(item: Item): void {
    const wake = item.wake;
    item.wake = undefined;
    wake?.();
  }

  /** Gives waiting items their turn, in order, while fewer than `maxRunning` run. */
  #pump(): void {
    let running = this.#items.filter((i) => i.state === 'running').length;
    for (const item of this.#items) {
      if (running >= this.#maxRunning) return;
      if (item.state !== 'queued' || item.wake === undefined) continue;
      running++;
      this.#setState(item, 'running');
      this.#wake(item);
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

function isWaiting(item: Item): boolean {
  return item.state === 'queued' || item.state === 'paused';
}

function checkMaxRunning(count: number): number {
  if (count !== Number.POSITIVE_INFINITY && (!Number.isInteger(count) || count < 1)) {
    throw new DownloadError('ERR_INVALID_OPTION', `Expected \`maxRunning\` to be a positive integer or Infinity, got ${String(count)}`);
  }
  return count;
}
