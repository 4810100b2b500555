/** Catalogue cases 12-13: validators guard every ranged request against a file that changed. */
import { describe, expect, it } from 'vitest';
import { expectExact, expectLaterUntouched, expectNoFinal, expectResumable, gets, MiB, PACED, run, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;
/** Requests after the first see the next version of the file (new ETag and Last-Modified). */
const changedLater = (q: { index: number }) => (q.index > 0 ? { changeEtagAfter: 0 } : undefined);
/** Every request that does not start at byte 0 sees another version than those that do: a file that keeps changing. */
const changedPastStart = (q: { range?: { start: number } | undefined }) => (q.range !== undefined && q.range.start > 0 ? { changeEtagAfter: 0 } : undefined);

describe('validators (catalogue cases 12-13)', () => {
  it('case 12: every ranged request after the first sends If-Range with its strong ETag; a 200 because the file changed is RemoteChanged, never spliced', async () => {
    const t = await ctx.serve(SIZE, PACED, changedLater);
    const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    // The first request of a fresh download has no validator yet: it is the one that learns it.
    expect(gets(t)[0]!.headers['if-range']).toBeUndefined();
    const ifRange = new Set(gets(t).slice(1).map((q) => q.headers['if-range']));
    expect(ifRange.size).toBe(1);
    expect(String([...ifRange][0])).toMatch(/^"[^"]+"$/);
    // The server did answer a full 200 at an offset: the engine must have refused it.
    expect(gets(t).some((q) => q.status === 200 && q.range !== undefined && q.range.start > 0)).toBe(true);
    await expectResumable(r, ctx.out, SIZE);
    await expectLaterUntouched(r, t);
  });

  it('case 12: with the default ifRemoteChanged (restart) a file that keeps changing still ends in RemoteChanged and no final file', async () => {
    const t = await ctx.serve(SIZE, PACED, changedPastStart);
    const r = await run(t.server.url, ctx.out);
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    await expectNoFinal(r, ctx.out);
  });

  it('case 13: with only a weak ETag no If-Range carries W/, and the file is exact', async () => {
    const t = await ctx.serve(SIZE, { ...PACED, weakEtag: true });
    const r = await run(t.server.url, ctx.out, { connections: 4 });
    await expectExact(r, ctx.out, SIZE);
    expect(gets(t).length).toBeGreaterThan(1);
    for (const q of gets(t)) expect(String(q.headers['if-range'] ?? '')).not.toMatch(/^W\//);
  });

  it('case 13: with only a weak ETag, a changed Last-Modified is RemoteChanged', async () => {
    const t = await ctx.serve(SIZE, { ...PACED, weakEtag: true }, changedLater);
    const r = await run(t.server.url, ctx.out, { ifRemoteChanged: 'fail' });
    expect(r.error?.code).toBe('ERR_REMOTE_CHANGED');
    await expectResumable(r, ctx.out, SIZE);
    await expectLaterUntouched(r, t);
  });
});
