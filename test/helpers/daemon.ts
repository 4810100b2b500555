/**
 * `segdl daemon` as a real child process (the built CLI) on 127.0.0.1 at a free port, and
 * aria2.js clients for it. Also real aria2c, for the field-by-field comparison.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import Aria2 from 'aria2';
import { CLI } from './cli.js';

export interface RpcProcess {
  child: ChildProcess;
  port: number;
  /** A fresh aria2.js client (HTTP until `open()`), with this process's secret unless another is given. */
  client(secret?: string): Aria2;
  stderr(): string;
  /** SIGKILL (if still running), then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM and wait: the daemon saves its state and exits. */
  stop(): Promise<{ code: number | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function track(child: ChildProcess, port: Promise<number>, secret: string | undefined): Promise<RpcProcess> {
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const failed = exited.then(({ code, signal }) => {
    throw new Error(`RPC process exited (${code ?? signal}) before listening: ${stderr}`);
  });
  return Promise.race([port, failed]).then((p) => ({
    child,
    port: p,
    client: (s = secret) => new Aria2({ host: '127.0.0.1', port: p, ...(s === undefined ? {} : { secret: s }) }),
    stderr: () => stderr,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  }));
}

/** Starts `segdl daemon --rpc-listen-port 0 ...args`; resolves once it printed its URL. */
export function startDaemon(args: string[], options: { env?: NodeJS.ProcessEnv; secret?: string } = {}): Promise<RpcProcess> {
  const child = spawn(process.execPath, [CLI, 'daemon', '--rpc-listen-port', '0', ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const port = new Promise<number>((resolve) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(Number(new URL(line).port)));
  });
  return track(child, port, options.secret);
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Real aria2c with RPC on 127.0.0.1 (no config file, no DHT); resolves once getVersion answers. */
export async function startAria2c(args: string[], secret?: string): Promise<RpcProcess> {
  const port = await freePort();
  const child = spawn(
    'aria2c',
    ['--enable-rpc', `--rpc-listen-port=${port}`, '--rpc-listen-all=false', '--no-conf', '--enable-dht=false', '--quiet', ...(secret ? [`--rpc-secret=${secret}`] : []), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ready = (async () => {
    const client = new Aria2({ host: '127.0.0.1', port, ...(secret ? { secret } : {}) });
    // Polls until the RPC port answers (aria2c prints nothing when it is ready).
    while (child.exitCode === null && child.signalCode === null) {
      try {
        await client.call('getVersion');
        return port;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error('aria2c exited');
  })();
  return track(child, ready, secret);
}

/** Polls `probe` until it returns a value other than undefined. */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, attempts = 2000): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Resolves with the params of the next notification `event` (aria2.js's unprefixed name) for `gid`. */
export function notified(client: Aria2, event: string, gid?: string): Promise<unknown> {
  return new Promise((resolve) => {
    const on = (params: Array<{ gid: string }>) => {
      if (gid !== undefined && params[0]?.gid !== gid) return;
      client.off(event, on);
      resolve(params[0]);
    };
    client.on(event, on);
  });
}
