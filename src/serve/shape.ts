/**
 * Protocol faults that reshape an answer without touching the wire format: redirects, bare
 * statuses, and bodies built in memory (multipart/byteranges, gzip). Pure: plan in, headers
 * and bytes out.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { FaultPlan } from './faults.js';
import { unsatisfiedRange } from './ranges.js';

const MULTIPART_BOUNDARY = 'SEGDL_BYTERANGES_BOUNDARY';

/** A status answer (redirect, or `status`) that replaces the file, or undefined to serve it. */
export function statusAnswer(plan: FaultPlan, size: number): { status: number; headers: OutgoingHttpHeaders } | undefined {
  // A list sends one Location line per entry (a protocol violation on purpose).
  if (plan.redirect !== undefined) return { status: plan.redirectStatus ?? 302, headers: { location: plan.redirect } as OutgoingHttpHeaders };
  if (plan.status === undefined) return undefined;
  const headers: OutgoingHttpHeaders = {};
  if (plan.retryAfter !== undefined) headers['retry-after'] = plan.retryAfter;
  if (plan.status === 416) {
    const range = plan.contentRange ?? unsatisfiedRange(plan.reportedSize ?? size);
    if (range !== false) headers['content-range'] = range;
  }
  return { status: plan.status, headers };
}

/** Whether the body must be built in memory rather than streamed from the file. */
export function shapesBody(plan: FaultPlan): boolean {
  return plan.multipart === true || plan.gzipBody === true;
}

/**
 * The body for `data` (the answered bytes) as `plan` shapes it; updates `headers` to match.
 * `contentRange` is the part's range for a multipart body.
 */
export function shapeBody(data: Buffer, plan: FaultPlan, headers: OutgoingHttpHeaders, contentRange: string | undefined): Buffer {
  let body = data;
  if (plan.multipart) {
    const part = [`--${MULTIPART_BOUNDARY}`, 'content-type: application/octet-stream', `content-range: ${contentRange ?? ''}`, '', ''].join('\r\n');
    body = Buffer.concat([Buffer.from(part), body, Buffer.from(`\r\n--${MULTIPART_BOUNDARY}--\r\n`)]);
    headers['content-type'] = `multipart/byteranges; boundary=${MULTIPART_BOUNDARY}`;
    delete headers['content-range'];
  }
  if (plan.gzipBody) body = gzipSync(body);
  if (headers['content-length'] !== undefined) headers['content-length'] = body.length;
  return body;
}
