/** Catalogue case 29: no Content-Length and no ranges → one size-capped stream, complete only on a clean end. */
import { describe, expect, it } from 'vitest';
import { expectExact, expectNoFinal, gets, MiB, run, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB + 333;

describe('case 29: no length, no ranges', () => {
  it.each([
    ['chunked', {}],
    ['close-delimited', { framing: 'close' }],
  ] as const)('case 29: a %s body of unknown length → the first response is the one stream, exact file on a clean end', async (_name, framing) => {
    const t = await ctx.serve(SIZE, { noLength: true, ...framing });
    const r = await run(t.server.url, ctx.out, { connections: 4 });
    await expectExact(r, ctx.out, SIZE);
    expect(r.warnings).toContain('server sent no length: downloading with one connection');
    expect(r.result?.connectionsUsed).toBe(1);
    expect(gets(t)).toHaveLength(1);
    expect(gets(t)[0]!.status).toBe(200);
  });

  it.each([
    ['chunked', {}],
    ['close-delimited', { framing: 'close' }],
  ] as const)('case 29: a %s body of unknown length is capped by maxSize → TooLarge, no final file', async (_name, framing) => {
    const t = await ctx.serve(SIZE, { noLength: true, ...framing });
    const r = await run(t.server.url, ctx.out, { maxSize: 256 * 1024 });
    expect(r.error?.code).toBe('ERR_TOO_LARGE');
    await expectNoFinal(r, ctx.out);
  });

  it('case 29: a chunked body of unknown length that is cut before its end is not complete (see case 21)', async () => {
    const t = await ctx.serve(SIZE, { noLength: true, resetAfterBytes: 300_000 });
    const r = await run(t.server.url, ctx.out);
    expect(r.error).toBeDefined();
    await expectNoFinal(r, ctx.out);
  });
});
