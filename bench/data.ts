/** The files the bench server serves: one deterministic file per size, generated on demand. */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDataFile } from '../fixtures/data.js';

export interface DataFile {
  /** Name under the served directory (the URL path). */
  name: string;
  path: string;
  size: number;
  sha256: string;
}

export class DataFiles {
  readonly dir: string;
  readonly #files = new Map<number, DataFile>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Whether the file of this size is on disk already. */
  has(size: number): boolean {
    return this.#files.has(size);
  }

  async get(size: number): Promise<DataFile> {
    const known = this.#files.get(size);
    if (known) return known;
    await mkdir(this.dir, { recursive: true });
    const name = `data-${size}.bin`;
    const path = join(this.dir, name);
    const sha256 = await writeDataFile(path, size, `segdl-bench-${size}`);
    const file = { name, path, size, sha256 };
    this.#files.set(size, file);
    return file;
  }

  /** Frees the disk (and page cache) of a big file no later scenario needs. */
  async drop(size: number): Promise<void> {
    const file = this.#files.get(size);
    if (!file) return;
    this.#files.delete(size);
    await rm(file.path, { force: true });
  }

  async dropAll(): Promise<void> {
    for (const size of [...this.#files.keys()]) await this.drop(size);
  }
}
