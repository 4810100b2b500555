/**
 * The digests a download reports: segdl's own `xxh64blocks` (always; src/verify/blocks.ts, known
 * the moment the last block is written) and the standard digest of the whole file the user asked
 * to check (sha256, sha512, sha1, md5 or xxh64). A standard digest needs the bytes in file order:
 * the PrefixHasher reads the file as far as it is contiguous while the download runs (the prefix
 * grows steadily, see the scheduler), so at the end only the last piece is left to hash.
 */
import type { FileHandle } from 'node:fs/promises';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import { lazyBuiltin } from '../lazy-builtin.js';
import type { HashAlgorithm } from '../options.js';
import { crashPoint } from '../test-hooks.js';
import { hex64 } from './blocks.js';

let api: Promise<XXHashAPI> | undefined;
/** The wasm module is compiled once per process. */
export function xxhashApi(): Promise<XXHashAPI> {
  api ??= xxhash();
  return api;
}

export type Digest = { xxh64blocks: string } & Partial<Record<HashAlgorithm, string>>;

/** A standard whole-file hash fed in file order. */
export interface OrderedHash {
  update(bytes: Uint8Array): void;
  /** Lowercase hex. */
  digest(): string;
}

export async function orderedHash(algorithm: HashAlgorithm): Promise<OrderedHash> {
  if (algorithm === 'xxh64') {
    const hash = (await xxhashApi()).create64();
    return { update: (bytes) => void hash.update(bytes), digest: () => hex64(hash.digest()) };
  }
  // node:crypto is loaded only when a --checksum asks for a standard digest (start-up: issue 13).
  const { createHash } = await lazyBuiltin('node:crypto');
  const hash = createHash(algorithm);
  return { update: (bytes) => void hash.update(bytes), digest: () => hash.digest('hex') };
}

const READ_BYTES = 4 * 1024 * 1024;

/** Hashes the file's contiguous prefix in the background, in large reads, as it grows. */
export class PrefixHasher {
  readonly #file: FileHandle;
  readonly #hash: OrderedHash;
  readonly #buffer = Buffer.allocUnsafe(READ_BYTES);
  #hashed = 0;
  #target = 0;
  #running: Promise<void> | undefined;
  #failure: unknown;

  constructor(file: FileHandle, hash: OrderedHash) {
    this.#file = file;
    this.#hash = hash;
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

  /** Hashes up to `size` and returns the hex digest. */
  async finish(size: number): Promise<string> {
    this.advance(size, true);
    while (this.#running !== undefined) await this.#running;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#hashed !== size) throw new Error(`hashed ${this.#hashed} bytes of ${size}`);
    return this.#hash.digest();
  }

  async #run(): Promise<void> {
    while (this.#hashed < this.#target && this.#failure === undefined) {
      const want = Math.min(READ_BYTES, this.#target - this.#hashed);
      const { bytesRead } = await this.#file.read(this.#buffer, 0, want, this.#hashed);
      if (bytesRead === 0) throw new Error(`unexpected end of file at ${this.#hashed}`);
      this.#hash.update(this.#buffer.subarray(0, bytesRead));
      this.#hashed += bytesRead;
      crashPoint('hashing');
    }
  }
}
