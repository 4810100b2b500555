/**
 * One attempt at one job: a ranged GET for the rest of the job, gated, streamed into the
 * job's own positions in the .part file. Stops exactly at the job's end even when that end
 * shrinks mid-request (work stealing) or the server sends more than asked.
 */
import type { Dispatcher } from 'undici';
import { rangeHeader } from '../http/content-range.js';
import { DownloadError } from '../errors.js';
import type { PendingResponse } from '../http/pending-response.js';
import { checkRangeResponse, checkWholeResponse, type Expected } from '../http/response-gate.js';
import type { Job, RequestPace } from '../schedule/scheduler.js';
import { ConnectionFlow } from './flow.js';
import type { RateLimiter } from './rate-limit.js';
import type { StallPolicy } from './stall.js';
import { sendRequest, type ResponseSink } from '../http/transport.js';
import type { DirectPool } from '../http/direct/connections.js';
import { sendSegmentRequest } from '../http/direct/route.js';
import type { DirectSink } from '../http/direct/send-direct.js';
import { SegmentWriter, type WriteTarget, type WriterHooks } from '../disk/writer.js';
import type { PieceHashing, SealedHash } from '../verify/piece-hashing.js';

/**
 * Bytes each fresh segment re-reads from its left neighbour. Both copies must agree once on
 * disk: a server that shifts one body under a correct header is caught at the seam.
 */
export const SEAM_BYTES = 16;

export interface FetchContext {
  dispatcher: Dispatcher;
  url: URL;
  headers: Record<string, string>;
  /** Where the bytes go: the .part file, or the in-order window of a stream. */
  target: WriteTarget;
  expected: Expected;
  stall: StallPolicy;
  headersTimeoutMs: number;
  /** Called after bytes are written (never before). */
  onWritten(job: Job, bytes: number): void;
  /** The direct receive path's connections, when this download may use it (http or https, no proxy, no caller's dispatcher). */
  direct?: DirectPool | undefined;
  /** Hashes every batch as it is written (ranged mode into a file). */
  hashing?: PieceHashing;
  /** Bandwidth limits every received byte counts against (the download's, a queue's). */
  limiters?: readonly RateLimiter[];
  /** The download's first response, if it is still waiting and its body starts at `first`: taken instead of a new request. */
  adopt?: (first: number) => PendingResponse | undefined;
}

/** Waits until every byte received is written, then gives the writer's buffers back; a failure before (or of) the flush is thrown. */
async function flushAfter(writer: SegmentWriter<never>, failure: unknown): Promise<void> {
  // Bytes that passed the gate are good even if the connection failed later: keep them.
  try {
    await writer.flush();
  } catch (error) {
    failure ??= error;
  } finally {
    writer.close();
  }
  if (failure !== undefined) throw failure;
}

/** A job's first request asks for at most this much when no speed is known at all. */
const FIRST_REQUEST_BYTES = 8 * 1024 * 1024;
const MIN_REQUEST_BYTES = 1024 * 1024;
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
const REQUEST_ALIGNMENT = 64 * 1024;

/** The largest read into place while a bandwidth cap applies. */
const LIMITED_READ_BYTES = 16 * 1024;

const STEADY_PACE: RequestPace = { seconds: () => 1, typicalSpeed: () => 0 };

/**
 * Where the next request of `job` should end. Requests are bounded so that work stealing can
 * usually cut a job where its current request ends anyway, instead of cutting a response short
 * (which wastes whatever the server already pushed into the socket); near the end they shrink, so
 * a connection that runs out of work soon finds a request end to take over from.
 */
function nextRequestEnd(job: Job, from: number, bytesPerSecond: number, pace: RequestPace): number {
  const speed = bytesPerSecond > 0 ? bytesPerSecond : pace.typicalSpeed();
  const size = speed > 0 ? Math.min(MAX_REQUEST_BYTES, Math.max(MIN_REQUEST_BYTES, speed * pace.seconds())) : FIRST_REQUEST_BYTES;
  const end = Math.ceil((from + size) / REQUEST_ALIGNMENT) * REQUEST_ALIGNMENT;
  // Never leave a sliver behind that would need a request of its own.
  return end + MIN_REQUEST_BYTES >= job.end ? job.end : end;
}

