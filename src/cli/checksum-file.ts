/**
 * Checksum files as the tools write them: GNU `sha256sum`/`sha512sum`/`sha1sum`/`md5sum` output
 * (`HEX  name` in text mode, `HEX *name` in binary mode, a leading `\` for escaped names) and the
 * BSD tag format (`SHA256 (name) = HEX`, also `sha256sum --tag` and openssl's `SHA2-256(name)= HEX`).
 * The algorithm comes from the tag or, for GNU lines, the digest's length. Lines that are neither
 * (comments, a PGP clearsign armour) are skipped, as `sha256sum -c` does.
 */
import type { HashAlgorithm } from '../options.js';
import { UsageError } from './args.js';

export interface ChecksumEntry {
  /** undefined for an algorithm segdl does not compute (SHA-384, BLAKE2...). */
  algorithm: HashAlgorithm | undefined;
  /** The tag or length the entry had, for messages. */
  kind: string;
  hex: string;
}

const BY_LENGTH: Record<number, HashAlgorithm> = { 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' };
const BY_TAG: Record<string, HashAlgorithm> = { MD5: 'md5', SHA1: 'sha1', SHA256: 'sha256', 'SHA2-256': 'sha256', SHA512: 'sha512', 'SHA2-512': 'sha512', XXH64: 'xxh64' };
const BSD = /^([A-Z0-9][A-Z0-9-]*) ?\((.+)\) ?= ?([0-9a-fA-F]+)$/;
const GNU = /^(\\?)([0-9a-fA-F]{8,}) [ *](.+)$/;

/** Entries by file name, as written in the file (later lines win, as with `sha256sum -c`). */
export function parseChecksumFile(text: string, source: string): Map<string, ChecksumEntry> {
  const entries = new Map<string, ChecksumEntry>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const bsd = BSD.exec(line);
    if (bsd) {
      const tag = bsd[1]!.toUpperCase();
      entries.set(bsd[2]!, { algorithm: BY_TAG[tag], kind: tag, hex: bsd[3]!.toLowerCase() });
      continue;
    }
    const gnu = GNU.exec(line);
    if (gnu) {
      const hex = gnu[2]!.toLowerCase();
      const name = gnu[1] === '\\' ? unescapeName(gnu[3]!) : gnu[3]!;
      entries.set(name, { algorithm: BY_LENGTH[hex.length], kind: `${hex.length * 4}-bit digest`, hex });
    }
  }
  if (entries.size === 0) throw new UsageError(`${source} has no checksum lines (GNU "HEX  name" or BSD "SHA256 (name) = HEX")`);
  return entries;
}

/** The `--checksum` value for file `name`: its entry by exact name, `./name`, or a unique entry whose base name it is. */
export function checksumFor(entries: Map<string, ChecksumEntry>, name: string, source: string): string {
  let entry = entries.get(name) ?? entries.get(`./${name}`);
  if (entry === undefined) {
    const byBase = [...entries].filter(([path]) => path.split('/').pop() === name);
    if (byBase.length > 1) throw new UsageError(`${source} has ${byBase.length} entries named ${name} (in different directories): give --checksum instead`);
    entry = byBase[0]?.[1];
  }
  if (entry === undefined) throw new UsageError(`${source} has no entry for ${name}`);
  if (entry.algorithm === undefined) throw new UsageError(`${source}: the entry for ${name} is a ${entry.kind}, which segdl cannot check (it checks MD5, SHA-1, SHA-256, SHA-512)`);
  return `${entry.algorithm}:${entry.hex}`;
}

/** GNU's escaping for names with a backslash or a newline. */
function unescapeName(name: string): string {
  return name.replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c));
}
