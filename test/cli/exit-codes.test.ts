import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-cli-');

const MiB = 1024 * 1024;

describe('CLI exit codes and one-line errors', () => {
  it('exits 0 with a verified file and a summary line', async () => {
    const server = await scratch.server(2 * MiB + 3);
    const run = await runCli([server.server.url, '-o', 'f.bin', '--checksum', `sha256:${server.sha256}`], { cwd: scratch.dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^segdl: saved .*f\.bin \(2\.0 MiB\)/m);
    expect(await readdir(scratch.dir)).toEqual(['f.bin']);
  });

  it('checksum mismatch exits 3 and leaves nothing at the final name', async () => {
    const server = await scratch.server(1 * MiB);
    const wrong = 'sha256:' + '0'.repeat(64);
    const run = await runCli([server.server.url, '-o', 'f.bin', '--checksum', wrong, '--quiet'], { cwd: scratch.dir });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^segdl: ERR_CHECKSUM_MISMATCH: sha256 is [0-9a-f]{64}, expected 0{64}\n$/);
    expect(await readdir(scratch.dir)).not.toContain('f.bin');
  });

  it('usage errors exit 2 without a stack trace', async () => {
    for (const args of [[], ['a', 'b'], ['--connections', 'x', 'http://127.0.0.1:1/'], ['-c', '0', 'http://127.0.0.1:1/'], ['--nope']]) {
      const run = await runCli(args, { cwd: scratch.dir });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^segdl: ERR_[A-Z_]+: .+\n$/);
      expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
    }
  });

  it('a failed download exits 1 with one line (404)', async () => {
    const server = await scratch.server(1024);
    const run = await runCli([server.server.urlFor('missing.bin'), '-o', 'x', '--retries', '0'], { cwd: scratch.dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`segdl: ERR_HTTP_STATUS: server answered 404\n`);
  });

  it('refuses to overwrite an existing file without --force', async () => {
    const server = await scratch.server(1024);
    await writeFile(join(scratch.dir, 'f.bin'), 'mine');
    const run = await runCli([server.server.url, '-o', 'f.bin'], { cwd: scratch.dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^segdl: ERR_TARGET_EXISTS: /);
    const forced = await runCli([server.server.url, '-o', 'f.bin', '--force', '--checksum', `sha256:${server.sha256}`], { cwd: scratch.dir });
    expect(forced.code).toBe(0);
  });

  it('a second process on the same output fails fast with ERR_LOCKED', async () => {
    const server = await scratch.server(16 * MiB, { rateBytesPerSec: 1 * MiB });
    const first = startCli([server.server.url, '-o', 'f.bin', '-c', '2', '--json'], { cwd: scratch.dir });
    // Past the first checkpoint (every 512 KiB written), so there is something to resume below.
    await first.waitForEvent((e) => e['event'] === 'progress' && (e['transferredBytes'] as number) > MiB);
    const second = await runCli([server.server.url, '-o', 'f.bin'], { cwd: scratch.dir });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`^segdl: ERR_LOCKED: .*f\\.bin is being downloaded by another process \\(pid ${first.child.pid}\\)\\n$`));
    first.child.kill('SIGKILL');
    await first.exited;
    // The dead owner's lock is taken over by the next run, which resumes.
    const third = await runCli([server.server.url, '-o', 'f.bin', '--json'], { cwd: scratch.dir });
    expect(third.stdout).toContain('"event":"resume"');
  }, 60_000);
});