/** Fetches the rest of `job` in one or more ranged requests on (usually) one kept-alive connection. */
export async function fetchJob(ctx: FetchContext, job: Job, signal: AbortSignal, onStreaming: () => void = () => {}, pace: RequestPace = STEADY_PACE): Promise<void> {
  const hashing = ctx.hashing;
  const hooks: WriterHooks<SealedHash | undefined> = {
    sealed: (bytes, position) => hashing?.sealed(job, bytes, position),
    // The piece hash covers exactly the bytes counted as done: both change here, together.
    written(bytes, sealed) {
      if (sealed === undefined) job.done += bytes;
      else hashing!.written(job, bytes, sealed);
      ctx.onWritten(job, bytes);
    },
  };
  const writer = new SegmentWriter(ctx.target, job.start + job.done, hooks);
  const startedAt = Date.now();
  const startBytes = job.received;
  let failure: unknown;
  try {
    while (job.start + job.received < job.end) {
      pace.beforeRequest?.(job);
      const elapsed = (Date.now() - startedAt) / 1000;
      const speed = elapsed > 0 && job.received > startBytes ? (job.received - startBytes) / elapsed : 0;
      const from = job.start + job.received;
      const pending = ctx.adopt?.(from - seamLength(job));
      job.requestEnd = pending?.end ?? nextRequestEnd(job, from, speed, pace);
      const outcome = await fetchRange(ctx, job, signal, onStreaming, writer, job.requestEnd, pending);
      if (outcome === 'already-complete') break; // 416 */size for a range starting at size
      if (job.start + job.received < Math.min(job.requestEnd, job.end)) break; // the response ended early
    }
  } catch (error) {
    failure = error;
  } finally {
    job.requestEnd = undefined;
  }
  await flushAfter(writer as SegmentWriter<never>, failure);
  hashing?.settle(job);
  if (job.done < job.end - job.start) {
    throw new DownloadError('ERR_INCOMPLETE', `connection ended after ${job.done} of ${job.end - job.start} bytes`, {
      url: ctx.url.href,
      segment: { start: job.start, end: job.end },
    });
  }
}

/** A segment's first request also asks for a few bytes before its start (its seam with the left neighbour). */
export function seamLength(job: Pick<Job, 'received' | 'start'>): number {
  return job.received === 0 && job.start >= SEAM_BYTES ? SEAM_BYTES : 0;
}

/** One ranged GET for [start + received, requestEnd) of `job` into `writer`, or the adopted first response. */
async function fetchRange(
  ctx: FetchContext,
  job: Job,
  signal: AbortSignal,
  onStreaming: () => void,
  writer: SegmentWriter<SealedHash | undefined>,
  requestEnd: number,
  pending: PendingResponse | undefined,
): Promise<'body' | 'already-complete'> {
  const seam = seamLength(job) > 0 ? Buffer.alloc(SEAM_BYTES) : undefined;
  let seamMissing = seam?.length ?? 0;
  const first = job.start + job.received - seamMissing;
  const last = requestEnd - 1;
  let complete = false;
  const headers: Record<string, string> = { ...ctx.headers, range: rangeHeader(first, last), 'accept-encoding': 'identity' };
  // If-Range only with a strong validator: a changed file then answers 200, never a spliced 206.
  if (ctx.expected.etag !== undefined) headers['if-range'] = ctx.expected.etag;
  const flow = new ConnectionFlow(ctx.limiters ?? []);
  const limited = (ctx.limiters ?? []).some((l) => l.bytesPerSecond !== Number.POSITIVE_INFINITY);
  /** Room left before the job's end (which a steal may move) or the request's. */
  const roomNow = () => Math.min(job.end, requestEnd) - job.start - job.received;
  const sink: DirectSink = {
    head(response) {
      const expected = { ...ctx.expected, url: response.url.href };
      // The first response may be a 200 that still advertised ranges: the whole file from byte 0.
      if (pending?.whole) {
        if (checkWholeResponse(response.status, response.headers, expected) !== expected.size) throw new DownloadError('ERR_PROTOCOL', 'first response changed size', { url: expected.url });
      } else {
        complete = checkRangeResponse(response.status, response.headers, first, last, expected).kind === 'already-complete';
      }
      if (!complete) onStreaming();
    },
    data(chunk, reused = false) {
      if (seamMissing > 0) {
        const take = Math.min(seamMissing, chunk.length);
        chunk.copy(seam!, seam!.length - seamMissing, 0, take);
        seamMissing -= take;
        if (seamMissing === 0) job.seam = seam;
        if (take === chunk.length) return true;
        chunk = chunk.subarray(take);
      }
      // `job.end` may have moved below the request's end since it was sent: never write past it.
      const room = roomNow();
      if (room <= 0 || complete) return false;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      job.received += piece.length;
      writer.push(piece, reused);
      flow.take(piece.length);
      return wantsMore(piece.length, chunk.length, room);
    },
    region() {
      if (seamMissing > 0 || complete) return undefined;
      // Under a bandwidth cap, reads stay as small as undici's chunks, so the cap is kept closely.
      const room = limited ? Math.min(roomNow(), LIMITED_READ_BYTES) : roomNow();
      const region = room > 0 ? writer.region() : undefined;
      return region !== undefined && region.length > room ? region.subarray(0, room) : region;
    },
    landed(bytes) {
      const room = roomNow();
      const take = Math.max(0, Math.min(bytes, room));
      if (take > 0) {
        job.received += take;
        writer.landed(take);
        flow.take(take);
      }
      return take > 0 && wantsMore(take, bytes, room);
    },
  };
  /**
   * Keep reading while bytes are missing. At the end, let a response that ends where we stop
   * finish by itself (the connection stays alive); cut one that would go on (a steal moved the
   * job's end, or the server sends more than asked).
   */
  const wantsMore = (taken: number, offered: number, room: number) => taken < room || (taken === offered && Math.min(job.end, requestEnd) - 1 === last);
  const spec = { url: ctx.url, method: 'GET' as const, headers, signal, headersTimeoutMs: ctx.headersTimeoutMs };
  const handle = pending?.adopt(sink, signal) ?? sendSegmentRequest(ctx.dispatcher, ctx.direct, spec, sink);
  await flow.drive(handle, writer, ctx.stall, () => job.received + job.done, ctx.url.href);
  return complete ? 'already-complete' : 'body';
}

