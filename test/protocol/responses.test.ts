/** Catalogue cases 9-11 and 14: answers to a ranged request that must never reach the file. */
import { describe, expect, it } from 'vitest';
import { DownloadError, type DownloadOptions, type FaultPlan, type RequestRecord } from '../../src/index.js';
import { checkRangeResponse } from '../../src/http/response-gate.js';
import type { TestServer } from '../helpers/server.js';
import { afterFirst, expectLaterUntouched, expectNothing, expectResumable, gets, MiB, PACED, rootCode, run, useScratch, type Run } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;

/**
 * Each refusal is checked where it can happen: on the download's first response (nothing is
 * created, nothing retried: the server is broken) and on a later segment's (the download stops
 * resumable, and none of that response's bytes reached the file).
 */
const WHERE = ['first', 'later'] as const;
type Where = (typeof WHERE)[number];

async function refused(where: Where, plan: FaultPlan, options: DownloadOptions = {}): Promise<{ r: Run; t: TestServer }> {
  const t = where === 'first' ? await ctx.serve(SIZE, {}, (q) => (q.index === 0 ? plan : undefined)) : await ctx.serve(SIZE, PACED, afterFirst(plan));
  const r = await run(t.server.url, ctx.out, options);
  if (where === 'first') {
    await expectNothing(r, ctx.out);
    expect(gets(t)).toHaveLength(1);
  } else {
    await expectResumable(r, ctx.out, SIZE);
    await expectLaterUntouched(r, t);
  }
  return { r, t };
}

describe('responses that must be refused (catalogue cases 9-11, 14)', () => {
  it.each(WHERE)('case 9: a single range answered with multipart/byteranges is ProtocolError; no boundary line reaches the file (%s response)', async (where) => {
    const { r, t } = await refused(where, { multipart: true });
    expect(rootCode(r.error)).toBe('ERR_PROTOCOL');
    expect(rootCause(r.error)?.message).toMatch(/multipart/i);
    expect(gets(t).every((q) => q.status === 206)).toBe(true);
  });

  it.each(WHERE.flatMap((where) => [['one byte short', where, -1], ['one byte long', where, 1]] as const))(
    'case 10: a 206 whose Content-Length is %s of last-first+1 is ProtocolError (%s response)',
    async (_name, where, delta) => {
      const t0 = SIZE; // the first response covers the whole file
      const plan = (q: RequestRecord): FaultPlan => ({ contentLength: String((q.range ? q.range.end - q.range.start + 1 : t0) + delta) });
      const t = where === 'first' ? await ctx.serve(SIZE, {}, (q) => (q.index === 0 ? plan(q) : undefined)) : await ctx.serve(SIZE, PACED, (q) => (q.index > 0 ? plan(q) : undefined));
      const r = await run(t.server.url, ctx.out);
      expect(rootCode(r.error)).toBe('ERR_PROTOCOL');
      expect(rootCause(r.error)?.message).toContain('Content-Length');
      if (where === 'first') await expectNothing(r, ctx.out);
      else await expectResumable(r, ctx.out, SIZE);
    },
  );

  // segdl never asks for bytes at or past N itself (its jobs come from the size it was told and a
  // complete manifest sends no request), so only the gate can be driven with this answer.
  it('case 11: 416 */N when resuming at N is success with nothing written (gate)', () => {
    const expected = { url: 'http://x/', size: 1000, etag: undefined, lastModified: undefined };
    expect(checkRangeResponse(416, { 'content-range': 'bytes */1000' }, 1000, 1999, expected)).toEqual({ kind: 'already-complete' });
  });

  it('case 11: 416 */M with M < N on a later segment is RemoteChanged', async () => {
    const { r } = await refused('later', { status: 416, reportedSize: SIZE - 1000 }, { ifRemoteChanged: 'fail' });
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
  });

  it('case 11: 416 */M with M > 0 to the first request (which starts at 0) is ProtocolError', async () => {
    const { r } = await refused('first', { status: 416, reportedSize: SIZE - 1000 });
    expect(r.error?.code).toBe('ERR_PROTOCOL');
  });

  it.each(WHERE)('case 11: 416 without Content-Range is ProtocolError (%s response)', async (where) => {
    const { r } = await refused(where, { status: 416, contentRange: false });
    expect(rootCode(r.error)).toBe('ERR_PROTOCOL');
  });

  it.each(
    WHERE.flatMap((where) => [
      ['header only, body unchanged', { contentEncoding: 'gzip' }, where],
      ['gzipped body', { contentEncoding: 'gzip', gzipBody: true }, where],
    ] as const),
  )('case 14: Content-Encoding: gzip on a 206 (%s) is rejected, never decompressed into the file (%s response)', async (_name, plan, where) => {
    const { r } = await refused(where, plan);
    expect(rootCode(r.error)).toBe('ERR_PROTOCOL');
    expect(rootCause(r.error)?.message).toMatch(/Content-Encoding/i);
  });

  it('case 14: a server that gzips every answer never yields a final file', async () => {
    const t = await ctx.serve(SIZE, { contentEncoding: 'gzip', gzipBody: true });
    const r = await run(t.server.url, ctx.out);
    expect(r.error).toBeInstanceOf(DownloadError);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    await expectNothing(r, ctx.out);
  });
});

/** The error that decided a failure: the cause of ERR_RETRIES_EXHAUSTED, or the error itself. */
function rootCause(error: DownloadError | undefined): DownloadError | undefined {
  return error?.code === 'ERR_RETRIES_EXHAUSTED' ? (error.cause as DownloadError) : error;
}
