/**
 * Answers one request: GET/HEAD of a file with RFC 9110 range semantics, with the fault plan
 * for this request applied. Every path closes the file it opened.
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { debuglog } from 'node:util';
import { sendBody } from './body.js';
import { shapeBody, shapesBody, statusAnswer } from './shape.js';
import { needsRawWrite, writeRaw } from './wire.js';
import type { Connection, ConnectionTracker } from './connections.js';
import { rateFor, validateFaults, type FaultPlan, type FaultState } from './faults.js';
import type { TokenBucket } from './throttle.js';
import { resolveTarget, type Root } from './paths.js';
import {
  contentRange,
  ifRangeHolds,
  notModifiedSince,
  parseRange,
  unsatisfiedRange,
  type RangeRequest,
  type Validators,
} from './ranges.js';
import type { RequestRecord, ServerStats } from './types.js';

export interface HandlerContext {
  root: Root;
  faults: FaultState;
  faultFor: ((req: RequestRecord) => FaultPlan | undefined) | undefined;
  connections: ConnectionTracker;
  requests: RequestRecord[];
  stats: ServerStats;
  /** Paces every response together when `totalRateBytesPerSec` is set. */
  sharedBucket: TokenBucket;
}

const debug = debuglog('segdl');

// O_NONBLOCK so a FIFO planted in the root cannot hang open(); regular files ignore it.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export async function handleRequest(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const connection = ctx.connections.get(req.socket);
  const record: RequestRecord = {
    index: ctx.requests.length,
    connection: connection?.number ?? 0,
    method: req.method ?? '',
    path: req.url ?? '',
    headers: { ...req.headers },
    range: undefined,
    status: 0,
    bytesSent: 0,
  };
  ctx.requests.push(record);
  const closed = new AbortController();
  res.once('close', () => closed.abort());
  try {
    await answer(ctx, req, res, { record, connection, closed: closed.signal });
  } catch (err) {
    // The client went away (or close() ran) while we waited: nothing left to answer.
    if (closed.signal.aborted) return;
    debug('%s %s failed: %O', record.method, record.path, err);
    if (res.headersSent) res.destroy();
    else reply(res, record, 500);
  }
}

interface Exchange {
  record: RequestRecord;
  connection: Connection | undefined;
  /** Aborts when the response closes early. */
  closed: AbortSignal;
}

async function answer(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, ex: Exchange): Promise<void> {
  const { record, connection, closed } = ex;
  const method = record.method;
  if (method !== 'GET' && method !== 'HEAD') return reply(res, record, 405, { allow: 'GET, HEAD' });
  const target = resolveTarget(ctx.root, record.path);
  if (!target.ok) return reply(res, record, target.status);
  const opened = await openRegular(target.path);
  if (!opened) return reply(res, record, 404);
  const { file, stat } = opened;

  try {
    const range = method === 'GET' ? parseRange(single(req.headers.range), stat.size) : { kind: 'none' as const };
    if (range.kind === 'single') record.range = { start: range.start, end: range.end };

    const plan = planFor(ctx, record);
    if (plan.firstByteLatencyMs) await sleep(plan.firstByteLatencyMs, undefined, { signal: closed });
    if (plan.resetConnection) return void req.socket.resetAndDestroy();

    if (connection && plan.maxConnections !== undefined && ctx.connections.rankOf(connection) > plan.maxConnections) {
      ctx.stats.refused++;
      if (plan.maxConnectionsMode === 'reset') return void req.socket.resetAndDestroy();
      // Close the extra connection so it stops counting against the limit.
      return reply(res, record, 503, { 'retry-after': '1', connection: 'close' });
    }
    if (ctx.faults.takeUnavailable(plan, method)) {
      return reply(res, record, 503, { 'retry-after': plan.unavailable?.retryAfter ?? '1' });
    }

    const early = statusAnswer(plan, stat.size);
    if (early && (plan.utf8Location || needsRawWrite(plan))) {
      // Written raw: a UTF-8 Location, 1xx heads first, or (keepOpen) no body and no length at all, so it never ends.
      if (!plan.keepOpen) return replyRaw(req, record, early.status, early.headers, plan);
      record.status = early.status;
      return void (await writeRaw(req.socket, early.status, early.headers, undefined, plan));
    }
    if (early) return reply(res, record, early.status, early.headers);

    const validators = validatorsOf(stat, ctx.faults.generationFor(plan, method), plan.weakEtag === true);
    if (!plan.ignoreConditionals && notModifiedSince(single(req.headers['if-modified-since']), single(req.headers['if-none-match']), validators)) {
      record.status = 304;
      res.writeHead(304, { etag: validators.etag, 'last-modified': validators.lastModified });
      return void res.end();
    }
    const choice = chooseAnswer(range, plan, validators, single(req.headers['if-range']), stat.size);
    const headers = headersFor(choice, plan, validators, stat.size);
    const length = choice.end - choice.start;
    // A lying server keeps the framing (same length) but reads from elsewhere in the file.
    const offset = clamp(choice.start + (plan.shiftBody ?? 0), 0, stat.size - length);
    const bodyless = method === 'HEAD' || choice.status === 416;
    if (needsRawWrite(plan) || shapesBody(plan)) {
      let body = bodyless ? undefined : await readRange(file, offset, length);
      if (body !== undefined) body = shapeBody(body, plan, headers, single(headers['content-range'] as string | undefined));
      record.status = choice.status;
      const sent = needsRawWrite(plan) ? await writeRaw(req.socket, choice.status, headers, body, plan) : await endWith(res, choice.status, headers, body);
      record.bytesSent += sent;
      ctx.stats.bytesSent += sent;
      return;
    }
    res.writeHead(choice.status, headers);
    record.status = choice.status;
    if (bodyless) return void res.end();

    const rate = connection ? rateFor(plan, connection.number) : undefined;
    await sendBody({
      file,
      offset,
      length,
      res,
      signal: closed,
      pace: connection && rate ? { bucket: connection.bucket, rate } : undefined,
      sharedPace: plan.totalRateBytesPerSec ? { bucket: ctx.sharedBucket, rate: plan.totalRateBytesPerSec } : undefined,
      resetAfterBytes: plan.resetAfterBytes,
      stallAfterBytes: plan.stallAfterBytes,
      extraBytes: plan.extraBytes,
      closeBeforeEnd: plan.closeBeforeEnd,
      onSent: (bytes) => {
        record.bytesSent += bytes;
        ctx.stats.bytesSent += bytes;
      },
    });
  } finally {
    await file.close();
  }
}

