/** `segdl daemon` as a library call: the engine, the RPC transports, and the rules for who may call. */
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { DownloadError } from '../errors.js';
import { Aria2Engine } from './engine.js';
import { dispatch, dispatchText } from './jsonrpc.js';
import { checkOptions } from './options-map.js';
import { DownloadRoots } from './paths.js';
import { SessionFile } from './session.js';
import { listenRpc, type RpcTransport } from './transport.js';

export interface DaemonOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 6800 */
  port?: number;
  secret?: string | undefined;
  allowOrigins?: readonly string[] | 'all';
  /** Download roots; the first is the default `dir`. Every client's `dir` must lie under one of them. */
  roots: string[];
  session?: string | undefined;
  /** Global options in aria2's names (max-concurrent-downloads, max-overall-download-limit, split, ...). */
  global?: Record<string, string>;
  /** What getVersion reports. */
  version: string;
  /** Lines for the operator (warnings). */
  log?: (line: string) => void;
}

export interface RunningDaemon {
  readonly url: string;
  readonly port: number;
  readonly engine: Aria2Engine;
  /** Downloads restored from the session file. */
  readonly restored: number;
  /** Resolves when a client called aria2.shutdown / forceShutdown. */
  readonly shutdownRequested: Promise<void>;
  /** Saves the session, stops every download (state saved) and closes the server. */
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const host = options.host ?? '127.0.0.1';
  const secret = options.secret === '' ? undefined : options.secret;
  // Anyone on the network could add downloads (and write files) otherwise.
  if (!isLoopback(host) && secret === undefined) {
    throw new DownloadError('ERR_INVALID_OPTION', 'listening beyond loopback (--rpc-listen-all) needs an RPC secret (--rpc-secret-file, SEGDL_RPC_SECRET or --rpc-secret)');
  }
  if (options.roots.length === 0) throw new DownloadError('ERR_INVALID_OPTION', 'no download directory');
  await Promise.all(options.roots.map((root) => mkdir(root, { recursive: true })));
  const roots = new DownloadRoots(options.roots);
  let global;
  try {
    global = checkOptions(options.global ?? {}, roots, 'global');
  } catch (error) {
    throw new DownloadError('ERR_INVALID_OPTION', (error as Error).message);
  }
  const log = options.log ?? (() => undefined);
  const engine = new Aria2Engine({ roots, global, session: options.session === undefined ? undefined : new SessionFile(options.session) });
  engine.on('warning', log);
  const restored = await engine.restore();
  const ctx = { engine, secret, version: options.version };
  let transport: RpcTransport;
  try {
    transport = await listenRpc((request) => ('text' in request ? dispatchText(ctx, request.text) : dispatch(ctx, request.parsed)), {
      host,
      port: options.port ?? 6800,
      allowOrigins: options.allowOrigins ?? [],
    });
  } catch (error) {
    await engine.close();
    throw new DownloadError('ERR_INVALID_OPTION', `cannot listen on ${host}:${options.port ?? 6800}: ${(error as Error).message}`, { cause: error });
  }
  engine.on('notify', ({ method, params }) => transport.broadcast({ jsonrpc: '2.0', method, params }));
  const shutdownRequested = new Promise<void>((resolve) => engine.once('shutdown', resolve));
  let closing: Promise<void> | undefined;
  return {
    url: transport.url,
    port: transport.port,
    engine,
    restored,
    shutdownRequested,
    close() {
      closing ??= (async () => {
        await transport.close();
        await engine.close();
      })();
      return closing;
    },
  };
}
