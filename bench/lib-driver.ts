/**
 * The in-process library row (`segdl-lib`): `node dist/bench/lib-driver.js ENTRY`, forked by
 * lib-session.ts with an IPC channel. It imports segdl's built library from ENTRY (the
 * snapshot's dist/src/index.js) once, then for every job it is sent awaits one `download()` and
 * replies with that call's wall time and CPU, and this process's peak RSS so far. Successive
 * calls share whatever the library keeps per process (loaded modules, pooled sockets).
 */
import { pathToFileURL } from 'node:url';
import type * as Segdl from '../src/index.js';
import type { LibJob, LibReply } from './lib-session.js';

const entry = process.argv[2];
const send = process.send?.bind(process);
if (entry === undefined || send === undefined) {
  process.stderr.write('usage: lib-driver ENTRY (forked with an IPC channel by bench/lib-session.ts)\n');
  process.exit(2);
}
const { download } = (await import(pathToFileURL(entry).href)) as typeof Segdl;

async function run(job: LibJob): Promise<LibReply> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    const result = await download(job.url, { output: job.output, connections: job.connections });
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return { kind: 'done', wallMs, cpuMs: (used.user + used.system) / 1000, userMs: used.user / 1000, maxRssKiB: process.resourceUsage().maxRSS, verifyMs: result.verifyMs };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { kind: 'failed', error: `${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}` };
  }
}

process.on('message', (job: LibJob) => void run(job).then((reply) => send(reply)));
// Pooled sockets may keep the loop alive: the harness closing the channel is the end.
process.once('disconnect', () => process.exit(0));
send({ kind: 'ready' } satisfies LibReply);
