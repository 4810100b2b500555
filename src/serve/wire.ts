/**
 * Responses written straight to the socket, for the framing faults Node's http server will not
 * produce: invalid or duplicated Content-Length, close-delimited bodies, chunked framing with a
 * Content-Length too or a corrupt size line, and header blocks cut short. The connection is
 * always closed afterwards (the http server never learns of the exchange). The body is built in
 * memory and sent at once: pacing, resets and stalls do not apply to these answers. Header text
 * is written as UTF-8, so a `utf8Location` redirect carries the raw bytes of its Location.
 * Also the replies only a raw write can send: 1xx heads before the answer, transfer codings
 * other than chunked, and an unframed answer on a connection left open.
 */
import { STATUS_CODES, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { FaultPlan } from './faults.js';

const CHUNK = 16 * 1024;
/** A size line no HTTP/1.1 parser may accept: 19 hex digits overflow 64 bits. */
const OVERFLOW_SIZE_LINE = 'fffffffffffffffffff\r\n';
const BAD_SIZE_LINE = 'zz\r\n';

/** Whether `plan` asks for a response only a raw write can produce. */
export function needsRawWrite(plan: FaultPlan): boolean {
  return (
    plan.contentLength !== undefined ||
    plan.truncateHeaders !== undefined ||
    plan.chunkFault !== undefined ||
    plan.framing === 'close' ||
    plan.framing === 'chunked+length' ||
    plan.interim !== undefined ||
    plan.transferEncoding !== undefined ||
    plan.keepOpen === true
  );
}

/** Informational heads: a 103 carries headers (a Link, and a Content-Length) that belong to no body. */
function interimHeads(statuses: readonly number[]): string {
  return statuses
    .map((status) => `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${status === 103 ? 'link: </style.css>; rel=preload\r\ncontent-length: 7\r\n' : ''}\r\n`)
    .join('');
}

/**
 * Writes the status line, `headers` (a list value → one line each) and `body` framed as `plan`
 * says, then closes. `body` undefined means a HEAD answer. Resolves with the body bytes sent.
 */
export async function writeRaw(socket: Socket, status: number, headers: OutgoingHttpHeaders, body: Buffer | undefined, plan: FaultPlan): Promise<number> {
  const framing = plan.framing ?? 'length';
  const out: OutgoingHttpHeaders = plan.keepOpen ? { ...headers } : { ...headers, connection: 'close' };
  delete out['transfer-encoding'];
  // A coding list frames the body by chunks only when chunked is its last coding (RFC 9112 §6.1); else it is close-delimited.
  const coding = plan.transferEncoding;
  let chunked = false;
  if (body !== undefined) {
    delete out['content-length'];
    if (coding !== undefined && /gzip/i.test(coding)) body = gzipSync(body);
    chunked = coding !== undefined ? /chunked\s*$/i.test(coding) : framing === 'chunked' || framing === 'chunked+length' || plan.chunkFault !== undefined;
    if (coding !== undefined) out['transfer-encoding'] = coding;
    else if (chunked) out['transfer-encoding'] = 'chunked';
    if ((framing === 'length' && !chunked && coding === undefined) || framing === 'chunked+length') out['content-length'] = body.length;
  }
  if (plan.contentLength !== undefined) (out as Record<string, unknown>)['content-length'] = plan.contentLength;
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`];
  for (const [name, value] of Object.entries(out)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(v)}`);
  }
  const head = `${plan.interim ? interimHeads(plan.interim) : ''}${lines.join('\r\n')}\r\n`;
  if (plan.truncateHeaders === 'no-final-crlf') return end(socket, [Buffer.from(head)], 0, plan);
  const parts: Buffer[] = [Buffer.from(`${head}\r\n`)];
  if (body === undefined || plan.truncateHeaders === 'after-headers') return end(socket, parts, 0, plan);

  const payload = plan.extraBytes ? Buffer.concat([body, Buffer.alloc(plan.extraBytes, 0xee)]) : body;
  if (!chunked) {
    parts.push(payload);
    return end(socket, parts, payload.length, plan);
  }
  // At least two chunks, so a framing fault always lands after some good data.
  const size = Math.max(1, Math.min(CHUNK, Math.ceil(payload.length / 2)));
  let sent = 0;
  for (let at = 0; at < payload.length; at += size) {
    if (plan.chunkFault !== undefined && at >= payload.length / 2) {
      parts.push(Buffer.from(plan.chunkFault === 'overflow' ? OVERFLOW_SIZE_LINE : BAD_SIZE_LINE), payload.subarray(at));
      return end(socket, parts, sent, plan);
    }
    const piece = payload.subarray(at, at + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
    sent += piece.length;
  }
  if (!plan.closeBeforeEnd) parts.push(Buffer.from('0\r\n\r\n'));
  return end(socket, parts, sent, plan);
}

/** Sends `parts` and closes the connection (keepOpen: leaves it open, as a server that never finishes would). */
function end(socket: Socket, parts: Buffer[], bodyBytes: number, plan: FaultPlan): Promise<number> {
  return new Promise((resolve) => {
    if (plan.keepOpen) return void socket.write(Buffer.concat(parts), () => resolve(bodyBytes));
    socket.end(Buffer.concat(parts), () => resolve(bodyBytes));
    // A client that already hung up never calls back: settle on close too.
    socket.once('close', () => resolve(bodyBytes));
  });
}
