/**
 * The seam check: every fresh segment also fetched the few bytes before its start. Once its
 * left neighbour has written those bytes, both copies must agree; a segment whose copy differs
 * came from a server that shifted the body under a correct-looking header.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Job } from './scheduler.js';

/** Jobs whose seam bytes disagree with the file; each job's seam is checked once. */
export async function checkSeams(file: FileHandle, jobs: readonly Job[]): Promise<Job[]> {
  const bad: Job[] = [];
  for (const job of jobs) {
    const seam = job.seam;
    if (seam === undefined) continue;
    const onDisk = Buffer.alloc(seam.length);
    await file.read(onDisk, 0, seam.length, job.start - seam.length);
    if (!onDisk.equals(seam)) bad.push(job);
    else job.seam = undefined;
  }
  return bad;
}
