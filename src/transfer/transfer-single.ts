/** Single-stream mode: one plain GET from byte 0 when ranges are not an option; nothing to resume. */
import { rm } from 'node:fs/promises';
import { DownloadError } from '../errors.js';
import { fetchWhole } from './fetch-job.js';
import { manifestPath } from '../disk/manifest.js';
import { openPart, publish, regularFileSize } from '../disk/output-files.js';
import { reportProgress } from './progress.js';
import { newJob } from '../schedule/scheduler.js';
import type { Source } from './sources.js';
import { checkDigest, fetchContextFor, makeScheduler, stampMtime, type TransferContext, type TransferOutcome } from './transfer.js';
import { InOrderDigest } from '../verify/in-order-digest.js';
import { fileTarget } from '../disk/writer.js';

export async function transferSingle(ctx: TransferContext, source: Source, size: number | undefined): Promise<TransferOutcome> {
  const o = ctx.options;
  // One plain stream cannot continue a partial download: say so when one is thrown away.
  const manifest = manifestPath(ctx.output);
  if ((await regularFileSize(manifest)) !== undefined || (await regularFileSize(ctx.part)) !== undefined) {
    ctx.restart(
      `${size === undefined ? 'the server now sends no length' : 'the server now ignores ranges'}: the partial download cannot be resumed, starting over with one connection`,
    );
  }
  await rm(manifest, { force: true });
  const file = await openPart(ctx.part, true);
  let closed = false;
  const job = newJob({ start: 0, end: size ?? Number.MAX_SAFE_INTEGER, done: 0 });
  let fetched = 0;
  const stopProgress = reportProgress([job], size, 0, () => fetched, o.progressIntervalMs, (p) => ctx.progress(p));
  try {
    let digester = await InOrderDigest.create(o.checksum?.algorithm);
    const fetchCtx = {
      ...fetchContextFor(ctx, source, fileTarget(file), 0, (_job, bytes) => {
        fetched += bytes;
      }),
      expected: { url: source.url.href, size, etag: source.etag, lastModified: source.lastModified },
      maxSize: o.maxSize,
    };
    const scheduler = makeScheduler(ctx, [job], 1, source.url, async (j, signal) => {
      fetched -= j.done; // a retry starts over: those bytes will be fetched again
      if (digester.bytes > 0) digester = await InOrderDigest.create(o.checksum?.algorithm);
      await fetchWhole(fetchCtx, j, signal, (bytes) => digester.update(bytes));
    });
    await scheduler.run();
    const lastByteAt = performance.now();
    const final = job.done;
    await file.truncate(final);
    const digest = digester.finish();
    const verifyMs = performance.now() - lastByteAt;
    checkDigest(ctx, digest, source.url.href);
    await stampMtime(file, source.lastModified);
    if (o.durability === 'power') await file.sync();
    await file.close();
    closed = true;
    await publish(ctx.part, ctx.output, o.force, o.durability === 'power');
    return { size: final, resumedBytes: 0, fetched, digest, connectionsUsed: 1, verifyMs };
  } catch (error) {
    if (error instanceof DownloadError && error.code === 'ERR_CHECKSUM_MISMATCH') await rm(ctx.part, { force: true });
    throw error;
  } finally {
    stopProgress();
    if (!closed) await file.close();
  }
}
