/** Catalogue cases 15-17: message framing of a 206 (chunked, Content-Length, both). */
import { describe, expect, it } from 'vitest';
import { dataRange } from '../../fixtures/data.js';
import type { FaultPlan, RequestRecord } from '../../src/index.js';
import { afterFirst, expectExact, expectNothing, expectResumable, fetchSegment, firstOnly, gets, KiB, MiB, PACED, rootCode, run, SEED, untouched, useScratch } from './helpers.js';

const ctx = useScratch();
const SIZE = 1 * MiB;
const ranged = (plan: FaultPlan) => (q: RequestRecord) => (q.range !== undefined ? plan : undefined);

describe('framing (catalogue cases 15-17)', () => {
  it('case 15: a chunked 206 with valid framing is accepted', async () => {
    const t = await ctx.serve(SIZE, {}, ranged({ framing: 'chunked' }));
    const r = await run(t.server.url, ctx.out, { connections: 3 });
    await expectExact(r, ctx.out, SIZE);
  });

  it.each(['bad-size', 'overflow'] as const)('case 15: one chunked 206 with a %s size line after good data fails; only the good bytes are written', async (fault) => {
    const t = await ctx.serve(SIZE, { chunkFault: fault });
    const { error, part, done } = await fetchSegment(t.server.url, ctx.out, SIZE, 0, 64 * KiB);
    expect(error).toBeDefined();
    // At most the first chunk (half the body, good) was written; nothing after the bad size line.
    expect(done).toBeLessThanOrEqual(32 * KiB);
    expect(part.subarray(0, done).equals(dataRange(SEED, 0, done))).toBe(true);
    expect(part.subarray(done).every((b) => b === 0)).toBe(true);
  });

  // Regression (engine bug found by this test, fixed): undici raises HTTPParserError ("Invalid character in chunk size" / "Chunk size
  // overflow"), which toDownloadError maps to ERR_NETWORK (retryable). Every attempt keeps the good
  // first chunk, progress resets the retry budget, and the 1 MiB download "succeeds" after ~39
  // GETs. Expected: ERR_PROTOCOL on the first bad framing, not retried, state resumable.
  it.each(['bad-size', 'overflow'] as const)('case 15: a chunked 206 with a %s size line is ProtocolError', async (fault) => {
    const t = await ctx.serve(SIZE, { chunkFault: fault });
    const r = await run(t.server.url, ctx.out);
    expect(rootCode(r.error)).toBe('ERR_PROTOCOL');
    await expectResumable(r, ctx.out, SIZE);
  });
});

/** Content-Length values a 206 must never be trusted with. */
const BAD_LENGTHS: Array<[string, (n: number) => string | string[], boolean]> = [
  // [name, value for a body of n bytes, whether undici's parser rejects it (→ ENGINE BUG below)]
  ['duplicated and conflicting', (n) => [String(n), String(n + 1)], true],
  ['negative', () => '-1', true],
  ['non-numeric', () => '12abc', true],
  ['above 2^53-1', () => '9007199254740993', false],
];

