import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Download, download } from '../../src/index.js';
import { manifestPath } from '../../src/manifest.js';
import { runCli, startCli } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/server.js';

let out: string;
let server: TestServer | undefined;
beforeEach(async () => {
  out = await mkdtemp(join(tmpdir(), 'segdl-sec-'));
});
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
  await rm(out, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

describe('no secrets at rest or in logs (catalogue case 56)', () => {
  it('URL userinfo and the Authorization header never reach the manifest or the --json output', async () => {
    server = await startServer(8 * MiB, { rateBytesPerSec: 2 * MiB });
    const url = server.server.url.replace('http://', 'http://alice:hunter2@');
    const run = startCli([url, '-o', 'f.bin', '-c', '2', '--json', '-H', 'Authorization: Bearer s3cr3t-token'], { cwd: out });
    await run.waitForEvent((e) => e['event'] === 'progress' && (e['transferredBytes'] as number) > MiB);
    run.child.kill('SIGTERM');
    const stopped = await run.exited;
    expect(stopped.code).toBe(143);
    const manifest = await readFile(manifestPath(join(out, 'f.bin')), 'utf8');
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
    server = await startServer(4 * MiB, { rateBytesPerSec: 4 * MiB });
    const output = join(out, 'f.bin');
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
    server = await startServer(1024);
    // The warning depends on the URL's scheme only; the download itself fails fast (nothing listens there with TLS).
    const run = await runCli(['https://127.0.0.1:1/x', '-o', 'x', '--retries', '0'], { cwd: out, env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } });
    expect(run.stderr).toContain('segdl: warning: NODE_TLS_REJECT_UNAUTHORIZED=0: certificates are NOT being checked');
    expect(run.code).toBe(1);
    const ok = await download(server.server.url, { output: join(out, 'plain') });
    expect(ok.size).toBe(1024);
  });
});
