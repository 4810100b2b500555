/** `segdl daemon`: aria2's JSON-RPC (HTTP and WebSocket) over one download queue, until a signal or aria2.shutdown. */
import { readFileSync } from 'node:fs';
import { startDaemon } from '../rpc/daemon.js';
import { parseOrUsage, UsageError } from './args.js';

const DAEMON_USAGE = `Usage: segdl daemon [options]
Serves aria2's JSON-RPC at http://HOST:PORT/jsonrpc (POST, GET) and ws://HOST:PORT/jsonrpc,
so AriaNg, webui-aria2, browser extensions and aria2 client libraries drive segdl.

  --rpc-listen-port N          port (default 6800; 0: any free one, printed on stdout)
  --rpc-listen-all             listen on every interface (default: 127.0.0.1 only);
                               refused without a secret
  --rpc-secret-file FILE       the RPC secret (clients send "token:SECRET"), read from FILE
  SEGDL_RPC_SECRET=SECRET      the same, from the environment
  --rpc-secret TOKEN           the same on the command line: it then shows in ps and in
                               /proc/PID/cmdline to every user of this machine; prefer the two above
  --rpc-allow-origin ORIGIN    let web pages from ORIGIN call (CORS, WebSocket); repeatable.
                               Requests from any other page are refused.
  --rpc-allow-origin-all       let every web page call (aria2's flag; not recommended)
  -d, --dir DIR                default download directory (default: the current one)
      --allow-dir DIR          another directory clients may choose with "dir" (repeatable);
                               every dir and out stays inside these and --dir
      --session FILE           keep the unfinished downloads in FILE (saved on every change),
                               restore them at start: they resume from their partial files
  -j, --max-concurrent-downloads N      downloads that run at once (default 5)
      --max-overall-download-limit RATE  cap all downloads together, e.g. 10M (0: none)
  -s, --split N                connections per download (default 8)
  -x, --max-connection-per-server N     connections per server per download (default 8)
      --max-download-limit RATE         default cap per download (0: none)
      --enable-rpc             accepted for aria2 command lines (always on)
  -h, --help                   show this help

Stop it with Ctrl-C, SIGTERM or aria2.shutdown: downloads stop with their state saved.
`;

function readSecret(values: { 'rpc-secret'?: string | undefined; 'rpc-secret-file'?: string | undefined }): string | undefined {
  if (values['rpc-secret-file'] !== undefined) {
    try {
      return readFileSync(values['rpc-secret-file'], 'utf8').trim();
    } catch (error) {
      throw new UsageError(`--rpc-secret-file: cannot read ${values['rpc-secret-file']}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  return values['rpc-secret'] ?? process.env['SEGDL_RPC_SECRET'];
}

export async function runDaemon(argv: string[], out: NodeJS.WriteStream, err: NodeJS.WriteStream, version: string): Promise<number> {
  const { values, positionals } = parseOrUsage(argv, {
    'rpc-listen-port': { type: 'string' },
    'rpc-listen-all': { type: 'boolean' },
    'rpc-secret': { type: 'string' },
    'rpc-secret-file': { type: 'string' },
    'rpc-allow-origin': { type: 'string', multiple: true },
    'rpc-allow-origin-all': { type: 'boolean' },
    dir: { type: 'string', short: 'd' },
    'allow-dir': { type: 'string', multiple: true },
    session: { type: 'string' },
    'max-concurrent-downloads': { type: 'string', short: 'j' },
    'max-overall-download-limit': { type: 'string' },
    split: { type: 'string', short: 's' },
    'max-connection-per-server': { type: 'string', short: 'x' },
    'max-download-limit': { type: 'string' },
    'enable-rpc': { type: 'boolean' },
    debug: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    out.write(DAEMON_USAGE);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`daemon takes no arguments, got ${positionals[0]}`);
  const portText = values['rpc-listen-port'] ?? '6800';
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new UsageError(`--rpc-listen-port expects a port number, got ${portText}`);
  if (values['rpc-secret'] !== undefined) err.write('segdl: warning: --rpc-secret shows in ps; prefer --rpc-secret-file or SEGDL_RPC_SECRET\n');
  if (values['rpc-allow-origin-all']) err.write('segdl: warning: --rpc-allow-origin-all lets every web page you visit call this daemon\n');
  const global: Record<string, string> = {};
  for (const name of ['max-concurrent-downloads', 'max-overall-download-limit', 'split', 'max-connection-per-server', 'max-download-limit'] as const) {
    const value = values[name];
    if (value !== undefined) global[name] = value;
  }
  const daemon = await startDaemon({
    host: values['rpc-listen-all'] ? '0.0.0.0' : '127.0.0.1',
    port: Number(portText),
    secret: readSecret(values),
    allowOrigins: values['rpc-allow-origin-all'] ? 'all' : (values['rpc-allow-origin'] ?? []),
    roots: [values.dir ?? process.cwd(), ...(values['allow-dir'] ?? [])],
    session: values.session,
    global,
    version,
    log: (line) => err.write(`segdl: warning: ${line}\n`),
  });
  err.write(`segdl: daemon listening on ${daemon.url} (and ws://${daemon.url.slice('http://'.length)})${daemon.restored > 0 ? `, ${daemon.restored} download(s) restored from the session` : ''}\n`);
  out.write(`${daemon.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    void daemon.shutdownRequested.then(resolve);
  });
  await daemon.close();
  return 0;
}