function planFor(ctx: HandlerContext, record: RequestRecord): FaultPlan {
  const override = ctx.faultFor?.(record);
  if (!override) return ctx.faults.faults;
  validateFaults(override);
  return { ...ctx.faults.faults, ...override };
}

/** What to send: a status and the file bytes [start, end) of the body (end exclusive). */
interface Answer {
  status: 200 | 206 | 416;
  start: number;
  end: number;
  chunked: boolean;
  acceptRanges: boolean;
}

function chooseAnswer(
  range: RangeRequest,
  plan: FaultPlan,
  validators: Validators,
  ifRange: string | undefined,
  size: number,
): Answer {
  const full: Answer = { status: 200, start: 0, end: size, chunked: false, acceptRanges: !plan.ignoreRanges };
  if (plan.noLength) return { ...full, chunked: true, acceptRanges: false };
  if (plan.ignoreRanges || !ifRangeHolds(ifRange, validators)) return full;
  if (range.kind === 'unsatisfiable') return { ...full, status: 416, start: 0, end: 0 };
  if (range.kind !== 'single' || (plan.ignoreRangesAfterZero && range.start > 0) || (plan.ignoreRangesAtZero && range.start === 0)) return full;
  const last = clamp(range.end + (plan.rangeEndDelta ?? 0), range.start, size - 1);
  return { ...full, status: 206, start: range.start, end: last + 1, chunked: plan.framing === 'chunked' };
}

function headersFor(answer: Answer, plan: FaultPlan, validators: Validators, size: number): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    'content-type': 'application/octet-stream',
    etag: validators.etag,
    'last-modified': validators.lastModified,
  };
  if (answer.acceptRanges) headers['accept-ranges'] = 'bytes';
  if (plan.contentDisposition !== undefined) headers['content-disposition'] = plan.contentDisposition;
  if (plan.contentEncoding !== undefined && answer.status !== 416) headers['content-encoding'] = plan.contentEncoding;
  if (!answer.chunked) headers['content-length'] = answer.end - answer.start;
  const reported = plan.reportedSize ?? size;
  if (answer.status === 416) headers['content-range'] = unsatisfiedRange(reported);
  if (answer.status === 206) {
    const shift = plan.shiftContentRange ?? 0;
    headers['content-range'] = contentRange(answer.start + shift, answer.end - 1 + shift, reported);
  }
  if (answer.status !== 200 && plan.contentRange !== undefined) {
    if (plan.contentRange === false) delete headers['content-range'];
    else headers['content-range'] = plan.contentRange;
  }
  return headers;
}

/** Strong by default; derived from what changes when the file does, plus the fault generation. */
function validatorsOf(stat: Stats, generation: number, weak: boolean): Validators {
  const tag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}-${generation}"`;
  const seconds = Math.floor(stat.mtimeMs / 1000) + generation;
  return { etag: weak ? `W/${tag}` : tag, lastModified: new Date(seconds * 1000).toUTCString() };
}

/** Sends a body built in memory; resolves with its length once the socket has it. */
function endWith(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Buffer | undefined): Promise<number> {
  return new Promise((resolve) => {
    res.once('close', () => resolve(0)); // a client that hung up never lets the response finish
    res.writeHead(status, headers).end(body, () => resolve(body?.length ?? 0));
  });
}

/** Bytes [offset, offset + length) of `file` (fewer at EOF), for bodies built in memory. */
async function readRange(file: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, offset + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** The stat comes from the open descriptor, so what is checked is exactly what is served. */
async function openRegular(path: string): Promise<{ file: FileHandle; stat: Stats } | undefined> {
  let file: FileHandle;
  try {
    file = await open(path, OPEN_FLAGS);
  } catch {
    return undefined; // missing, a symlink (ELOOP), unreadable: all "not found" to the client
  }
  try {
    const stat = await file.stat();
    if (stat.isFile()) return { file, stat };
  } catch {
    // fall through: treat as not found
  }
  await file.close();
  return undefined;
}

function reply(res: ServerResponse, record: RequestRecord, status: number, headers: OutgoingHttpHeaders = {}): void {
  const body = statusBody(status);
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  record.status = status;
  res.end(record.method === 'HEAD' ? undefined : body);
}

/** The same answer written to the socket as UTF-8 text: header values may hold raw UTF-8 bytes. */
async function replyRaw(req: IncomingMessage, record: RequestRecord, status: number, headers: OutgoingHttpHeaders, plan: FaultPlan): Promise<void> {
  record.status = status;
  const body = record.method === 'HEAD' ? undefined : Buffer.from(statusBody(status));
  await writeRaw(req.socket, status, { 'content-type': 'text/plain; charset=utf-8', ...headers }, body, plan);
}

function statusBody(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? ''}\n`;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
