import { describe, expect, it } from 'vitest';
import { checksumFor, parseChecksumFile } from '../../src/cli/checksum-file.js';

const H = { md5: '1'.repeat(32), sha1: '2'.repeat(40), sha256: '3'.repeat(64), sha512: '4'.repeat(128) };

const lookup = (text: string, name: string) => checksumFor(parseChecksumFile(text, 'SUMS'), name, 'SUMS');

describe('checksum files', () => {
  it.each([
    ['sha256sum text mode', `${H.sha256}  file.iso`, `sha256:${H.sha256}`],
    ['sha256sum binary mode', `${H.sha256} *file.iso`, `sha256:${H.sha256}`],
    ['sha512sum', `${H.sha512}  file.iso`, `sha512:${H.sha512}`],
    ['sha1sum', `${H.sha1}  file.iso`, `sha1:${H.sha1}`],
    ['md5sum', `${H.md5} *file.iso`, `md5:${H.md5}`],
    ['upper-case hex', `${H.sha256.toUpperCase().replace(/3/g, 'A')}  file.iso`, `sha256:${'a'.repeat(64)}`],
    ['BSD tag (sha256sum --tag)', `SHA256 (file.iso) = ${H.sha256}`, `sha256:${H.sha256}`],
    ['BSD MD5 and SHA1 tags', `MD5 (file.iso) = ${H.md5}`, `md5:${H.md5}`],
    ['BSD SHA512', `SHA512 (file.iso) = ${H.sha512}`, `sha512:${H.sha512}`],
    ["openssl's spelling", `SHA2-256(file.iso)= ${H.sha256}`, `sha256:${H.sha256}`],
    ['CRLF line ends', `${H.sha1}  other\r\n${H.sha256}  file.iso\r\n`, `sha256:${H.sha256}`],
    ['an entry with a ./ path', `${H.sha256}  ./file.iso`, `sha256:${H.sha256}`],
    ['an entry in a directory (unique base name)', `${H.sha256}  isos/amd64/file.iso`, `sha256:${H.sha256}`],
  ])('%s', (_name, text, expected) => {
    expect(lookup(text, 'file.iso')).toBe(expected);
  });

  it('a PGP clearsigned file (Fedora CHECKSUM): the armour and comments are skipped', () => {
    const text = ['-----BEGIN PGP SIGNED MESSAGE-----', 'Hash: SHA256', '', '# file.iso: 123 bytes', `SHA256 (file.iso) = ${H.sha256}`, '-----BEGIN PGP SIGNATURE-----', 'iQIzBAEBCAAdFiEE', '-----END PGP SIGNATURE-----'].join('\n');
    expect(lookup(text, 'file.iso')).toBe(`sha256:${H.sha256}`);
  });

  it("GNU's escaped names (a leading backslash)", () => {
    expect(lookup(`\\${H.sha256}  back\\\\slash\\nname`, 'back\\slash\nname')).toBe(`sha256:${H.sha256}`);
  });

  it('the exact name wins over a base-name match', () => {
    expect(lookup(`${H.sha1}  sub/file.iso\n${H.sha256}  file.iso`, 'file.iso')).toBe(`sha256:${H.sha256}`);
  });

  it.each([
    ['no entry for the file', `${H.sha256}  other.iso`, /^SUMS has no entry for file\.iso$/],
    ['two entries with that base name', `${H.sha256}  a/file.iso\n${H.sha1}  b/file.iso`, /has 2 entries named file\.iso/],
    ['an algorithm segdl cannot check', `SHA384 (file.iso) = ${'5'.repeat(96)}`, /is a SHA384, which segdl cannot check/],
    ['a digest of no known length', `${'6'.repeat(56)}  file.iso`, /is a 224-bit digest/],
  ])('%s is a clear error', (_name, text, message) => {
    expect(() => lookup(text, 'file.iso')).toThrow(message);
  });

  it('a file with no checksum lines at all is refused', () => {
    expect(() => parseChecksumFile('<html>not found</html>\n', 'SUMS')).toThrow(/^SUMS has no checksum lines/);
  });
});