describe('case 16: bad Content-Length', () => {
  for (const [name, value, parserRejects] of BAD_LENGTHS) {
    it(`case 16: ${name} Content-Length on the first response fails before anything is created`, async () => {
      const t = await ctx.serve(SIZE, {}, firstOnly({ contentLength: value(SIZE) }));
      const r = await run(t.server.url, ctx.out);
      expect(r.error).toBeDefined();
      await expectNothing(r, ctx.out);
    });

    // Regression (engine bug found by this test, fixed): undici refuses the response (HTTPParserError "Invalid
    // character in Content-Length", or UND_ERR_RES_CONTENT_LENGTH_MISMATCH for the duplicated and
    // the "12abc" values) and toDownloadError reported ERR_NETWORK. Expected ERR_PROTOCOL, not retried.
    it(`case 16: ${name} Content-Length on the first response is ProtocolError, not retried`, async () => {
      const t = await ctx.serve(SIZE, {}, firstOnly({ contentLength: value(SIZE) }));
      const r = await run(t.server.url, ctx.out);
      expect(r.error?.code).toBe('ERR_PROTOCOL');
      expect(gets(t)).toHaveLength(1);
    });

    it(`case 16: ${name} Content-Length on a later 206 fails the download; nothing of it written, resumable`, async () => {
      const t = await ctx.serve(SIZE, PACED, afterFirst({ contentLength: value(0) }));
      const r = await run(t.server.url, ctx.out);
      expect(r.error).toBeDefined();
      await expectResumable(r, ctx.out, SIZE);
      const later = gets(t).slice(1);
      expect(later.length).toBeGreaterThan(0);
      for (const q of later) expect(await untouched(r, q.range!.start + 16, q.range!.end + 1)).toBe(true);
    });

    // Regression (engine bug found by this test, fixed): as above, but on a 206 the ERR_NETWORK was retried until
    // ERR_RETRIES_EXHAUSTED (cause ERR_NETWORK). Expected ERR_PROTOCOL, not retried.
    it(`case 16: ${name} Content-Length on a later 206 is ProtocolError`, async () => {
      const t = await ctx.serve(SIZE, PACED, afterFirst({ contentLength: value(0) }));
      const r = await run(t.server.url, ctx.out);
      expect(rootCode(r.error)).toBe('ERR_PROTOCOL');
    });
  }

  it.each([
    ['no maxSize: more than the free space', {}, 'ERR_DISK_FULL'],
    ['maxSize', { maxSize: 100 * MiB }, 'ERR_TOO_LARGE'],
  ] as const)('case 16: a valid but enormous size (2^53-1) on the first response → refused before anything is created (%s)', async (_name, options, code) => {
    // Headers that agree with each other (the body is cut short after them): only the size is absurd.
    const t = await ctx.serve(SIZE, { contentRange: `bytes 0-${64 * MiB - 1}/9007199254740991`, contentLength: String(64 * MiB) });
    const r = await run(t.server.url, ctx.out, options);
    expect(r.error?.code).toBe(code);
    await expectNothing(r, ctx.out);
  });
});

describe('case 17: chunked and Content-Length together', () => {
  it('case 17: a 206 with both Transfer-Encoding: chunked and Content-Length is framed by chunked or refused; no wrong byte either way', async () => {
    const t = await ctx.serve(SIZE, {}, ranged({ framing: 'chunked+length' }));
    const r = await run(t.server.url, ctx.out);
    // Refused at the first response, nothing is created at all.
    if (r.error === undefined) await expectExact(r, ctx.out, SIZE);
    else await expectNothing(r, ctx.out);
  });

  // Regression (engine bug found by this test, fixed): undici refuses the response (HTTPParserError "Content-Length can't be present with
  // Transfer-Encoding", or UND_ERR_RES_CONTENT_LENGTH_MISMATCH) and toDownloadError reports
  // ERR_NETWORK, retried until ERR_RETRIES_EXHAUSTED (cause ERR_NETWORK). A refusal of a
  // smuggling-shaped response should say what it is (ERR_PROTOCOL) and not be retried.
  it('case 17: when refused, the refusal is ProtocolError', async () => {
    const t = await ctx.serve(SIZE, {}, ranged({ framing: 'chunked+length' }));
    const r = await run(t.server.url, ctx.out);
    if (r.error !== undefined) expect(rootCode(r.error)).toBe('ERR_PROTOCOL');
  });

  it('case 17: a cleanly ended chunked 206 with fewer bytes than its Content-Range is Incomplete; the retry completes the file', async () => {
    // Only each segment's first answer is short (a segment is known by its last byte).
    const faulted = new Set<number>();
    const t = await ctx.serve(SIZE, {}, (q) => {
      if (q.range === undefined || faulted.has(q.range.end)) return undefined;
      faulted.add(q.range.end);
      return { framing: 'chunked', rangeEndDelta: -1000, contentRange: `bytes ${q.range.start}-${q.range.end}/${SIZE}` };
    });
    // One connection: a second one, if the machine is slow enough to make it worth opening, would
    // take over the first answer's short tail before it ends short.
    const r = await run(t.server.url, ctx.out, { connections: 1 });
    await expectExact(r, ctx.out, SIZE);
    expect(r.retries.length).toBeGreaterThan(0);
    expect(r.retries.every((e) => e.code === 'ERR_INCOMPLETE')).toBe(true);
  });
});


