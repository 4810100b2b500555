/**
 * Connection slots shared by many downloads: a global cap and a per-host cap. A request takes a
 * slot for its duration; waiting requests are served by priority, then in arrival order, so a
 * finished (or throttled) download's slots flow to the others at once.
 */
import { DownloadError } from '../errors.js';

interface Waiter {
  host: string;
  priority: number;
  order: number;
  grant: () => void;
}

export class ConnectionBudget {
  readonly #max: number;
  readonly #perHost: number;
  readonly #byHost = new Map<string, number>();
  #inUse = 0;
  #order = 0;
  readonly #waiting: Waiter[] = [];

  constructor(maxConnections: number, maxConnectionsPerHost: number) {
    this.#max = maxConnections;
    this.#perHost = maxConnectionsPerHost;
  }

  get inUse(): number {
    return this.#inUse;
  }

  inUseFor(host: string): number {
    return this.#byHost.get(host) ?? 0;
  }

  /** Resolves with a release function once a slot for `host` is free; an abort withdraws the wait. */
  acquire(host: string, priority: number, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#fits(host)) return Promise.resolve(this.#take(host));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        host,
        priority,
        order: this.#order++,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#take(host));
        },
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal?.reason ?? new DownloadError('ERR_ABORTED', 'aborted while waiting for a connection'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
      this.#waiting.sort((a, b) => b.priority - a.priority || a.order - b.order);
    });
  }

  #fits(host: string): boolean {
    return this.#inUse < this.#max && this.inUseFor(host) < this.#perHost;
  }

  #take(host: string): () => void {
    this.#inUse++;
    this.#byHost.set(host, this.inUseFor(host) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
      this.#byHost.set(host, this.inUseFor(host) - 1);
      this.#grantWaiting();
    };
  }

  #grantWaiting(): void {
    for (let i = 0; i < this.#waiting.length && this.#inUse < this.#max; ) {
      const waiter = this.#waiting[i]!;
      if (this.inUseFor(waiter.host) < this.#perHost) {
        this.#waiting.splice(i, 1);
        waiter.grant();
      } else {
        i++;
      }
    }
  }
}
