/**
 * Regression: undici 7 throws an uncatchable AssertionError (and the process dies) when a
 * response's parser is paused and the server closes the connection with nothing left unread
 * (nodejs/undici#5360). segdl pauses parsers for back-pressure and while the first response waits
 * to be adopted, so a small answer that arrives whole, then FIN, hit it at once. Its connector
 * lifts the pause at 'end' (src/http/connector.ts).
 */
import { describe, expect, it } from 'vitest';
import { expectExact, gets, KiB, run, useScratch } from './helpers.js';

const ctx = useScratch();
// Small enough that the head, the whole body and the FIN come in one read: the body is held (paused) at its last byte.
const SIZE = 32 * KiB;

describe('a paused response whose connection closes (undici#5360)', () => {
  it.each([
    ['a close-delimited body of unknown length', { noLength: true, framing: 'close' }],
    ['a 206 with Content-Length and Connection: close', { contentLength: String(SIZE) }],
  ] as const)('%s, arriving whole with its FIN while segdl holds the body, completes every time', async (_name, faults) => {
    const t = await ctx.serve(SIZE, faults);
    for (let i = 0; i < 20; i++) {
      const r = await run(t.server.url, ctx.out, { force: true, stallTimeoutMs: 2000 });
      await expectExact(r, ctx.out, SIZE);
      expect(r.retries).toEqual([]);
    }
    expect(gets(t)).toHaveLength(20);
  });
});
