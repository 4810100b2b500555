/**
 * The range server's lifecycle: listen, number connections, hand requests to the handler,
 * and close without leaving sockets, timers or file descriptors behind.
 */
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { ConnectionTracker } from './connections.js';
import { FaultState, type FaultOptions } from './faults.js';
import { handleRequest, type HandlerContext } from './handler.js';
import { TokenBucket } from './throttle.js';
import { fileRoot, type Root } from './paths.js';
import type { RangeServer, RequestRecord, ServeOptions, ServerStats } from './types.js';

/** Starts an RFC 9110 range server for a file or directory; resolves once it is listening. */
export async function serve(options: ServeOptions): Promise<RangeServer> {
  const root = await rootOf(options.root, options.index);
  const host = options.host ?? '127.0.0.1';
  const faults = new FaultState(options.faults ?? {});
  const connections = new ConnectionTracker();
  const requests: RequestRecord[] = [];
  const stats: ServerStats = { bytesSent: 0, connections: 0, maxConcurrentConnections: 0, refused: 0 };
  const ctx: HandlerContext = { root, faults, faultFor: options.faultFor, connections, requests, stats, sharedBucket: new TokenBucket() };

  const inFlight = new Set<Promise<void>>();
  const onRequest = (req: Parameters<typeof handleRequest>[1], res: Parameters<typeof handleRequest>[2]) => {
    const handled = handleRequest(ctx, req, res).finally(() => inFlight.delete(handled));
    inFlight.add(handled);
  };
  const server = options.tls === undefined ? createServer(onRequest) : createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest);
  server.on('connection', (socket) => {
    connections.add(socket);
    stats.connections = connections.accepted;
    stats.maxConcurrentConnections = connections.maxConcurrent;
  });

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      done();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const origin = `${options.tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const urlFor = (name: string): string => `${origin}/${encodeURIComponent(name)}`;
  let closing: Promise<void> | undefined;

  return {
    url: root.kind === 'file' ? urlFor(root.name) : `${origin}/`,
    port,
    requests,
    stats,
    setFaults: (next: FaultOptions) => faults.replace(next),
    urlFor,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((done) => server.close(() => done()));
        // Stalled and throttled responses never end on their own: cut them.
        connections.destroyAll();
        await stopped;
        // Handlers see their sockets close and release their files; wait for that.
        await Promise.allSettled([...inFlight]);
      })();
      return closing;
    },
  };
}

async function rootOf(path: string, index: string | undefined): Promise<Root> {
  const absolute = resolve(path);
  const info = await stat(absolute);
  if (info.isDirectory()) return { kind: 'dir', path: absolute, index };
  if (info.isFile()) return fileRoot(absolute);
  throw new TypeError(`Expected \`root\` to be a file or a directory, got ${absolute}`);
}
