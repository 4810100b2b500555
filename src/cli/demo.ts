/**
 * `npm run demo`: segdl's own range server on loopback, capped per connection like a real
 * mirror, then one connection vs many, an interruption half way, a resume and a verified file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDataFile } from '../../fixtures/data.js';
import { Download } from '../download.js';
import { DownloadError } from '../errors.js';
import { serve } from '../serve/index.js';
import { attachReporter, resultLine } from './report.js';
import { formatBytes } from '../units.js';

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const RATE = 4 * MiB; // per connection, so more connections really are faster
const CONNECTIONS = 8;

const say = (text: string) => process.stderr.write(`${text}\n`);
const mode = process.stderr.isTTY ? 'tty' : 'plain';

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'segdl-demo-'));
  try {
    const source = join(dir, 'ubuntu-demo.iso');
    const sha256 = await writeDataFile(source, SIZE, 'demo');
    const server = await serve({ root: dir, faults: { rateBytesPerSec: RATE } });
    const url = server.urlFor('ubuntu-demo.iso');
    say(`segdl demo: serving a ${formatBytes(SIZE)} file at ${url}, each connection capped at ${formatBytes(RATE)}/s`);
    try {
      say(`\n1) one connection for 2 seconds (like curl or wget):`);
      const single = await measureSingle(url, join(dir, 'single.bin'));
      say(`   ${formatBytes(single)}/s with one connection`);

      say(`\n2) ${CONNECTIONS} connections, interrupted at 40%:  segdl ${url} -c ${CONNECTIONS}`);
      const output = join(dir, 'download.iso');
      const sentBefore = server.stats.bytesSent;
      const first = new Download(url, { output, connections: CONNECTIONS, checksum: `sha256:${sha256}` });
      const reporter = attachReporter(first, mode, process.stderr, process.stdout);
      first.on('progress', (p) => {
        if (p.transferredBytes >= SIZE * 0.4) first.abort(new DownloadError('ERR_ABORTED', 'demo interruption'));
      });
      await first.start().catch((error: unknown) => {
        if (!(error instanceof DownloadError && error.code === 'ERR_ABORTED')) throw error;
      });
      reporter.close();
      say(`   interrupted: the server had sent ${formatBytes(server.stats.bytesSent - sentBefore)}; .part and manifest kept`);

      say(`\n3) the same command again resumes and verifies (sha256):`);
      const second = new Download(url, { output, connections: CONNECTIONS, checksum: `sha256:${sha256}` });
      const reporter2 = attachReporter(second, mode, process.stderr, process.stdout);
      const result = await second.start();
      reporter2.close();
      say(`   ${resultLine(result)}`);
      const speed = result.bytesFetched / (result.elapsedMs / 1000);
      say(
        `\nsummary: resumed ${formatBytes(SIZE - result.bytesFetched)}, fetched ${formatBytes(result.bytesFetched)} in ` +
          `${(result.elapsedMs / 1000).toFixed(2)} s at ${formatBytes(speed)}/s = ${(speed / single).toFixed(1)}x one connection; ` +
          `the server sent ${formatBytes(server.stats.bytesSent - sentBefore)} over both runs for a ${formatBytes(SIZE)} file; sha256 verified ${result.digest.sha256?.slice(0, 16)}...`,
      );
    } finally {
      await server.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Bytes per second of one connection over ~2 s (the download is aborted then). */
async function measureSingle(url: string, output: string): Promise<number> {
  const single = new Download(url, { output, connections: 1 });
  const started = Date.now();
  let bytes = 0;
  single.on('progress', (p) => {
    bytes = p.transferredBytes;
    if (Date.now() - started >= 2000) single.abort();
  });
  await single.start().catch(() => undefined);
  return bytes / ((Date.now() - started) / 1000);
}

main().catch((error: unknown) => {
  say(`segdl demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
