/**
 * `segdl hash [--algorithm ALGO] FILE...`: each file's xxh64blocks digest (the one a download
 * reports, src/verify/blocks.ts), as `HEX  FILE` lines in the style of sha256sum; with
 * `--algorithm ALGO` also that standard digest, on the same line.
 */
import { parseArgs } from 'node:util';
import { HASH_ALGORITHMS, type HashAlgorithm } from '../options.js';
import { hashFile } from '../verify/hash-file.js';
import { UsageError } from './args.js';
import { EXIT } from './exit.js';

const HELP = `Usage: segdl hash [--algorithm ALGO] FILE...
  Prints "XXH64BLOCKS  FILE" per file: the digest segdl reports for a download (the xxh64 of
  the file's 1 MiB blocks' xxh64s and its size). --algorithm sha256|sha512|sha1|md5|xxh64 adds
  that standard digest: "XXH64BLOCKS ALGO:HEX  FILE".
`;

export async function runHash(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { algorithm: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help) {
    out.write(HELP);
    return EXIT.ok;
  }
  const algorithm = parsed.values.algorithm;
  if (algorithm !== undefined && !(HASH_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new UsageError(`--algorithm expects one of ${HASH_ALGORITHMS.join(', ')}, got ${algorithm}`);
  }
  if (parsed.positionals.length === 0) throw new UsageError('segdl hash: missing FILE');
  let failed = false;
  for (const path of parsed.positionals) {
    try {
      const digest = await hashFile(path, algorithm === undefined ? {} : { algorithm: algorithm as HashAlgorithm });
      const extra = algorithm === undefined ? '' : ` ${algorithm}:${digest[algorithm as HashAlgorithm]!}`;
      out.write(`${digest.xxh64blocks}${extra}  ${path}\n`);
    } catch (error) {
      failed = true;
      err.write(`segdl: hash: ${path}: ${(error as Error).message}\n`);
    }
  }
  return failed ? EXIT.failed : EXIT.ok;
}
