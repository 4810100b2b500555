/**
 * The daemon's state over one DownloadQueue: the gid registry, the global options, the session
 * file and the notifications. Every download runs through the queue and `Download`: this is an
 * adapter that speaks in aria2's terms, not a second engine.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { Download } from '../download.js';
import { DownloadQueue, type QueueItemOptions } from '../queue.js';
import { newGid } from './gid.js';
import { checkOptions, connectionsFor, GLOBAL_DEFAULTS, toItemOptions, type OptionSet } from './options-map.js';
import type { DownloadRoots } from './paths.js';
import { isStopped, Registry, statusOf, type Entry } from './registry.js';
import { followQueue } from './queue-events.js';
import { RpcError } from './rpc-error.js';
import { savedProgress } from './saved-progress.js';
import type { SessionDownload, SessionFile } from './session.js';

export interface EngineOptions {
  roots: DownloadRoots;
  /** Global options from the command line, already checked (aria2 names). */
  global: OptionSet;
  session?: SessionFile | undefined;
  /** Stopped downloads kept for tellStopped (aria2's max-download-result). @default 1000 */
  maxResults?: number;
}

export interface EngineEvents {
  /** A notification for every WebSocket client. */
  notify: [{ method: string; params: unknown[] }];
  /** Something the operator should see (a session save failed, a saved download could not come back). */
  warning: [string];
  /** A client asked for shutdown (the answer has been sent by the time listeners run). */
  shutdown: [];
}

/** Unfinished downloads one daemon takes: a client cannot grow its memory without bound. */
const MAX_UNFINISHED = 10_000;
const MAX_URIS = 16;
/** Options a running download takes at once; a change to any other restarts it (as aria2 does). */
const LIVE = new Set(['max-download-limit', 'split', 'max-connection-per-server']);

export class Aria2Engine extends EventEmitter<EngineEvents> {
  readonly sessionId = randomBytes(20).toString('hex');
  readonly roots: DownloadRoots;
  readonly #registry: Registry;
  readonly #queue: DownloadQueue;
  readonly #global: OptionSet;
  readonly #session: SessionFile | undefined;
  #closing = false;

