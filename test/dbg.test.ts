import { it } from 'vitest';
import { gets, MiB, run, useScratch } from './protocol/helpers.js';
const ctx = useScratch();
for (let i = 0; i < 30; i++) it('dbg' + i, async () => {
  const t = await ctx.serve(MiB + 333, { noLength: true, framing: 'close' });
  const r = await run(t.server.url, ctx.out, { connections: 4, stallTimeoutMs: 1000 });
  if (r.retries.length) console.log(r.error?.code, r.retries, gets(t).map((q) => [q.index, q.headers.range, q.status, q.bytesSent]));
});
