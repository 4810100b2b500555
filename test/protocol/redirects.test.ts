/** Catalogue cases 18-19: redirects keep the range semantics and are bounded. */
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { serve, type RequestRecord } from '../../src/index.js';
import { expectExact, expectLaterUntouched, expectResumable, gets, MiB, PACED, run, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;
/** Requests for the file are sent on to `?moved`. */
const moveGets = (extra: object = {}) => (q: RequestRecord) => (q.path.includes('?moved') ? extra : { redirect: `${q.path}?moved` });
/** `?hop=N` redirects to `?hop=N-1`; `?hop=0` serves the file. */
const hops = (q: RequestRecord) => {
  const n = Number(/[?&]hop=(\d+)/.exec(q.path)?.[1] ?? 0);
  return n > 0 ? { redirect: q.path.replace(/hop=\d+/, `hop=${n - 1}`) } : undefined;
};

describe('redirects (catalogue cases 18-19)', () => {
  it('case 18: a redirect then a 206 → Range is sent again to the target, and later requests go straight there', async () => {
    const t = await ctx.serve(SIZE, PACED, moveGets());
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    const [first, target, ...later] = gets(t);
    expect([first!.path.includes('?moved'), first!.status]).toEqual([false, 302]);
    expect([target!.path.includes('?moved'), target!.status, target!.headers['range']]).toEqual([true, 206, first!.headers['range']]);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((q) => q.path.includes('?moved') && q.status === 206 && q.headers['range'] !== undefined)).toBe(true);
  });

  it('case 18: a redirect target answering 200 is RangeUnsupported → one stream, exact file', async () => {
    const t = await ctx.serve(SIZE, {}, moveGets({ ignoreRanges: true }));
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(r.warnings).toContain('server ignores ranges: downloading with one connection');
    expect(gets(t).some((q) => q.path.includes('?moved') && q.headers['range'] !== undefined && q.status === 200)).toBe(true);
  });

  it('case 18: later requests redirected to a mirror on another port reporting another length (same file, same validators) → RemoteChanged, nothing of it written', async () => {
    let mirrorUrl = '';
    const t = await ctx.serve(SIZE, PACED, (q) => (q.index > 0 ? { redirect: mirrorUrl } : undefined));
    // Same file, so ETag and Last-Modified agree: only the complete-length differs.
    const mirror = await serve({ root: t.file, faults: { reportedSize: SIZE + 1 } });
    mirrorUrl = mirror.url;
    try {
      const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
      expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
      expect(r.error?.message).toMatch(/size/);
      expect(mirror.requests.some((q) => q.method === 'GET')).toBe(true);
      await expectResumable(r, ctx.out, SIZE);
      await expectLaterUntouched(r, t);
    } finally {
      await mirror.close();
    }
  });

  it('case 18: later requests redirected to a mirror serving another file of another length → RemoteChanged, nothing of it written', async () => {
    const mirror = await ctx.serve(SIZE + 64 * 1024, {}, undefined, 'another-file');
    const t = await ctx.serve(SIZE, PACED, (q) => (q.index > 0 ? { redirect: mirror.server.url } : undefined));
    const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    expect(gets(mirror).length).toBeGreaterThan(0);
    await expectResumable(r, ctx.out, SIZE);
    await expectLaterUntouched(r, t);
  });

  it('case 19: 20 redirects are followed', async () => {
    const t = await ctx.serve(SIZE, {}, hops);
    const r = await run(`${t.server.url}?hop=20`, ctx.out);
    await expectExact(r, ctx.out, SIZE);
  });

  it.each([
    ['21 redirects', '?hop=21', hops],
    ['a redirect to itself', '', (q: RequestRecord) => ({ redirect: q.path })],
    ['a two-URL loop', '?a', (q: RequestRecord) => ({ redirect: q.path.endsWith('?a') ? '?b' : '?a' })],
  ])('case 19: %s → RedirectRejected "too many redirects", nothing created', async (_name, query, faultFor) => {
    const t = await ctx.serve(SIZE, {}, faultFor);
    const r = await run(`${t.server.url}${query}`, ctx.out);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    expect(r.error?.message).toMatch(/too many redirects/);
    expect(t.server.requests.length).toBe(21);
    expect(await readdir(ctx.out)).toEqual([]);
  });

  it('case 19: two Location headers → ProtocolError, nothing created', async () => {
    const t = await ctx.serve(SIZE, {}, () => ({ redirect: ['/data.bin?a', '/data.bin?b'] }));
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_PROTOCOL');
    expect(r.error?.message).toMatch(/Location/);
    expect(t.server.requests.length).toBe(1);
    expect(await readdir(ctx.out)).toEqual([]);
  });
});
