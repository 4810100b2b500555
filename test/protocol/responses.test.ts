/** Catalogue cases 9-11 and 14: answers to a ranged request that must never reach the file. */
import { describe, expect, it } from 'vitest';
import { DownloadError } from '../../src/index.js';
import { checkRangeResponse } from '../../src/http/response-gate.js';
import { expectNoFinal, expectResumable, gets, MiB, run, untouched, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;
const ranged = (plan: object) => (q: { range?: unknown }) => (q.range !== undefined ? plan : undefined);

describe('responses that must be refused (catalogue cases 9-11, 14)', () => {
  it('case 9: a single range answered with multipart/byteranges is ProtocolError; no boundary line reaches the file', async () => {
    const t = await ctx.serve(SIZE, {}, ranged({ multipart: true }));
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    expect(r.error?.message).toMatch(/multipart/i);
    expect(gets(t).every((q) => q.status === 206)).toBe(true);
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, 0, SIZE)).toBe(true);
  });

  it.each([
    ['one byte short', -1],
    ['one byte long', 1],
  ])('case 10: a 206 whose Content-Length is %s of last-first+1 is ProtocolError', async (_name, delta) => {
    const t = await ctx.serve(SIZE, {}, (q) => (q.range ? { contentLength: String(q.range.end - q.range.start + 1 + delta) } : undefined));
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    expect(r.error?.message).toContain('Content-Length');
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, 0, SIZE)).toBe(true);
  });

  // segdl never asks for bytes at or past N itself (its jobs come from the probed size and a
  // complete manifest sends no request), so only the gate can be driven with this answer.
  it('case 11: 416 */N when resuming at N is success with nothing written (gate)', () => {
    const expected = { url: 'http://x/', size: 1000, etag: undefined, lastModified: undefined };
    expect(checkRangeResponse(416, { 'content-range': 'bytes */1000' }, 1000, 1999, expected)).toEqual({ kind: 'already-complete' });
  });

  it('case 11: 416 */M with M < N is RemoteChanged', async () => {
    const t = await ctx.serve(SIZE, {}, ranged({ status: 416, reportedSize: SIZE - 1000 }));
    const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, 0, SIZE)).toBe(true);
  });

  it('case 11: 416 without Content-Range is ProtocolError', async () => {
    const t = await ctx.serve(SIZE, {}, ranged({ status: 416, contentRange: false }));
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    await expectResumable(r, ctx.out, SIZE);
  });

  it.each([
    ['header only, body unchanged', { contentEncoding: 'gzip' }],
    ['gzipped body', { contentEncoding: 'gzip', gzipBody: true }],
  ])('case 14: Content-Encoding: gzip on a 206 (%s) is rejected, never decompressed into the file', async (_name, plan) => {
    const t = await ctx.serve(SIZE, {}, ranged(plan));
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    expect(r.error?.message).toMatch(/Content-Encoding/i);
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, 0, SIZE)).toBe(true);
  });

  it('case 14: a server that gzips every answer (HEAD included) never yields a final file', async () => {
    const t = await ctx.serve(SIZE, { contentEncoding: 'gzip', gzipBody: true });
    const r = await run(t.server.url, ctx.out);
    expect(r.error).toBeInstanceOf(DownloadError);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    await expectNoFinal(r, ctx.out);
  });
});
