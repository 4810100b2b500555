import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-bad-');

/** `URL` in an argument stands for the test server's file. */
const CASES: Array<[string, string[], RegExp, NodeJS.ProcessEnv?]> = [
  ['a missing list file', ['-i', 'missing.txt'], /^segdl: ERR_USAGE: -i: cannot read missing\.txt: ENOENT$/],
  ['an unknown option line in a list', ['-i', 'unknown-option.txt'], /^segdl: ERR_USAGE: unknown-option\.txt:2: unknown option max-tries /],
  ['a missing netrc file', ['URL', '--netrc-file', 'no-such-netrc'], /^segdl: ERR_USAGE: --netrc: cannot read no-such-netrc: ENOENT$/],
  ['an unreadable netrc (a directory)', ['URL', '--netrc-file', 'a-directory'], /^segdl: ERR_USAGE: --netrc: cannot read a-directory: EISDIR$/],
  ['--netrc without a ~/.netrc', ['URL', '--netrc'], /^segdl: ERR_USAGE: --netrc: cannot read .*\/\.netrc: ENOENT$/],
  ['a garbled netrc', ['URL', '--netrc-file', 'garbled-netrc'], /^segdl: ERR_USAGE: garbled-netrc: unexpected "hostname" /],
  ['a proxy URL without a scheme', ['URL', '--proxy', '127.0.0.1:3128'], /^segdl: ERR_INVALID_OPTION: proxy URL needs a scheme \(http:\/\/, https:\/\/, socks5:\/\/ or socks5h:\/\/\), got 127\.0\.0\.1:3128$/],
  ['a proxy URL with an unsupported scheme', ['URL', '--proxy', 'ftp://127.0.0.1:21'], /^segdl: ERR_INVALID_OPTION: proxy URL scheme ftp: is not supported/],
  ['a bad proxy variable', ['URL'], /^segdl: ERR_INVALID_OPTION: HTTPS_PROXY URL scheme gopher: is not supported/, { HTTPS_PROXY: 'gopher://127.0.0.1:70' }],
  ['a missing checksum file', ['URL', '--checksum-file', 'SUMS.missing'], /^segdl: ERR_USAGE: --checksum-file: cannot read SUMS\.missing: ENOENT$/],
  ['a checksum file without checksum lines', ['URL', '--checksum-file', 'not-sums.html'], /^segdl: ERR_USAGE: not-sums\.html has no checksum lines/],
  ['-o - with --json (stdout carries the file)', ['URL', '-o', '-', '--json'], /^segdl: ERR_USAGE: -o - writes the file to stdout: --json would mix with it/],
  ['a bad --connect-timeout', ['URL', '--connect-timeout', 'soon'], /^segdl: ERR_USAGE: --connect-timeout expects seconds/],
  ['-j 0', ['URL', 'URL', '-j', '0'], /^segdl: ERR_USAGE: --jobs expects a number from 1 to 64, got 0$/],
  ['-o with many URLs', ['URL', 'URL', '-o', 'x'], /^segdl: ERR_USAGE: -o names one file/],
  ['-d with -o outside it', ['URL', '-d', 'dl', '-o', '../x'], /^segdl: ERR_INVALID_OPTION: Expected `output` to be a path inside `directory`, got \.\.\/x$/],
];

describe('every bad input: one clear line, exit 2, nothing downloaded', () => {
  it.each(CASES)('%s', async (_name, args, message, env = {}) => {
    const server = await scratch.server(1024);
    await writeFile(join(scratch.dir, 'unknown-option.txt'), `${server.server.url}\n  max-tries=5\n`);
    await writeFile(join(scratch.dir, 'garbled-netrc'), 'machine 127.0.0.1 hostname x\n');
    await writeFile(join(scratch.dir, 'not-sums.html'), '<html><body>Not here</body></html>\n');
    await mkdir(join(scratch.dir, 'a-directory'));
    const before = (await readdir(scratch.dir)).sort();
    const run = await runCli(
      args.map((a) => (a === 'URL' ? server.server.url : a)),
      { cwd: scratch.dir, env: { HOME: join(scratch.dir, 'a-directory'), ...env } },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^segdl: ERR_[A-Z_]+: [^\n]+\n$/);
    expect(run.stderr.trimEnd()).toMatch(message);
    expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(server.server.requests).toEqual([]);
    expect((await readdir(scratch.dir)).sort()).toEqual(before);
  });
});
