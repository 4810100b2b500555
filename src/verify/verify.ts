/**
 * Whole-file digests: xxh64 always (cheap, reported in the result), plus the user's expected
 * algorithm. The PrefixHasher reads the file in order as far as it is complete while the
 * download runs, so verification ends soon after the last byte lands.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import type { HashAlgorithm } from '../options.js';
import { crashPoint } from '../test-hooks.js';

let api: Promise<XXHashAPI> | undefined;
/** The wasm module is compiled once per process. */
export function xxhashApi(): Promise<XXHashAPI> {
  api ??= xxhash();
  return api;
}

export type Digest = { xxh64: string } & Partial<Record<HashAlgorithm, string>>;

const READ_BYTES = 4 * 1024 * 1024;

export class PrefixHasher {
  readonly #file: FileHandle;
  readonly #xxh: ReturnType<XXHashAPI['create64']>;
  readonly #extra: { algorithm: Exclude<HashAlgorithm, 'xxh64'>; hash: Hash } | undefined;
  readonly #buffer = Buffer.allocUnsafe(READ_BYTES);
  #hashed = 0;
  #target = 0;
  #running: Promise<void> | undefined;
  #failure: unknown;

  readonly #observe: ((offset: number, bytes: Buffer) => void) | undefined;

  private constructor(
    file: FileHandle,
    xxh: ReturnType<XXHashAPI['create64']>,
    algorithm: HashAlgorithm | undefined,
    observe: ((offset: number, bytes: Buffer) => void) | undefined,
  ) {
    this.#file = file;
    this.#observe = observe;
    this.#xxh = xxh;
    this.#extra = algorithm === undefined || algorithm === 'xxh64' ? undefined : { algorithm, hash: createHash(algorithm) };
  }

  /** `observe` sees every byte read, in file order (the per-segment disk check rides on these reads). */
  static async create(file: FileHandle, algorithm?: HashAlgorithm, observe?: (offset: number, bytes: Buffer) => void): Promise<PrefixHasher> {
    return new PrefixHasher(file, (await xxhashApi()).create64(), algorithm, observe);
  }

  /** Bytes hashed so far. */
  get hashed(): number {
    return this.#hashed;
  }

  /** The first `bytes` of the file are final: hash them in the background, in large reads. */
  advance(bytes: number, force = false): void {
    if (force ? bytes <= this.#target : bytes < this.#target + READ_BYTES) return;
    this.#target = bytes;
    this.#running ??= this.#run()
      .catch((error: unknown) => {
        this.#failure ??= error;
      })
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** Hashes up to `size` and returns the digests. */
  async finish(size: number): Promise<Digest> {
    this.advance(size, true);
    while (this.#running !== undefined) await this.#running;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#hashed !== size) throw new Error(`hashed ${this.#hashed} bytes of ${size}`);
    const digest: Digest = { xxh64: this.#xxh.digest().toString(16).padStart(16, '0') };
    if (this.#extra !== undefined) digest[this.#extra.algorithm] = this.#extra.hash.digest('hex');
    return digest;
  }

  async #run(): Promise<void> {
    while (this.#hashed < this.#target && this.#failure === undefined) {
      const want = Math.min(READ_BYTES, this.#target - this.#hashed);
      const { bytesRead } = await this.#file.read(this.#buffer, 0, want, this.#hashed);
      if (bytesRead === 0) throw new Error(`unexpected end of file at ${this.#hashed}`);
      const view = this.#buffer.subarray(0, bytesRead);
      this.#xxh.update(view);
      this.#extra?.hash.update(view);
      this.#observe?.(this.#hashed, view);
      this.#hashed += bytesRead;
      crashPoint('hashing');
    }
  }
}
