/**
 * The xxh64blocks digest (issue 14): its definition checked against a computation written here
 * from the definition alone, for the file a download produced, `hashFile`, and `segdl hash`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import { dataRange } from '../../fixtures/data.js';
import { download, hashFile } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { useScratch } from '../helpers/scratch.js';

const MiB = 1024 * 1024;
const scratch = useScratch('segdl-block-digest-');

/** The definition: XXH64 of each 1 MiB block, as 8 bytes big-endian each, then the size as 8 bytes big-endian; XXH64 of that. */
async function reference(bytes: Buffer): Promise<string> {
  const api = await xxhash();
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += MiB) {
    const hash = Buffer.alloc(8);
    hash.writeBigUInt64BE(api.h64Raw(bytes.subarray(at, Math.min(bytes.length, at + MiB))));
    parts.push(hash);
  }
  const size = Buffer.alloc(8);
  size.writeBigUInt64BE(BigInt(bytes.length));
  return api.h64Raw(Buffer.concat([...parts, size])).toString(16).padStart(16, '0');
}

describe('xxh64blocks: the digest of the ordered 1 MiB block hashes and the size', () => {
  it.each([0, 1, MiB - 1, MiB, MiB + 1, 3.5 * MiB])('hashFile and segdl hash of a %d-byte file match the definition', async (size) => {
    const bytes = dataRange('digest', 0, size);
    const path = join(scratch.dir, 'f.bin');
    await writeFile(path, bytes);
    const expected = await reference(bytes);
    expect((await hashFile(path)).xxh64blocks).toBe(expected);
    const cli = await runCli(['hash', '--algorithm', 'sha256', path]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toBe(`${expected} sha256:${(await hashFile(path, { algorithm: 'sha256' })).sha256!}  ${path}\n`);
  });

  it('two files that differ in one byte have different digests; the empty file and a file of zeros differ too', async () => {
    const a = dataRange('digest', 0, 2 * MiB);
    const b = Buffer.from(a);
    b[MiB + 7] = b[MiB + 7]! ^ 1;
    expect(await reference(a)).not.toBe(await reference(b));
    expect(await reference(Buffer.alloc(0))).not.toBe(await reference(Buffer.alloc(8)));
  });

  it('a 16-connection download reports the digest of the file it wrote, split wherever its connections split it', async () => {
    const size = 9 * MiB + 12_345;
    const server = await scratch.server(size, { rateBytesPerSec: 8 * MiB });
    const output = join(scratch.dir, 'out.bin');
    const result = await download(server.server.url, { output, connections: 16, checksum: `sha256:${server.sha256}` });
    const expected = await reference(dataRange('segdl', 0, size));
    expect(result.digest.xxh64blocks).toBe(expected);
    expect((await hashFile(output)).xxh64blocks).toBe(expected);
    expect(result.digest.sha256).toBe(server.sha256);
  });
});
