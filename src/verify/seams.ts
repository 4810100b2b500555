/**
 * The seam check: every fresh segment also fetched the few bytes before its start. Once its
 * left neighbour has written those bytes, both copies must agree; where they differ, one of
 * the two segments came from a server that shifted the body under a correct-looking header.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Job } from '../schedule/scheduler.js';

/**
 * Seam reads in flight at once. They run after the last byte (the verify tail), one small read
 * per segment: an 8 GiB download has about a thousand, which one at a time cost ~150 ms.
 */
const SEAM_READS = 32;

/** Jobs to fetch again because a seam they share disagrees; each seam is checked once. */
export async function checkSeams(file: FileHandle, jobs: readonly Job[]): Promise<Job[]> {
  const failing = new Set<Job>();
  const queue = jobs.filter((job) => job.seam !== undefined);
  const worker = async () => {
    for (let job = queue.pop(); job !== undefined; job = queue.pop()) {
      const seam = job.seam!;
      const onDisk = Buffer.alloc(seam.length);
      await file.read(onDisk, 0, seam.length, job.start - seam.length);
      if (onDisk.equals(seam)) job.seam = undefined;
      else failing.add(job);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEAM_READS, queue.length) }, worker));
  return blame([...failing].sort((a, b) => a.start - b.start), jobs);
}

/**
 * A segment whose left and right seams both fail is wrong at both ends: it alone is the
 * culprit, not its right neighbour. A lone failing seam blames the segment that owns it.
 */
function blame(failing: Job[], jobs: readonly Job[]): Job[] {
  const culprits: Job[] = [];
  const explained = new Set<Job>();
  for (const job of failing) {
    if (explained.has(job)) continue;
    const right = jobs.find((j) => j.start === job.end);
    if (right !== undefined && failing.includes(right)) explained.add(right);
    culprits.push(job);
  }
  return culprits;
}

/** The bytes on disk just before `start`, as a seam to check again. */
export async function readSeam(file: FileHandle, start: number, length = 16): Promise<Buffer> {
  const bytes = Buffer.alloc(length);
  await file.read(bytes, 0, length, start - length);
  return bytes;
}
