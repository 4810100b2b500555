/**
 * Runs segments on a p-limit pool of connections. When a connection frees up and nothing is
 * queued, it steals the tail of the segment expected to finish last (by its measured speed,
 * not its size): the victim's `end` shrinks in flight and it stops there. Retries with backoff
 * live here, so the manifest always matches the disk.
 */
import { setMaxListeners } from 'node:events';
import { debuglog } from 'node:util';
import pLimit, { type LimitFunction } from 'p-limit';
import { DownloadError, isRetryable, toDownloadError } from '../errors.js';
import { planRanges, splitPoint, type Segment } from './plan.js';
import { connectionsWorthOpening } from './connections-worth.js';
import { RateProbe } from './rate-probe.js';
import { ConcurrencyControl } from './concurrency.js';
import { retryDelay, type RetryOptions } from './retry.js';
import { sleep } from '../sleep.js';

/** A segment plus what the scheduler knows about the connection working on it. */
export interface Job extends Segment {
  /** Bytes received from the network (≥ done; the difference is on its way to disk). */
  received: number;
  /** Whether a request for this job is in flight now. */
  active: boolean;
  /** When the current attempt started and how much it had then, for its speed. */
  attemptStartedAt: number;
  attemptStartBytes: number;
  /** Whether the current attempt's response passed the gate and its body is flowing. */
  streaming: boolean;
  /** The bytes just before `start` as this job's server sent them, to compare with the left neighbour's. */
  seam?: Buffer | undefined;
  /** Where the request in flight for this job ends (exclusive), if one is. */
  requestEnd?: number | undefined;

  /** The block piece being hashed: its bytes so far are [start, end) (src/verify/piece-hashing.ts). */
  piece?: { start: number; end: number; hash: SegmentHash } | undefined;
  /** xxh64 of the done bytes in the block being filled (the manifest's record of them), if any. */
  pieceDigest?: bigint | undefined;
}

/** How long the scheduler wants a request to run, and what a connection does per second, as it sees the whole download. */
export interface RequestPace {
  /** Seconds of transfer per request (about 1 s, less as the download nears its end). */
  seconds(): number;
  /** The typical connection's bytes/s so far (0 when none is known yet). */
  typicalSpeed(): number;
  /** `job` is about to send its next request: the scheduler may re-plan it first (its end may shrink). */
  beforeRequest?(job: Job): void;
}

/** A streaming xxh64 whose digest can be read at any time without ending it. */
export interface SegmentHash {
  update(bytes: Uint8Array): unknown;
  digest(): bigint;
}

export interface SchedulerParams {
  /** Every segment of the file; the scheduler appends the pieces it splits off. */
  jobs: Job[];
  connections: number;
  minSplitSize: number;
  alignment: number;
  /** Long ranges are cut on multiples of this (the hash block size), see plan.ts. */
  blockAlignment?: number;
  retry: RetryOptions;
  signal: AbortSignal;
  /** One attempt at the rest of `job` (from start+done to its current end); calls `streaming()` once its body flows. */
  fetch(job: Job, signal: AbortSignal, streaming: () => void, pace: RequestPace): Promise<void>;
  onRetry?(job: Job, attempt: number, delayMs: number, error: DownloadError): void;
  onSplit?(victim: Job, piece: Job): void;
  onJobDone?(job: Job): void;
  /** Grow the connection count only while it raises throughput. */
  adaptive?: boolean;
  /**
   * Set when the run starts on the download's first response (one connection): its time to first
   * byte, in ms. More connections open once that response's rate shows how many are worth it.
   */
  firstByteMs?: number;
  /**
   * Streaming in order: the offset no piece may start at or beyond (the end of the window past the
   * bytes already handed on). Pieces wait in reserve until the window moves; call `nudge()` then.
   */
  window?(): number;
  /** The largest piece handed out in order (a stream keeps its pieces within its window). */
  maxPieceBytes?: number;
  /** A slot from a budget shared with other downloads, held for each attempt (DownloadQueue). */
  acquire?(signal: AbortSignal): Promise<() => void>;
  now?(): number;
}