/**
 * Single-stream mode (no ranges, or no length): one plain GET from byte 0. A retry starts over,
 * since there is no way to ask for the rest. Returns the final size.
 */
export async function fetchWhole(
  ctx: Omit<FetchContext, 'expected'> & { expected: Omit<Expected, 'size'> & { size: number | undefined }; maxSize: number },
  job: Job,
  signal: AbortSignal,
  /** Sees every batch in file order as it is written (the bytes arrive in order here). */
  inOrder: (bytes: Buffer) => void,
): Promise<number> {
  job.done = 0;
  job.received = 0;
  let length: number | undefined;
  const writer = new SegmentWriter<void>(ctx.target, 0, {
    sealed: (bytes) => inOrder(bytes),
    written(bytes) {
      job.done += bytes;
      ctx.onWritten(job, bytes);
    },
  });
  const headers = { ...ctx.headers, 'accept-encoding': 'identity' };
  const flow = new ConnectionFlow(ctx.limiters ?? []);
  const sink: ResponseSink = {
    head(response) {
      length = checkWholeResponse(response.status, response.headers, { ...ctx.expected, url: response.url.href });
      if (length !== undefined && length > ctx.maxSize) {
        throw new DownloadError('ERR_TOO_LARGE', `file is ${length} bytes, the limit is ${ctx.maxSize}`, { url: response.url.href });
      }
      if (length !== undefined) job.end = length;
    },
    data(chunk) {
      if (job.received + chunk.length > ctx.maxSize) {
        throw new DownloadError('ERR_TOO_LARGE', `body exceeds the limit of ${ctx.maxSize} bytes`, { url: ctx.url.href });
      }
      const room = job.end - job.received;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      job.received += piece.length;
      writer.push(piece);
      flow.take(piece.length);
      return job.received < job.end;
    },
  };
  // The download's first response, if it was a 200, is this very request.
  const pending = ctx.adopt?.(0);
  const handle = pending?.whole ? pending.adopt(sink, signal) : sendRequest(ctx.dispatcher, { url: ctx.url, method: 'GET', headers, signal, headersTimeoutMs: ctx.headersTimeoutMs }, sink);
  let failure: unknown;
  await flow.drive(handle, writer, ctx.stall, () => job.received + job.done, ctx.url.href).catch((error: unknown) => {
    failure = error;
  });
  await flushAfter(writer as SegmentWriter<never>, failure);
  if (length !== undefined && job.done !== length) {
    throw new DownloadError('ERR_INCOMPLETE', `connection ended after ${job.done} of ${length} bytes`, { url: ctx.url.href });
  }
  job.end = job.done;
  return job.done;
}
