/**
 * The digests of bytes that arrive in file order (one stream from byte 0, or the in-order output
 * of a stream to stdout): block hashes as the bytes pass, plus the standard digest if one was
 * asked for. Nothing is read back.
 */
import type { XXHash, XXHashAPI } from 'xxhash-wasm';
import type { HashAlgorithm } from '../options.js';
import { BLOCK_BYTES, digestOfBlocks } from './blocks.js';
import { orderedHash, xxhashApi, type Digest, type OrderedHash } from './verify.js';

export class InOrderDigest {
  readonly #api: XXHashAPI;
  readonly #algorithm: HashAlgorithm | undefined;
  readonly #extra: OrderedHash | undefined;
  readonly #hashes: bigint[] = [];
  #block: XXHash<bigint> | undefined;
  #inBlock = 0;
  #bytes = 0;

  private constructor(api: XXHashAPI, algorithm: HashAlgorithm | undefined, extra: OrderedHash | undefined) {
    this.#api = api;
    this.#algorithm = algorithm;
    this.#extra = extra;
  }

  static async create(algorithm?: HashAlgorithm): Promise<InOrderDigest> {
    return new InOrderDigest(await xxhashApi(), algorithm, algorithm === undefined ? undefined : await orderedHash(algorithm));
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#bytes;
  }

  update(bytes: Uint8Array): void {
    this.#extra?.update(bytes);
    this.#bytes += bytes.length;
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(bytes.length - offset, BLOCK_BYTES - this.#inBlock);
      const part = bytes.subarray(offset, offset + take);
      offset += take;
      if (this.#inBlock === 0 && take === BLOCK_BYTES) {
        this.#hashes.push(this.#api.h64Raw(part));
        continue;
      }
      this.#block ??= this.#api.create64();
      this.#block.update(part);
      this.#inBlock += take;
      if (this.#inBlock === BLOCK_BYTES) this.#endBlock();
    }
  }

  #endBlock(): void {
    this.#hashes.push(this.#block!.digest());
    this.#block = undefined;
    this.#inBlock = 0;
  }

  finish(): Digest {
    if (this.#inBlock > 0) this.#endBlock();
    const digest: Digest = { xxh64blocks: digestOfBlocks(this.#api, this.#hashes, this.#bytes) };
    if (this.#algorithm !== undefined) digest[this.#algorithm] = this.#extra!.digest();
    return digest;
  }
}
