import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('--help', () => {
  it('shows the batch, proxy and checksum-file usage with examples to paste', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const text of [
      'segdl <url> <url>... [options]',
      '-i, --input-file FILE',
      '-d, --dir DIR',
      '-j, --jobs N',
      '--checksum-file F',
      '--proxy URL',
      '--no-proxy',
      '--netrc',
      '-U, --user-agent UA',
      '--connect-timeout S',
      'segdl -i urls.txt -d downloads',
      'segdl --checksum-file https://example.com/SHA256SUMS https://example.com/big.iso',
      'HTTPS_PROXY=http://proxy:3128 NO_PROXY=.internal segdl URL',
    ]) {
      expect(run.stdout).toContain(text);
    }
  });
});
