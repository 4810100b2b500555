/** Catalogue cases 18-19: redirects keep the range semantics and are bounded. */
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { serve, type RequestRecord } from '../../src/index.js';
import { expectExact, expectResumable, gets, MiB, run, untouched, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;
/** GETs of the file are sent on to `?moved`; HEAD is answered in place (so the probe keeps the first URL). */
const moveGets = (extra: object = {}) => (q: RequestRecord) => {
  if (q.method !== 'GET') return undefined;
  return q.path.includes('?moved') ? extra : { redirect: `${q.path}?moved` };
};
/** `?hop=N` redirects to `?hop=N-1`; `?hop=0` serves the file. */
const hops = (q: RequestRecord) => {
  const n = Number(/[?&]hop=(\d+)/.exec(q.path)?.[1] ?? 0);
  return n > 0 ? { redirect: q.path.replace(/hop=\d+/, `hop=${n - 1}`) } : undefined;
};

describe('redirects (catalogue cases 18-19)', () => {
  it('case 18: a redirect then a 206 → Range is sent again to the target', async () => {
    const t = await ctx.serve(SIZE, {}, moveGets());
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    const redirected = gets(t).filter((q) => !q.path.includes('?moved'));
    const followed = gets(t).filter((q) => q.path.includes('?moved'));
    expect(redirected.length).toBeGreaterThanOrEqual(2);
    expect(redirected.every((q) => q.status === 302)).toBe(true);
    expect(followed.every((q) => q.status === 206)).toBe(true);
    expect(followed.map((q) => q.headers['range']).sort()).toEqual(redirected.map((q) => q.headers['range']).sort());
  });

  it('case 18: a redirect target answering 200 is RangeUnsupported → one stream, exact file', async () => {
    const t = await ctx.serve(SIZE, {}, moveGets({ ignoreRanges: true }));
    const r = await run(t.server.url, ctx.out);
    await expectExact(r, ctx.out, SIZE);
    expect(r.warnings).toContain('server ignores ranges mid-way: downloading with one connection');
    expect(gets(t).some((q) => q.path.includes('?moved') && q.headers['range'] !== undefined && q.status === 200)).toBe(true);
  });

  it('case 18: a mirror on another port reporting another length (same file, same validators) → RemoteChanged, nothing written', async () => {
    let mirrorUrl = '';
    const t = await ctx.serve(SIZE, {}, (q) => (q.method === 'GET' ? { redirect: mirrorUrl } : undefined));
    // Same file, so ETag and Last-Modified agree: only the complete-length differs.
    const mirror = await serve({ root: t.file, faults: { reportedSize: SIZE + 1 } });
    mirrorUrl = mirror.url;
    try {
      const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
      expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
      expect(r.error?.message).toMatch(/size/);
      expect(mirror.requests.some((q) => q.method === 'GET')).toBe(true);
      await expectResumable(r, ctx.out, SIZE);
      expect(await untouched(r, 0, SIZE)).toBe(true);
    } finally {
      await mirror.close();
    }
  });

  it('case 18: a mirror serving another file of another length → RemoteChanged, nothing written', async () => {
    const mirror = await ctx.serve(SIZE + 64 * 1024, {}, undefined, 'another-file');
    const t = await ctx.serve(SIZE, {}, (q) => (q.method === 'GET' ? { redirect: mirror.server.url } : undefined));
    const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    expect(gets(mirror).length).toBeGreaterThan(0);
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, 0, SIZE)).toBe(true);
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
