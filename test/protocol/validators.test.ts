/** Catalogue cases 12-13: validators guard every ranged request against a file that changed. */
import { describe, expect, it } from 'vitest';
import { expectExact, expectNoFinal, expectResumable, gets, MiB, run, untouched, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;
const HALF = SIZE / 2;
/** Requests past the first segment see the next version of the file (new ETag and Last-Modified). */
const changedPastHalf = (q: { method: string; range?: { start: number } | undefined }) =>
  q.method === 'GET' && q.range !== undefined && q.range.start > 0 ? { changeEtagAfter: 0 } : undefined;

describe('validators (catalogue cases 12-13)', () => {
  it('case 12: every ranged request sends If-Range with the strong ETag; a 200 because the file changed is RemoteChanged, never spliced', async () => {
    const t = await ctx.serve(SIZE, {}, changedPastHalf);
    const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    const ifRange = new Set(gets(t).map((q) => q.headers['if-range']));
    expect(ifRange.size).toBe(1);
    expect(String([...ifRange][0])).toMatch(/^"[^"]+"$/);
    // The server did answer a full 200 at an offset: the engine must have refused it.
    expect(gets(t).some((q) => q.status === 200 && q.range !== undefined && q.range.start > 0)).toBe(true);
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, HALF, SIZE)).toBe(true);
  });

  it('case 12: with the default ifRemoteChanged (restart) a file that keeps changing still ends in RemoteChanged and no final file', async () => {
    const t = await ctx.serve(SIZE, {}, changedPastHalf);
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    await expectNoFinal(r, ctx.out);
  });

  it('case 13: with only a weak ETag no If-Range carries W/, and the file is exact', async () => {
    const t = await ctx.serve(SIZE, { weakEtag: true });
    const r = await run(t.server.url, ctx.out, { connections: 4 });
    await expectExact(r, ctx.out, SIZE);
    expect(gets(t).length).toBeGreaterThan(1);
    for (const q of gets(t)) expect(String(q.headers['if-range'] ?? '')).not.toMatch(/^W\//);
  });

  it('case 13: with only a weak ETag, a changed Last-Modified is RemoteChanged', async () => {
    const t = await ctx.serve(SIZE, { weakEtag: true }, changedPastHalf);
    const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    await expectResumable(r, ctx.out, SIZE);
    expect(await untouched(r, HALF, SIZE)).toBe(true);
  });
});
