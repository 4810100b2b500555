/**
 * ipull as a command for the benchmark: `node dist/bench/ipull-driver.js URL FILE [STREAMS]`.
 * Uses ipull's documented entry, `downloadFile()` then `download()`; run again after a kill, it
 * resumes from the metadata it keeps in FILE.ipull.
 */
import { downloadFile } from 'ipull';

const [url, savePath, streams = '16'] = process.argv.slice(2);
if (url === undefined || savePath === undefined) {
  process.stderr.write('usage: ipull-driver URL FILE [STREAMS]\n');
  process.exit(2);
}
try {
  const downloader = await downloadFile({ url, savePath, parallelStreams: Number(streams), cliProgress: false });
  await downloader.download();
} catch (error) {
  process.stderr.write(`ipull: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