/** How soon an idle connection looks for work again when there was nothing worth stealing. */
const STEAL_RETRY_MS = 100;
/** In-order hand-out pays when the rest is at least this many pieces per connection. */
const IN_ORDER_PIECES = 2;
/** Pieces handed out in order: about a request's worth, within these bounds. */
const MIN_PIECE_BYTES = 2 * 1024 * 1024;
const MAX_PIECE_BYTES = 64 * 1024 * 1024;
/** When no connection's speed is known yet. */
const DEFAULT_PIECE_BYTES = 8 * 1024 * 1024;
/** Adaptive mode reconsiders the connection count this often. */
const SAMPLE_MS = 100;
/** A request carries about this much transfer time while much is left... */
const REQUEST_SECONDS = 1;
/** ...and never less than this near the end. */
const MIN_REQUEST_SECONDS = 0.1;
/** Attempts younger than this have no meaningful speed yet. */
const WARMUP_MS = 300;
/**
 * A job expected to finish sooner than this is left alone: a steal costs a request and cuts the
 * victim's connection (whatever the server already pushed into it is wasted).
 */
const STEAL_HORIZON_MS = 150;
/**
 * Event-loop utilisation above which this process, not the network, limits the download: the
 * sockets then hold a backlog, and cutting a response short would throw it away.
 */
const CLIENT_BOUND_ELU = 0.8;
/** A non-straggler's response is cut short only if it would still run this long. */
const LONG_RESPONSE_MS = 750;
/** A connection slower than this fraction of the typical one is a straggler: its response may be cut short. */
const STRAGGLER_FRACTION = 0.5;
/**
 * How long the first response streams before its rate decides the connection count (bounds, ms):
 * about one first-byte time (a helper opened earlier would not deliver sooner than that anyway),
 * and long enough to see through a paced server's slices.
 */
const DECIDE_MIN_MS = 25;
const DECIDE_MAX_MS = 60;
/** An early look at the first response's rate, to open every connection at once when even a burst leaves them all worth it. */
const EARLY_LOOK_MS = 5;
/**
 * A rate read over a few milliseconds can be a burst (a server's or a proxy's buffers): the count
 * is looked at again this often with longer measurements, and grows if more connections now pay.
 */
const REVISIT_MS = 200;

export function newJob(segment: Segment): Job {
  return { ...segment, received: segment.done, active: false, attemptStartedAt: 0, attemptStartBytes: segment.done, streaming: false };
}

/** NODE_DEBUG=segdl shows the scheduler's decisions. */
const debug = debuglog('segdl');

/** Statuses with which a host says "too many connections" (RFC 6585 §4, RFC 9110 §15.6.4). */
const OVERLOAD_STATUSES = new Set([429, 503]);

/** Thrown out of a job to give its connection slot back after the host pushed back. */
class Requeue {}

export class Scheduler {
  readonly #p: SchedulerParams;
  readonly #limit: LimitFunction;
  readonly #concurrency: ConcurrencyControl;
  /** Retry-After applies to the host, so to every connection of this download. */
  #pausedUntil = 0;
  readonly #abort = new AbortController();
  readonly #signal: AbortSignal;
  readonly #now: () => number;
  #failure: unknown;
  #running = 0;
  #idle: (() => void) | undefined;
  #peak = 0;
  /** Jobs a connection has taken up (fetching or backing off); queued jobs are not victims. */
  readonly #started = new Set<Job>();
  #startedAt: number | undefined;
  #receivedAtStart = 0;
  #retrySteal: NodeJS.Timeout | undefined;
  #elu = { mark: performance.eventLoopUtilization(), busy: 0 };
  /** Request sizing as the whole download sees it (src/transfer/fetch-job.ts asks before every request). */
  readonly #pace: RequestPace = { seconds: () => this.#requestSeconds(), typicalSpeed: () => this.#typicalSpeed(), beforeRequest: (job) => this.#beforeRequest(job) };
  /** Waiting for the first response's rate before opening more connections. */
  #decision: { timer: NodeJS.Timeout | undefined; probe?: RateProbe; first?: Job } | undefined;
  /** The second half of the connections, opened once the first half streams without refusals. */
  #secondWave: number | undefined;
  /** Ranges handed out in order, lowest first, as connections free up (see #spread). */
  readonly #reserve: Job[] = [];

