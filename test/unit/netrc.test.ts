import { describe, expect, it } from 'vitest';
import { basicAuthorization, netrcFor, parseNetrc } from '../../src/cli/netrc.js';

const FILE = `# my hosts
machine files.example.com login alice password s3cret
machine Other.Example login bob
  password "with space \\"and quote\\""

macdef init
cd /pub
get file

machine second.example login carol password pw2
machine files.example.com login dave password dpw
default login anon password guest@
`;

describe('.netrc, as curl reads it', () => {
  const entries = parseNetrc(FILE, '.netrc');

  it('machine entries by host name, without case', () => {
    expect(netrcFor(entries, 'FILES.example.com', undefined)).toMatchObject({ login: 'alice', password: 's3cret' });
    expect(netrcFor(entries, 'other.example', undefined)).toMatchObject({ login: 'bob', password: 'with space "and quote"' });
  });

  it('a macdef block is skipped up to the blank line ending it', () => {
    expect(netrcFor(entries, 'second.example', undefined)).toMatchObject({ login: 'carol', password: 'pw2' });
  });

  it('a user named in the URL picks that entry', () => {
    expect(netrcFor(entries, 'files.example.com', 'dave')).toMatchObject({ password: 'dpw' });
    expect(netrcFor(entries, 'files.example.com', 'nobody')).toBeUndefined(); // no entry for that user, the default's included
  });

  it('other hosts get the default entry; without one, nothing', () => {
    expect(netrcFor(entries, 'unknown.example', undefined)).toMatchObject({ login: 'anon', password: 'guest@' });
    expect(netrcFor(parseNetrc('machine a login x password y', 'n'), 'b', undefined)).toBeUndefined();
  });

  it("a '#' inside a password is kept; one starting a line is a comment", () => {
    const parsed = parseNetrc('machine h login u password pa#ss\n# machine evil login e password e\n', 'n');
    expect(parsed).toEqual([{ machine: 'h', login: 'u', password: 'pa#ss' }]);
  });

  it('Basic credentials', () => {
    expect(basicAuthorization({ machine: 'h', login: 'alice', password: 's3cret' })).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
  });

  it.each([
    ['a keyword without its value', 'machine', /"machine" at the end of the file needs a value/],
    ['login before any machine', 'login x password y', /"login" before any machine or default/],
    ['an unknown word', 'machine h logon x', /unexpected "logon"/],
  ])('%s is a clear error', (_name, text, message) => {
    expect(() => parseNetrc(text, 'n')).toThrow(message);
  });
});
