import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Download, download } from '../../src/index.js';
import { manifestPath } from '../../src/disk/manifest.js';
import { runCli, startCli } from '../helpers/cli.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-sec-');

const MiB = 1024 * 1024;

describe('no secrets at rest or in logs (catalogue case 56)', () => {
  it('URL userinfo and the Authorization header never reach the manifest or the --json output', async () => {
    const server = await scratch.server(8 * MiB, { rateBytesPerSec: 2 * MiB });
    const url = server.server.url.replace('http://', 'http://alice:hunter2@');
    const run = startCli([url, '-o', 'f.bin', '-c', '2', '--json', '-H', 'Authorization: Bearer s3cr3t-token'], { cwd: scratch.dir });
    await run.waitForEvent((e) => e['event'] === 'progress' && (e['transferredBytes'] as number) > MiB);
    run.child.kill('SIGTERM');
    const stopped = await run.exited;
    expect(stopped.code).toBe(143);
    const manifest = await readFile(manifestPath(join(scratch.dir, 'f.bin')), 'utf8');
    expect(manifest).toContain(server.server.url.replace('http://', ''));
    for (const secret of ['hunter2', 'alice', 's3cr3t-token', 'Bearer']) {
      expect(manifest).not.toContain(secret);
      expect(stopped.stdout).not.toContain(secret);
      expect(stopped.stderr).not.toContain(secret);
    }
    // The server did get the credentials (they were used, just never stored).
    expect(server.server.requests.some((r) => r.headers['authorization'] === 'Bearer s3cr3t-token')).toBe(true);
  });
});

describe('file modes (catalogue case 55)', () => {
  it('the .part, the manifest and the final file are 0600, and the rename keeps it', async () => {
    const server = await scratch.server(4 * MiB, { rateBytesPerSec: 4 * MiB });
    const output = join(scratch.dir, 'f.bin');
    const dl = new Download(server.server.url, { output, connections: 2, progressIntervalMs: 10 });
    const modes: number[] = [];
    dl.on('progress', (p) => {
      if (p.transferredBytes > MiB && modes.length === 0) {
        void Promise.all([stat(`${output}.part`), stat(manifestPath(output))]).then((s) => modes.push(...s.map((x) => x.mode & 0o777)));
      }
    });
    await dl.start();
    expect(modes).toEqual([0o600, 0o600]);
    expect((await stat(output)).mode & 0o777).toBe(0o600);
  });
});

describe('TLS verification switched off (catalogue case 57)', () => {
  it('NODE_TLS_REJECT_UNAUTHORIZED=0 with an https URL is warned about, never silent', async () => {
    const server = await scratch.server(1024);
    // The warning depends on the URL's scheme only; the download itself fails fast (nothing listens there with TLS).
    const run = await runCli(['https://127.0.0.1:1/x', '-o', 'x', '--retries', '0'], { cwd: scratch.dir, env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } });
    expect(run.stderr).toContain('segdl: warning: NODE_TLS_REJECT_UNAUTHORIZED=0: certificates are NOT being checked');
    expect(run.code).toBe(1);
    const ok = await download(server.server.url, { output: join(scratch.dir, 'plain') });
    expect(ok.size).toBe(1024);
  });
});