  constructor(options: EngineOptions) {
    super();
    this.roots = options.roots;
    this.#global = { ...GLOBAL_DEFAULTS, dir: options.roots.defaultDir, ...options.global };
    this.#session = options.session;
    this.#registry = new Registry(options.maxResults ?? 1000);
    this.#queue = new DownloadQueue({ maxConnections: 64, maxConnectionsPerHost: 16, maxRunning: Number(this.#global['max-concurrent-downloads']) });
    this.#applyGlobal();
    followQueue(this.#queue, this.#registry, {
      notify: (method, params) => this.emit('notify', { method, params }),
      dirOf: (entry) => this.dirOf(entry),
      changed: () => this.#saveSession(),
    });
  }

  /** Brings back the downloads of the session file, in their order; returns how many came back. */
  async restore(): Promise<number> {
    if (this.#session === undefined) return 0;
    let restored = 0;
    for (const saved of await this.#session.load()) {
      try {
        if (this.#registry.has(saved.gid)) throw new RpcError(`GID ${saved.gid} appears twice`);
        const entry = await this.#add(saved.gid, saved.uris, checkOptions(saved.options, this.roots, 'download'), saved.paused);
        const out = entry.options['out'];
        // Until it runs again, it shows what its manifest says is on disk.
        if (out !== undefined) entry.progress ??= await savedProgress(join(this.dirOf(entry), out));
        restored++;
      } catch (error) {
        this.emit('warning', `session: download ${saved.gid} (${saved.uris[0]}) not restored: ${(error as Error).message}`);
      }
    }
    return restored;
  }

  async addUri(uris: unknown, options: unknown, position: unknown): Promise<string> {
    if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_URIS || !uris.every((u) => typeof u === 'string' && u !== '')) {
      throw new RpcError(`The parameter at 0 has wrong type: expected 1 to ${MAX_URIS} URIs of one file.`);
    }
    if (position !== undefined && (typeof position !== 'number' || !Number.isInteger(position) || position < 0)) {
      throw new RpcError('The parameter at 2 has wrong type.');
    }
    if (this.#registry.unfinished().length >= MAX_UNFINISHED) throw new RpcError(`too many downloads (at most ${MAX_UNFINISHED} unfinished)`);
    const { gid: wanted, pause, ...own } = checkOptions(options, this.roots, 'download');
    if (wanted !== undefined && this.#registry.has(wanted)) throw new RpcError(`GID ${wanted} is not unique.`);
    const gid = wanted ?? newGid((g) => this.#registry.has(g));
    const entry = await this.#add(gid, uris as string[], own, pause === 'true');
    // A position only means something while it waits (it may have started already, as in aria2).
    if (position !== undefined && this.#queue.waiting().includes(entry.handle.id)) this.#queue.move(entry.handle.id, position);
    return gid;
  }

  entry(gid: string): Entry {
    return this.#registry.get(gid);
  }

  /** The download's directory (its own `dir`, or the global one). */
  dirOf(entry: Entry): string {
    return entry.options['dir'] ?? this.#global['dir']!;
  }

  active(): Entry[] {
    return this.#registry.all().filter((e) => statusOf(e) === 'active');
  }

  /** Waiting and paused downloads, in the order they will start. */
  waiting(): Entry[] {
    return this.#queue.waiting().flatMap((id) => this.#registry.byId(id) ?? []);
  }

  stopped(): readonly Entry[] {
    return this.#registry.stopped;
  }

  get stoppedTotal(): number {
    return this.#registry.stoppedTotal;
  }

  pause(gid: string): string {
    const entry = this.#unfinished(gid);
    if (statusOf(entry) === 'paused') throw new RpcError(`GID#${gid} cannot be paused now`);
    entry.handle.pause();
    return gid;
  }

  unpause(gid: string): string {
    const entry = this.#unfinished(gid);
    if (statusOf(entry) !== 'paused') throw new RpcError(`GID#${gid} cannot be unpaused now`);
    entry.handle.resume();
    return gid;
  }

  pauseAll(): void {
    this.#queue.pause();
  }

  unpauseAll(): void {
    this.#queue.resume();
  }

  /** Stops a download for good (its partial file and manifest stay, as aria2 keeps its control file). */
  remove(gid: string): string {
    const entry = this.#registry.get(gid);
    if (isStopped(entry)) throw new RpcError(`Active Download not found for GID#${gid}`);
    entry.handle.cancel();
    return gid;
  }

  removeResult(gid: string): void {
    const entry = this.#registry.get(gid);
    if (!this.#registry.removeResult(gid)) throw new RpcError(`Could not remove download result of GID#${gid}`);
    this.#queue.forget(entry.handle.id);
  }

  purgeResults(): void {
    for (const entry of this.#registry.purge()) this.#queue.forget(entry.handle.id);
  }

  /** The download's effective options: the global ones merged with its own. */
  optionsOf(entry: Entry): OptionSet {
    const { 'max-concurrent-downloads': _j, 'max-overall-download-limit': _limit, ...defaults } = this.#global;
    return { ...defaults, ...entry.options };
  }

  changeOption(gid: string, raw: unknown): void {
    const entry = this.#unfinished(gid);
    const { gid: _gid, pause: _pause, ...changes } = checkOptions(raw, this.roots, 'download');
    if (('dir' in changes || 'out' in changes) && entry.info !== undefined) {
      throw new RpcError('dir and out cannot change once a download has started');
    }
    entry.options = { ...entry.options, ...changes };
    const effective = this.optionsOf(entry);
    entry.handle.update(this.#itemOptions(entry.uris, effective));
    // Like aria2, a running download restarts to take options it cannot take live (from its manifest).
    if (statusOf(entry) === 'active' && Object.keys(changes).some((k) => !LIVE.has(k))) {
      entry.handle.pause();
      entry.handle.resume();
    }
    this.#saveSession();
  }

  globalOptions(): OptionSet {
    return { ...this.#global };
  }

  changeGlobalOption(raw: unknown): void {
    Object.assign(this.#global, checkOptions(raw, this.roots, 'global'));
    this.#applyGlobal();
  }

  /** aria2's changePosition: POS_SET from the front, POS_CUR from where it is, POS_END from the back. */
  changePosition(gid: string, pos: number, how: string): number {
    const entry = this.#registry.get(gid);
    const ids = this.#queue.waiting();
    const current = ids.indexOf(entry.handle.id);
    if (current < 0) throw new RpcError(`GID#${gid} not found in the waiting queue.`);
    const target = how === 'POS_SET' ? pos : how === 'POS_CUR' ? current + pos : how === 'POS_END' ? ids.length - 1 + pos : undefined;
    if (target === undefined) throw new RpcError('The parameter at 2 has wrong type.');
    const landed = this.#queue.move(entry.handle.id, target);
    this.#saveSession();
    return landed;
  }

  globalSpeed(): number {
    return this.active().reduce((sum, e) => sum + Math.round(e.progress?.bytesPerSecond ?? 0), 0);
  }

  async saveSession(): Promise<void> {
    if (this.#session === undefined) throw new RpcError('Filename is not given.');
    await this.#session.save(() => this.#snapshot());
  }

  /** Answers first, then shuts down (the listeners close the server and the engine). */
  requestShutdown(): void {
    setImmediate(() => this.emit('shutdown'));
  }

  /** Saves the session as it stands, then stops every download (their state saved for the next start). */
  async close(): Promise<void> {
    if (this.#closing) return;
    if (this.#session !== undefined) await this.#session.save(() => this.#snapshot()).catch((e: unknown) => this.emit('warning', `session not saved: ${(e as Error).message}`));
    this.#closing = true;
    await this.#queue.close();
  }

  async #add(gid: string, uris: string[], own: OptionSet, paused: boolean): Promise<Entry> {
    const effective = { ...this.#global, ...own };
    await this.roots.prepare({ dir: effective['dir']!, out: own['out'] });
    const options: QueueItemOptions = { ...this.#itemOptions(uris, effective), ...(paused ? { paused: true } : {}) };
    try {
      void new Download(uris[0]!, options); // the engine's own checks, now: a bad URL is an RPC error, not a failed download
    } catch (error) {
      throw new RpcError((error as Error).message);
    }
    const handle = this.#queue.add(uris[0]!, options);
    handle.catch(() => undefined); // failures are reported through the registry
    const entry: Entry = { gid, uris, options: own, handle, info: undefined, progress: undefined, error: undefined, result: undefined };
    this.#registry.add(entry);
    this.#saveSession();
    return entry;
  }

  #itemOptions(uris: string[], effective: OptionSet): QueueItemOptions {
    const options = toItemOptions(uris, effective);
    // The library's own proxy support (not undici's ProxyAgent, which spins on a refused CONNECT).
    const proxy = effective['all-proxy'];
    if (proxy !== undefined && proxy !== '') options.proxy = proxy;
    return options;
  }

  #unfinished(gid: string): Entry {
    const entry = this.#registry.get(gid);
    if (isStopped(entry)) throw new RpcError(`GID ${gid} is not found`);
    return entry;
  }

  #applyGlobal(): void {
    this.#queue.maxRunning = Number(this.#global['max-concurrent-downloads']);
    this.#queue.maxSpeed = Number(this.#global['max-overall-download-limit']);
    // New defaults reach the downloads that have not chosen their own.
    for (const entry of this.#registry.unfinished()) {
      const effective = this.optionsOf(entry);
      entry.handle.maxSpeed = Number(effective['max-download-limit']);
      entry.handle.connections = connectionsFor(entry.uris, effective);
    }
  }

  #saveSession(): void {
    if (this.#session === undefined || this.#closing) return;
    this.#session.save(() => this.#snapshot()).catch((error: unknown) => this.emit('warning', `session not saved: ${(error as Error).message}`));
  }

  /** Unfinished downloads: the running ones, then the waiting ones in queue order. */
  #snapshot(): SessionDownload[] {
    return [...this.active(), ...this.waiting()].map((e) => ({ gid: e.gid, uris: e.uris, options: e.options, paused: statusOf(e) === 'paused' }));
  }
}
