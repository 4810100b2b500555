/**
 * Streams a byte range of an open file into a response: large positional reads with one
 * read-ahead when unpaced, token-bucket slices when paced, socket back-pressure always, and
 * the byte-count faults (reset, stall) cut at exact offsets.
 */
import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { TokenBucket } from './throttle.js';
import { sliceSize } from './throttle.js';

/** Unpaced read/write size: large enough that per-chunk overhead vanishes at loopback speed. */
const CHUNK = 1024 * 1024;

export interface BodyJob {
  file: FileHandle;
  /** File offset of the first body byte. */
  offset: number;
  length: number;
  res: ServerResponse;
  /** Aborted when the response closes early (client gone, server closing). */
  signal: AbortSignal;
  pace?: { bucket: TokenBucket; rate: number } | undefined;
  /** A bucket shared by every response of the server (its total rate). */
  sharedPace?: { bucket: TokenBucket; rate: number } | undefined;
  resetAfterBytes?: number | undefined;
  stallAfterBytes?: number | undefined;
  /** 0xEE bytes sent after the body that its headers did not announce. */
  extraBytes?: number | undefined;
  /** Close the connection after the last byte instead of ending the response. */
  closeBeforeEnd?: boolean | undefined;
  /** Called with each chunk's size once the socket has taken it. */
  onSent: (bytes: number) => void;
}

export type BodyOutcome = 'complete' | 'reset' | 'stalled' | 'aborted';

export async function sendBody(job: BodyJob): Promise<BodyOutcome> {
  const { res, signal } = job;
  const reset = job.resetAfterBytes ?? Infinity;
  const stall = job.stallAfterBytes ?? Infinity;
  const stopAt = Math.min(job.length, reset, stall);
  const paces = [job.pace, job.sharedPace].filter((p) => p !== undefined);
  const chunkSize = paces.length > 0 ? Math.min(...paces.map((p) => sliceSize(p.rate))) : CHUNK;

  let queued = 0;
  let lastWrite: Promise<void> = Promise.resolve();
  let next: Promise<Buffer> | undefined;
  try {
    while (queued < stopAt) {
      const n = Math.min(chunkSize, stopAt - queued);
      for (const pace of paces) await pace.bucket.take(n, pace.rate, signal);
      const chunk = await (next ?? readExactly(job.file, job.offset + queued, n));
      next = undefined;
      if (signal.aborted) return 'aborted';
      const following = Math.min(chunkSize, stopAt - queued - n);
      // Read the next chunk while the socket drains this one (unpaced only: a paced read
      // would sit in memory for the whole pacing delay for no gain).
      if (paces.length === 0 && following > 0) {
        next = readExactly(job.file, job.offset + queued + n, following);
        next.catch(() => {}); // surfaced when awaited; avoid an unhandled rejection if we stop first
      }
      lastWrite = write(res, chunk, job.onSent);
      queued += n;
      if (res.writableNeedDrain) await once(res, 'drain', { signal });
    }
  } catch (err) {
    if (signal.aborted) return 'aborted';
    throw err;
  } finally {
    // Never leave a read in flight on a handle the caller is about to close.
    if (next) await next.catch(() => {});
  }

  if (stopAt === job.length) {
    if (job.extraBytes) lastWrite = write(res, Buffer.alloc(job.extraBytes, 0xee), job.onSent);
    if (!job.closeBeforeEnd) {
      res.end();
      return 'complete';
    }
  }
  // With no body byte written yet, an empty write still flushes the headers out.
  if (queued === 0) lastWrite = write(res, Buffer.alloc(0), job.onSent);
  // Let the last bytes reach the kernel before cutting, so the client sees exactly `stopAt`.
  await Promise.race([lastWrite, once(signal, 'abort')]);
  if (signal.aborted) return 'aborted';
  if (stopAt === reset || job.closeBeforeEnd) {
    res.socket?.destroy();
    return 'reset';
  }
  return 'stalled';
}

function write(res: ServerResponse, chunk: Buffer, onSent: (bytes: number) => void): Promise<void> {
  return new Promise((resolve) => {
    res.write(chunk, (err) => {
      if (!err) onSent(chunk.length);
      resolve();
    });
  });
}

/** A fresh buffer (the socket keeps it until flushed) filled from `position`. */
async function readExactly(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafeSlow(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new Error(`file shrank while serving it (EOF at ${position + filled})`);
    filled += bytesRead;
  }
  return buffer;
}
