import { describe, expect, it } from 'vitest';
import { parseInputFile } from '../../src/cli/input-file.js';

const HEX = 'ab'.repeat(32);

describe("aria2's input-file format", () => {
  it('URIs, comments, blank lines, indented options and TAB-separated mirrors', () => {
    const text = [
      '# downloads for today',
      'http://a.example/one.iso',
      '  out=first.iso',
      `\tchecksum=sha-256=${HEX}`,
      '  header=X-Token: abc',
      '  header=Referer: http://r/',
      '  max-download-limit=2M',
      '  split=4',
      '',
      'https://b.example/two.bin\thttps://c.example/two.bin\t https://d.example/two.bin',
      '  dir=sub/dir',
      '  user-agent=aria2/1.37',
      '  allow-overwrite=true',
      '  continue=true',
      '   # an indented comment',
      'http://e.example/three',
      '  max-download-limit=0',
    ].join('\r\n');
    expect(parseInputFile(text, 'list.txt')).toEqual([
      {
        line: 2,
        url: 'http://a.example/one.iso',
        mirrors: [],
        dir: undefined,
        options: { output: 'first.iso', checksum: `sha256:${HEX}`, headers: { 'X-Token': 'abc', Referer: 'http://r/' }, maxSpeed: 2 * 1024 * 1024, connections: 4 },
      },
      { line: 10, url: 'https://b.example/two.bin', mirrors: ['https://c.example/two.bin', 'https://d.example/two.bin'], dir: 'sub/dir', options: { headers: { 'user-agent': 'aria2/1.37' }, force: true } },
      { line: 16, url: 'http://e.example/three', mirrors: [], dir: undefined, options: {} },
    ]);
  });

  it("checksum= takes aria2's sha-1/sha-256/sha-512/md5 and segdl's sha256:HEX", () => {
    const digest = (value: string) => parseInputFile(`http://h/f\n  checksum=${value}`, 'l')[0]!.options.checksum;
    expect(digest(`sha-1=${'0'.repeat(40)}`)).toBe(`sha1:${'0'.repeat(40)}`);
    expect(digest(`sha-512=${'0'.repeat(128)}`)).toBe(`sha512:${'0'.repeat(128)}`);
    expect(digest(`md5=${'0'.repeat(32)}`)).toBe(`md5:${'0'.repeat(32)}`);
    expect(digest(`sha256:${HEX}`)).toBe(`sha256:${HEX}`);
  });

  it.each([
    ['an unknown option', 'http://h/f\n  bt-tracker=x', /^l:2: unknown option bt-tracker \(segdl reads out, dir, /],
    ['an option line before any URI', '  out=x\nhttp://h/f', /^l:1: an option line must follow a URI line$/],
    ['an option without =', 'http://h/f\n  out', /^l:2: expected an option as name=value, got "out"$/],
    ['a line that is not a URL', 'http://h/f\nnot a url', /^l:2: not a URL: not a url$/],
    ['an ftp URL', 'ftp://h/f', /^l:1: only http and https URLs/],
    ['a bad mirror', 'http://h/f\tgopher://x/', /^l:1: only http and https URLs .*gopher/],
    ['an unsupported hash type', `http://h/f\n  checksum=sha-384=${'0'.repeat(96)}`, /^l:2: checksum= expects TYPE=DIGEST/],
    ['a bad rate', 'http://h/f\n\n  max-download-limit=fast', /^l:3: max-download-limit= expects a rate/],
    ['a bad split', 'http://h/f\n  split=many', /^l:2: split= expects a whole number/],
    ['a bad header', 'http://h/f\n  header=no colon', /^l:2: --header expects "Name: value"/],
    ['a bad boolean', 'http://h/f\n  allow-overwrite=yes', /^l:2: allow-overwrite= expects true or false/],
    ['an empty out', 'http://h/f\n  out=', /^l:2: out= needs a file name$/],
    ['no URIs at all', '# nothing\n\n', /^l: no URIs in the input file$/],
  ])('%s is a usage error naming the line', (_name, text, message) => {
    expect(() => parseInputFile(text, 'l')).toThrow(message);
  });
});
