import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPrivateAddress } from '../../src/http/address-guard.js';
import { DownloadError, download } from '../../src/index.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-priv-');

describe('blocking private addresses (catalogue case 48)', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['169.254.169.254', true],
    ['172.20.0.1', true],
    ['192.168.1.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['8.8.8.8', false],
    ['2606:4700::1111', false],
    ['not-an-ip', true],
  ])('%s is private: %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it.each(['127.0.0.1', 'localhost', '0x7f.1', '2130706433', '127.1'])('http://%s is refused at connect time when blocking is on', async (host) => {
    const server = await scratch.server(64 * 1024);
    const url = server.server.url.replace('127.0.0.1', host);
    const error = await download(url, { output: join(scratch.dir, 'f'), blockPrivateAddresses: true, retry: { attempts: 0 } }).catch((e: unknown) => e);
    expect((error as DownloadError).code).toBe('ERR_BLOCKED_ADDRESS');
    expect((error as DownloadError).message).toMatch(/^refused to connect to .+ at private address (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
    expect(server.server.requests).toHaveLength(0);
    expect(await readdir(scratch.dir)).toEqual([]);
  });

  it('without the option the same loopback download works', async () => {
    const server = await scratch.server(64 * 1024);
    const result = await download(server.server.url, { output: join(scratch.dir, 'f') });
    expect(result.size).toBe(64 * 1024);
  });
});