  constructor(params: SchedulerParams) {
    this.#p = params;
    const first = params.firstByteMs !== undefined;
    this.#concurrency = new ConcurrencyControl(params.connections, { adaptive: params.adaptive ?? false, ...(first ? { initial: 1 } : {}) });
    if (first) this.#decision = { timer: undefined };
    this.#limit = pLimit(this.#concurrency.limit);
    this.#signal = AbortSignal.any([params.signal, this.#abort.signal]);
    // Every request and every backoff sleep listens to this one signal: many listeners are expected.
    setMaxListeners(0, this.#signal);
    this.#now = params.now ?? Date.now;
  }

  /** Bytes received by all jobs since `run()` began, for the run's average rate. */
  #receivedThisRun(): number {
    return this.#p.jobs.reduce((sum, j) => sum + j.received, 0) - this.#receivedAtStart;
  }

  /** Resolves when every job is complete; rejects with the first fatal error after all work stopped. */
  async run(): Promise<void> {
    this.#startedAt = this.#now();
    this.#receivedAtStart = this.#p.jobs.reduce((sum, j) => sum + j.received, 0);
    const finished = new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
    for (const job of this.#p.jobs) if (job.done < job.end - job.start) this.#launch(job);
    if (this.#running === 0) return;
    // Adaptive mode looks again on a timer: no new response may arrive to trigger a look.
    const sampler = this.#p.adaptive
      ? setInterval(() => this.#reconsider(), SAMPLE_MS)
      : this.#decision !== undefined
        ? setInterval(() => this.#revisit(), REVISIT_MS)
        : undefined;
    sampler?.unref();
    try {
      await finished;
    } finally {
      clearInterval(sampler);
      clearTimeout(this.#retrySteal);
      clearTimeout(this.#decision?.timer);
      this.#decision?.probe?.finish();
    }
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#p.signal.aborted) throw this.#p.signal.reason;
  }

  /**
   * Changes the connection count while running. More start at once, taking work by stealing;
   * fewer take effect as running segments end (a healthy response is not cut for it).
   */
  setConnections(connections: number): void {
    this.#limit.concurrency = this.#concurrency.setMax(connections);
    this.#stealForFreeSlots();
  }

  /** The window moved (streaming in order): free connections may take the next pieces. */
  nudge(): void {
    this.#stealForFreeSlots();
  }

  /** The most connections that worked at the same time. */
  get peakConnections(): number {
    return this.#peak;
  }

  #launch(job: Job): void {
    this.#running++;
    void this.#limit(() => this.#runJob(job))
      .then(
        () => {
          this.#p.onJobDone?.(job);
          // The connection that just finished is the thief: its speed is known.
          this.#stealForFreeSlots(speedOf(job, this.#now()));
        },
        (error: unknown) => {
          if (error instanceof Requeue && !this.#signal.aborted) {
            this.#launch(job); // waits in the queue for a slot under the lowered limit
            return;
          }
          this.#failure ??= error;
          this.#abort.abort(error);
        },
      )
      .finally(() => {
        // The last connection ended with work still in reserve (a window held it back): take it now.
        if (this.#running === 1 && this.#reserve.length > 0 && !this.#signal.aborted && this.#failure === undefined) {
          const next = this.#takeReserve(0, true);
          if (next !== undefined) this.#launch(next);
        }
        if (--this.#running === 0) this.#idle?.();
      });
  }

  async #runJob(job: Job): Promise<void> {
    this.#peak = Math.max(this.#peak, this.#limit.activeCount);
    this.#started.add(job);
    try {
      await this.#attempts(job);
    } finally {
      this.#started.delete(job);
    }
  }

  async #attempts(job: Job): Promise<void> {
    let attempt = 0;
    for (;;) {
      if (this.#signal.aborted) throw this.#signal.reason;
      const wait = this.#pausedUntil - this.#now();
      if (wait > 0) await sleep(wait, this.#signal);
      const before = job.done;
      const release = await this.#p.acquire?.(this.#signal);
      job.active = true;
      job.attemptStartedAt = this.#now();
      job.attemptStartBytes = job.received = job.done;
      try {
        await this.#p.fetch(job, this.#signal, () => this.#onStreaming(job), this.#pace);
        return;
      } catch (raw) {
        if (this.#signal.aborted) throw this.#signal.reason;
        const error = toDownloadError(raw);
        if (job.done >= job.end - job.start) return; // the failure came after the last byte we needed
        if (!isRetryable(error)) throw error;
        if (job.done > before) attempt = 0; // progress resets the budget: flaky, not broken
        attempt++;
        if (attempt > this.#p.retry.attempts) {
          throw new DownloadError('ERR_RETRIES_EXHAUSTED', `gave up after ${attempt} attempts: ${error.message}`, {
            url: error.url,
            segment: { start: job.start, end: job.end },
            status: error.status,
            cause: error,
          });
        }
        const delayMs = retryDelay(attempt, this.#p.retry, error.retryAfterMs);
        release?.(); // nobody else's request waits on this one's backoff
        this.#p.onRetry?.(job, attempt, delayMs, error);
        // Retry-After holds every connection of this host only when none is working: if some are
        // streaming, the host refused an extra connection, and the working ones keep going.
        if (error.retryAfterMs !== undefined && this.#streamingCount() === 0) this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + delayMs);
        // A refused or reset connection while others stream is the host limiting connections too.
        const overload = (error.status !== undefined && OVERLOAD_STATUSES.has(error.status)) || (refusedConnection(error) && this.#streamingCount() > 0);
        if (overload && this.#overloaded()) throw new Requeue();
        job.active = false;
        await sleep(delayMs, this.#signal);
      } finally {
        release?.();
        job.active = false;
        job.streaming = false;
      }
    }
  }

  #streamingCount(): number {
    return this.#p.jobs.filter((j) => j.streaming).length;
  }

  #onStreaming(job: Job): void {
    job.streaming = true;
    const decision = this.#decision;
    if (decision !== undefined && decision.timer === undefined) {
      const wait = Math.min(DECIDE_MAX_MS, Math.max(DECIDE_MIN_MS, this.#p.firstByteMs!));
      const probe = new RateProbe(() => job.received);
      decision.probe = probe;
      decision.first = job;
      // A burst only makes the link look faster: if even that rate makes every connection worth
      // opening, open them now rather than after the measuring window.
      decision.timer = setTimeout(() => {
        const ceiling = probe.ceiling();
        if (ceiling > 0 && this.#worth(ceiling) >= this.#p.connections) return this.#decide(job, probe.finish());
        decision.timer = setTimeout(() => this.#decide(job, probe.finish()), wait - EARLY_LOOK_MS);
        decision.timer.unref();
      }, EARLY_LOOK_MS);
      decision.timer.unref();
    }
    if (this.#secondWave !== undefined && this.#streamingCount() >= this.#limit.concurrency) {
      this.#limit.concurrency = this.#concurrency.open(this.#secondWave);
      this.#secondWave = undefined;
    }
    this.#reconsider();
  }

  /**
   * The first response ended before its rate decided the connection count (a short first window on
   * a fast link): decide now, on what it streamed, before its job asks for more. Otherwise that next
   * request would ask for the rest of the file, and the split that comes a moment later would cut it
   * while the server has already pushed megabytes of it into the socket.
   */
  #beforeRequest(job: Job): void {
    const decision = this.#decision;
    if (decision?.probe === undefined || decision.first !== job) return;
    clearTimeout(decision.timer);
    this.#decide(job, decision.probe.finish());
  }

  /**
   * The first response has streamed a little: open the connections worth opening, all planned at
   * once over what is left (the first one keeps a lead for the round trip the others wait). Half
   * of them open now and the rest as soon as those stream, so a host that allows few connections
   * refuses few requests.
   */
  #decide(first: Job, rate: number): void {
    // The first response failed meanwhile: decide on the next one that streams instead.
    if (!first.active || !first.streaming) {
      this.#decision = { timer: undefined };
      return;
    }
    this.#decision = undefined;
    if (this.#signal.aborted || this.#running === 0) return;
    const firstByteMs = this.#p.firstByteMs!;
    const remaining = this.#remaining();
    const worth = this.#p.adaptive ? this.#p.connections : this.#worth(rate, remaining);
    debug('first response: %d B/s after %d ms to its first byte, %d bytes left: %d connection(s)', Math.round(rate), Math.round(firstByteMs), remaining, worth);
    if (worth <= 1) return;
    this.#spread(worth, (rate * firstByteMs) / 1000, rate);
    if (this.#p.adaptive) {
      this.#reconsider();
      return;
    }
    const firstWave = Math.ceil(worth / 2);
    this.#limit.concurrency = this.#concurrency.open(firstWave);
    if (worth > firstWave) this.#secondWave = worth;
  }

  /**
   * About a second per request while much is left; a third of the time left as the end nears (so
   * the last requests end close together and idle connections find request ends to take over
   * from), never below several first-byte waits (each request costs one).
   */
  #requestSeconds(): number {
    const now = this.#now();
    const elapsed = this.#startedAt === undefined ? 0 : (now - this.#startedAt) / 1000;
    const rate = elapsed > 0 ? this.#receivedThisRun() / elapsed : 0;
    if (rate <= 0) return REQUEST_SECONDS;
    const left = this.#remaining() / rate;
    return Math.min(REQUEST_SECONDS, Math.max(this.#shortestRequestSeconds(), left / 3));
  }

  /** No request carries less transfer than several first-byte waits (each request costs one). */
  #shortestRequestSeconds(): number {
    return Math.max(MIN_REQUEST_SECONDS, (8 * (this.#p.firstByteMs ?? 0)) / 1000);
  }

  /** The average speed of connections that have streamed long enough to have one (0 before). */
  #typicalSpeed(): number {
    const now = this.#now();
    const warmed = [...this.#started].filter((j) => j.active && now - j.attemptStartedAt >= WARMUP_MS);
    return warmed.length === 0 ? 0 : warmed.reduce((sum, j) => sum + speedOf(j, now), 0) / warmed.length;
  }

  /** Bytes no connection has received yet. */
  #remaining(): number {
    return this.#p.jobs.reduce((sum, j) => sum + Math.max(0, j.end - j.start - j.received), 0);
  }

  /** The connections worth opening for what is left, at `bytesPerSecond` per connection. */
  #worth(bytesPerSecond: number, remainingBytes = this.#remaining()): number {
    return connectionsWorthOpening({
      remainingBytes,
      bytesPerSecond,
      firstByteMs: this.#p.firstByteMs ?? 0,
      max: this.#p.connections,
      minSplitSize: this.#p.minSplitSize,
    });
  }

  /** Opens more connections when the rates measured since show that more are worth it (stolen work goes to them). */
  #revisit(): void {
    if (this.#decision !== undefined || this.#signal.aborted || this.#limit.concurrency >= this.#p.connections) return;
    const rate = this.#typicalSpeed();
    if (rate <= 0) return;
    const remaining = this.#remaining();
    const worth = this.#worth(rate, remaining);
    if (worth <= this.#limit.concurrency) return;
    this.#secondWave = undefined;
    this.#limit.concurrency = this.#concurrency.open(worth);
    debug('connections -> %d (%d B/s per connection, %d bytes left)', this.#limit.concurrency, Math.round(rate), remaining);
    this.#stealForFreeSlots();
  }

  /**
   * Re-plans what is left for `count` connections. A long file is handed out in order: the first
   * job keeps a piece (plus a lead for the round trip the others wait), the others take the next
   * pieces, and the rest stays in reserve, cut from its front as connections free up, so the
   * contiguous prefix of the file grows steadily (as aria2's in-order piece selector does) and
   * stragglers are still split at the end (pieces sized by #inOrderPiece). Otherwise (a short file,
   * or several ranges left by a resume) each job keeps its first piece of an equal split and the
   * others become jobs of their own.
   */
  #spread(count: number, lead: number, rate: number): void {
    const owners = this.#p.jobs.filter((j) => j.end - j.start - j.received > 0);
    const only = owners.length === 1 ? owners[0]! : undefined;
    if (only !== undefined && only.active) {
      // The first response had the link to itself; the connections will share it.
      const from = only.start + only.received + Math.round(lead);
      const piece = this.#inOrderPiece(from, only.end, count, rate);
      if (piece !== undefined) {
        const keepEnd = this.#alignUp(from + piece);
        const end = only.end;
        only.end = keepEnd; // first, so the job never writes into a piece given away
        let cursor = keepEnd;
        for (let i = 1; i < count; i++, cursor += piece) this.#addJob(only, { start: cursor, end: cursor + piece }, true);
        this.#reserve.push(this.#addJob(only, { start: cursor, end }, false));
        debug('in order: pieces of %d bytes, %d bytes in reserve', piece, end - cursor);
        return;
      }
    }
    const ranges = owners.map((j) => ({ start: Math.min(j.end, j.start + j.received + (j.active ? Math.round(lead) : 0)), end: j.end }));
    const pieces = planRanges(ranges, { connections: count, minSplitSize: this.#p.minSplitSize, alignment: this.#p.alignment, ...(this.#p.blockAlignment === undefined ? {} : { blockAlignment: this.#p.blockAlignment }) });
    owners.forEach((job, i) => {
      const mine = pieces.filter((piece) => piece.start >= ranges[i]!.start && piece.end <= job.end);
      if (mine.length < 2) return;
      job.end = mine[0]!.end; // first, so the job never writes into a piece given away
      for (const piece of mine.slice(1)) this.#addJob(job, piece, true);
    });
  }

  /**
   * The piece for an in-order hand-out of [from, end) to `count` connections, or undefined when the
   * range is too short for one (it must hold the first job's piece plus two per other connection):
   * about a request's worth at `rate` shared by them, or smaller where that does not fit. The first
   * rate is read over a few milliseconds and carries whatever burst the server's pacing or the
   * socket buffers held (several times the link's rate), which sizes the pieces too long; they may
   * shrink as far as the shortest request worth sending at that rate (and never below the smallest
   * piece), so a mid-size file is still handed out in order when the rate was a burst.
   */
  #inOrderPiece(from: number, end: number, count: number, rate: number): number | undefined {
    const fits = (piece: number) => end - this.#alignUp(from + piece) >= IN_ORDER_PIECES * (count - 1) * piece;
    const piece = this.#pieceBytes(rate / count);
    const unit = this.#p.blockAlignment ?? this.#p.alignment;
    // Pieces are whole units from an aligned start, so this many of them end at or before `end`.
    const fitting = Math.floor((end - this.#alignUp(from)) / (IN_ORDER_PIECES * (count - 1) + 1) / unit) * unit;
    const chosen = rate <= 0 || fitting >= piece || fitting < this.#pieceBytes(rate / count, this.#shortestRequestSeconds()) ? piece : fitting;
    return fits(chosen) ? chosen : undefined;
  }

  /** A new job for `range`, split off `from` (which no longer covers it); launched now or kept in reserve. */
  #addJob(from: Job, range: { start: number; end: number }, launch: boolean): Job {
    const added = newJob({ start: range.start, end: range.end, done: 0 });
    this.#p.jobs.push(added);
    this.#p.onSplit?.(from, added);
    if (launch) this.#launch(added);
    return added;
  }

  /** About one request's worth of transfer at `bytesPerSecond` (a whole number of blocks); `seconds` of it when given. */
  #pieceBytes(bytesPerSecond: number, seconds = this.#requestSeconds()): number {
    const bytes = bytesPerSecond > 0 ? bytesPerSecond * seconds : DEFAULT_PIECE_BYTES;
    const max = this.#p.maxPieceBytes ?? MAX_PIECE_BYTES;
    return this.#alignUp(Math.min(max, Math.max(Math.min(MIN_PIECE_BYTES, max), bytes)));
  }

  #alignUp(offset: number): number {
    const unit = this.#p.blockAlignment ?? this.#p.alignment;
    return Math.ceil(offset / unit) * unit;
  }

  /**
   * The next piece from the front of the reserve, for a connection running at `bytesPerSecond`;
   * undefined when nothing is in reserve or (streaming in order) the window is full.
   */
  #takeReserve(bytesPerSecond: number, force = false): Job | undefined {
    const head = this.#reserve[0];
    if (head === undefined) return undefined;
    const limit = this.#p.window?.() ?? Number.POSITIVE_INFINITY;
    if (!force && head.start >= limit) return undefined;
    const piece = this.#pieceBytes(bytesPerSecond > 0 ? bytesPerSecond : this.#typicalSpeed());
    const cut = this.#alignUp(head.start + piece);
    if (head.end - cut < piece / 2) {
      this.#reserve.shift();
      return head;
    }
    this.#reserve[0] = newJob({ start: cut, end: head.end, done: 0 });
    head.end = cut;
    this.#p.jobs.push(this.#reserve[0]);
    this.#p.onSplit?.(head, this.#reserve[0]);
    return head;
  }

  /** Asks the connection control whether to grow, and gives new slots work. */
  #reconsider(): void {
    const before = this.#limit.concurrency;
    const limit = this.#concurrency.evaluate(this.#streamingCount(), this.#now(), this.#receivedThisRun());
    if (limit > before) {
      debug('connections %d -> %d (all of them streaming)', before, limit);
      this.#limit.concurrency = limit; // starts queued jobs first
      this.#stealForFreeSlots();
    }
  }

  /** Lowers the limit after a refusal; true when this job should give its slot back. */
  #overloaded(): boolean {
    this.#secondWave = undefined;
    // The connections that work: every other active one (a job between two requests is not
    // streaming, but its connection is fine). A burst of refusals brings it down one by one.
    const working = Math.max(this.#streamingCount(), this.#limit.activeCount - 1);
    const limit = this.#concurrency.onOverload(working, this.#now());
    debug('connections -> %d (host refused one; %d streaming, %d active)', limit, this.#streamingCount(), this.#limit.activeCount);
    this.#limit.concurrency = limit;
    return this.#limit.activeCount > limit;
  }

  /** Gives every free connection the tail of the job expected to finish last. */
  #stealForFreeSlots(thiefSpeed = 0): void {
    if (this.#signal.aborted) return;
    let free = this.#limit.concurrency - this.#limit.activeCount - this.#limit.pendingCount;
    while (free > 0) {
      const piece = this.#takeReserve(thiefSpeed) ?? this.#splitSlowest(thiefSpeed);
      if (piece === undefined) break;
      this.#launch(piece);
      free--;
    }
    // Nothing worth taking yet (say, the others are still warming up): look again shortly,
    // rather than leave a connection idle until the next job happens to finish.
    if (free > 0 && this.#running > 0 && this.#retrySteal === undefined) {
      this.#retrySteal = setTimeout(() => {
        this.#retrySteal = undefined;
        this.#stealForFreeSlots();
      }, STEAL_RETRY_MS);
      this.#retrySteal.unref();
    }
  }

  #splitSlowest(thiefSpeed: number): Job | undefined {
    const now = this.#now();
    const warmed = [...this.#started].filter((j) => j.active && now - j.attemptStartedAt >= WARMUP_MS);
    const working = [...this.#started].filter((j) => j.active);
    // Before any connection has a speed of its own, judge by the run's average so far.
    const runRate = this.#startedAt === undefined || now <= this.#startedAt ? 0 : (this.#receivedThisRun() * 1000) / (now - this.#startedAt);
    const typical = warmed.length > 0 ? warmed.reduce((sum, j) => sum + speedOf(j, now), 0) / warmed.length : working.length > 0 ? runRate / working.length : 0;
    const capacity = typical * working.length;
    const thief = thiefSpeed > 0 ? thiefSpeed : typical;
    // When everything still to fetch would be done if every connection kept its pace.
    const left = [...this.#started].reduce((sum, j) => sum + Math.max(0, j.end - j.start - j.received), 0);
    const allDoneIn = capacity + thief > 0 ? left / (capacity + thief) : Number.POSITIVE_INFINITY;
    // A job still warming up is assumed typical; one not running at all (backing off) never finishes on its own.
    const speedNow = (job: Job) => (!job.active ? 0 : now - job.attemptStartedAt < WARMUP_MS ? typical : speedOf(job, now));
    const candidates = [...this.#started]
      .map((job) => {
        const speed = speedNow(job);
        const remaining = job.end - job.start - job.received;
        return { job, speed, finishIn: speed > 0 ? remaining / speed : Number.POSITIVE_INFINITY };
      })
      .filter((c) => c.job.end - c.job.start - c.job.received >= 2 * this.#p.minSplitSize)
      .sort((a, b) => b.finishIn - a.finishIn);
    for (const { job, speed, finishIn } of candidates) {
      const cut = this.#cutFor(job, speed, thief, typical, finishIn, allDoneIn);
      if (cut === undefined) continue;
      const piece = newJob({ start: cut, end: job.end, done: 0 });
      debug('steal [%d, %d) from the job at %d (speed %d B/s, finish in %d ms)', cut, job.end, job.start, Math.round(speed), Math.round(finishIn * 1000));
      job.end = cut;
      this.#p.jobs.push(piece);
      this.#p.onSplit?.(job, piece);
      return piece;
    }
    return undefined;
  }

  #clientBound(): boolean {
    return measureElu(this.#elu) > CLIENT_BOUND_ELU;
  }

  /**
   * Where to cut a victim. It keeps what it can fetch by the time the thief has fetched the rest,
   * and no more than it can fetch before the whole download would be done (the rest is shared by
   * every free connection, not one). Cutting inside the victim's current request aborts that
   * response and wastes what the server already pushed into the socket, so that is done only to a
   * straggler (far slower than the others, or not running) or to a response that still has long
   * to run; anyone else is cut no earlier than where its request ends.
   */
  #cutFor(victim: Job, speed: number, thief: number, typical: number, finishIn: number, allDoneIn: number): number | undefined {
    const from = victim.start + victim.received;
    const remaining = victim.end - from;
    const keepBytes = speed > 0 && thief > 0 ? Math.min((remaining * speed) / (speed + thief), speed * allDoneIn) : victim.active ? remaining / 2 : 0;
    const cut = splitPoint(from, victim.end, keepBytes / remaining, this.#p);
    if (cut === undefined) return undefined;
    // A slow thief with a piece it must take whole could end after the victim alone would.
    if (thief > 0 && ((victim.end - cut) / thief) >= finishIn) return undefined;
    const requestEnd = victim.requestEnd ?? victim.end;
    // A cut just past the end of the victim's request would leave it a sliver that needs a
    // request of its own (and a first-byte wait): the thief starts where that request ends instead.
    const snapped = (at: number) => (at > requestEnd && at - requestEnd < this.#p.minSplitSize ? requestEnd : at);
    const leaving = (at: number) => (victim.end - at >= this.#p.minSplitSize ? at : undefined);
    // Waiting for its first bytes (server latency) is not being slow: such a victim is only
    // cut where its request ends, so nothing the server is about to send is thrown away.
    const silent = victim.active && victim.received === victim.attemptStartBytes;
    if (silent) return leaving(snapped(Math.max(cut, requestEnd)));
    const straggler = !victim.active || speed < STRAGGLER_FRACTION * typical;
    // A response that will still take long is worth cutting too: what the server pushed ahead is
    // then small next to what the cut saves.
    const slowToRequestEnd = speed <= 0 || ((requestEnd - from) / speed) * 1000 >= LONG_RESPONSE_MS;
    if ((straggler || slowToRequestEnd) && !this.#clientBound()) return finishIn * 1000 >= STEAL_HORIZON_MS ? leaving(snapped(cut)) : undefined;
    return leaving(snapped(Math.max(cut, requestEnd)));
  }
}

/** Whether the event loop has been busy most of the time lately (re-measured every 100 ms at most). */
function measureElu(state: { mark: ReturnType<typeof performance.eventLoopUtilization>; busy: number }): number {
  const delta = performance.eventLoopUtilization(state.mark);
  if (delta.idle + delta.active >= 100) {
    state.busy = delta.utilization;
    state.mark = performance.eventLoopUtilization();
  }
  return state.busy;
}

/** Codes with which a host turns a connection away (as opposed to DNS failures or timeouts). */
const REFUSED_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']);

function refusedConnection(error: DownloadError): boolean {
  const cause = (error.cause as { code?: unknown } | undefined)?.code;
  return error.code === 'ERR_NETWORK' && typeof cause === 'string' && REFUSED_CONNECTION_CODES.has(cause);
}

function speedOf(job: Job, now: number): number {
  const elapsed = (now - job.attemptStartedAt) / 1000;
  return elapsed > 0 ? (job.received - job.attemptStartBytes) / elapsed : 0;
}
