/**
 * What an earlier run left at an output, read before the first request so that request can be
 * the right one: the first missing range of a resumable download (with the strong validator that
 * guards it), or a finished file whose currency the server can confirm. Only a hint: every
 * decision is made again, against the server's answer, by the resume and existing-output checks.
 */
import { lstat } from 'node:fs/promises';
import { loadManifest, manifestPath } from './manifest.js';
import { regularFileSize } from './output-files.js';

export type PriorState =
  | { kind: 'none' }
  /** A manifest that can resume: the first byte still missing and the ETag its bytes came with. */
  | { kind: 'partial'; firstMissing: number; missingEnd: number; etag: string | undefined }
  /** A manifest whose every byte is on disk (killed after verification, before the rename): nothing left to ask. */
  | { kind: 'complete'; size: number; etag: string | undefined; lastModified: string | undefined }
  /** A file at the output and nothing of ours beside it. */
  | { kind: 'file'; size: number; mtimeMs: number };

export async function readPriorState(output: string, url: string): Promise<PriorState> {
  const loaded = await loadManifest(manifestPath(output)).catch(() => undefined);
  if (loaded?.state === 'ok' && loaded.data.url === url && (await regularFileSize(`${output}.part`)) === loaded.data.size) {
    const gap = [...loaded.segments].sort((a, b) => a.start - b.start).find((s) => s.done < s.end - s.start);
    if (gap !== undefined) return { kind: 'partial', firstMissing: gap.start + gap.done, missingEnd: gap.end, etag: loaded.data.etag };
    return { kind: 'complete', size: loaded.data.size, etag: loaded.data.etag, lastModified: loaded.data.lastModified };
  }
  if ((await regularFileSize(`${output}.part`)) === undefined) {
    const info = await lstat(output).catch(() => undefined);
    if (info?.isFile()) return { kind: 'file', size: info.size, mtimeMs: info.mtimeMs };
  }
  return { kind: 'none' };
}
