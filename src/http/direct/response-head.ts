/**
 * The status line and header fields of an HTTP/1.1 response, for the direct receive path. Strict,
 * as undici's parser is: a malformed line, a header without a name, obs-fold, control characters
 * or an oversized head are a protocol error, never guessed at.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { DownloadError } from '../../errors.js';

/** undici's default limit for a response head. */
export const MAX_HEAD_BYTES = 16 * 1024;

export interface ParsedHead {
  status: number;
  /** HTTP/1.0 or 1.1. */
  minorVersion: 0 | 1;
  headers: IncomingHttpHeaders;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\x00-\x08\x0a-\x1f\x7f]*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible characters, spaces, tabs and obs-text; nothing else. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Where the head ends (the index after its blank line), or -1 while it is incomplete. */
export function headEnd(bytes: Buffer): number {
  const at = bytes.indexOf('\r\n\r\n');
  return at < 0 ? -1 : at + 4;
}

export function parseHead(bytes: Buffer, url: string): ParsedHead {
  const lines = bytes.toString('latin1').split('\r\n');
  // The head ends with an empty line, so the split leaves two empty strings at the end.
  lines.length -= 2;
  const bad = (why: string) => new DownloadError('ERR_PROTOCOL', `malformed response: ${why}`, { url });
  const status = STATUS_LINE.exec(lines[0] ?? '');
  if (status === null) throw bad('invalid status line');
  const headers: IncomingHttpHeaders = {};
  for (const line of lines.slice(1)) {
    if (line.includes('\n') || line.includes('\r')) throw bad('bare CR or LF in the head');
    if (line.startsWith(' ') || line.startsWith('\t')) throw bad('obsolete line folding');
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon);
    if (!TOKEN.test(name)) throw bad(`invalid header line "${line.slice(0, 40)}"`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(value)) throw bad(`invalid character in header ${name}`);
    const key = name.toLowerCase();
    const previous = headers[key];
    if (previous === undefined) headers[key] = value;
    else headers[key] = Array.isArray(previous) ? [...previous, value] : [previous as string, value];
  }
  return { status: Number(status[2]), minorVersion: status[1] === '0' ? 0 : 1, headers };
}

/** The body length a head announces: a number, 'none' (no Content-Length), or a protocol error. */
export function bodyLength(headers: IncomingHttpHeaders, url: string): number | 'none' {
  const value = headers['content-length'];
  if (value === undefined) return 'none';
  if (Array.isArray(value)) throw new DownloadError('ERR_PROTOCOL', 'malformed response: more than one Content-Length', { url });
  if (!/^\d+$/.test(value)) throw new DownloadError('ERR_PROTOCOL', `malformed response: invalid Content-Length "${value.slice(0, 40)}"`, { url });
  return Number(value);
}

/** Whether the connection may carry another request after this response. */
export function keepsAlive(head: ParsedHead): boolean {
  const tokens = [head.headers['connection'] ?? []]
    .flat()
    .flatMap((v) => v.split(','))
    .map((t) => t.trim().toLowerCase());
  if (tokens.includes('close')) return false;
  return head.minorVersion === 1 || tokens.includes('keep-alive');
}
