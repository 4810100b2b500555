/**
 * Real forward proxies on loopback that count what they saw: an HTTP proxy (absolute-form
 * requests and CONNECT tunnels, optional Basic auth, or a refusal of every CONNECT) and a
 * SOCKS5 proxy (RFC 1928/1929).
 */
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

export interface ProxySeen {
  /** Absolute-form request targets (`http://host:port/path`). */
  forwarded: string[];
  /** CONNECT authorities (`host:port`). */
  tunnels: string[];
  /** The Proxy-Authorization header of every request and CONNECT (undefined when absent). */
  auth: Array<string | undefined>;
  /** Connections accepted. */
  connections: number;
}

export interface TestProxy {
  url: string;
  port: number;
  seen: ProxySeen;
  close(): Promise<void>;
}

export interface HttpProxyOptions {
  /** Answer every CONNECT with this status, close the socket without a word, or never answer. */
  refuseConnect?: number | 'close' | 'hang';
  /** Require `Proxy-Authorization: Basic base64(user:password)`; 407 otherwise. */
  credentials?: string;
  /** Listen with TLS (an https:// proxy). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export async function startHttpProxy(options: HttpProxyOptions = {}): Promise<TestProxy> {
  const seen: ProxySeen = { forwarded: [], tunnels: [], auth: [], connections: 0 };
  const expected = options.credentials === undefined ? undefined : `Basic ${Buffer.from(options.credentials).toString('base64')}`;
  const allowed = (headers: IncomingHttpHeaders) => {
    const auth = headers['proxy-authorization'];
    seen.auth.push(auth);
    return expected === undefined || auth === expected;
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    seen.forwarded.push(req.url ?? '');
    if (!allowed(req.headers)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };
  const server: Server = options.tls === undefined ? createServer(onRequest) : createHttpsServer(options.tls, onRequest);
  server.on(options.tls === undefined ? 'connection' : 'secureConnection', () => seen.connections++);
  server.on('connect', (req, client: Socket, head: Buffer) => {
    seen.tunnels.push(req.url ?? '');
    client.on('error', () => undefined);
    if (options.refuseConnect === 'close') return void client.destroy();
    if (options.refuseConnect === 'hang') return;
    if (options.refuseConnect !== undefined) return void client.end(`HTTP/1.1 ${options.refuseConnect} Refused\r\nContent-Length: 0\r\n\r\n`);
    if (!allowed(req.headers)) return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
    const at = (req.url ?? '').lastIndexOf(':');
    const upstream = connect(Number((req.url ?? '').slice(at + 1)), (req.url ?? '').slice(0, at).replace(/^\[(.*)\]$/, '$1'), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  return listening(server, options.tls === undefined ? 'http' : 'https', seen);
}

/** A SOCKS5 proxy: no auth, or username/password when `credentials` is `user:password`. */
export async function startSocksProxy(options: { credentials?: string } = {}): Promise<TestProxy> {
  const seen: ProxySeen = { forwarded: [], tunnels: [], auth: [], connections: 0 };
  const server = createTcpServer((client) => {
    seen.connections++;
    client.on('error', () => undefined);
    void socksSession(client, options.credentials, seen).catch(() => client.destroy());
  });
  return listening(server, 'socks5h', seen);
}

async function socksSession(client: Socket, credentials: string | undefined, seen: ProxySeen): Promise<void> {
  const read = reader(client);
  const [, count] = await read(2);
  const methods = [...(await read(count!))];
  const method = credentials === undefined ? 0 : 2;
  if (!methods.includes(method)) return void client.end(Buffer.from([5, 0xff]));
  client.write(Buffer.from([5, method]));
  if (method === 2) {
    const [, userLength] = await read(2);
    const user = (await read(userLength!)).toString();
    const password = (await read((await read(1))[0]!)).toString();
    seen.auth.push(`${user}:${password}`);
    const ok = `${user}:${password}` === credentials;
    client.write(Buffer.from([1, ok ? 0 : 1]));
    if (!ok) return void client.end();
  }
  const [, command, , type] = await read(4);
  let host: string;
  if (type === 1) host = [...(await read(4))].join('.');
  else if (type === 3) host = (await read((await read(1))[0]!)).toString();
  else throw new Error('IPv6 not needed by the tests');
  const port = (await read(2)).readUInt16BE(0);
  seen.tunnels.push(`${host}:${port}`);
  if (command !== 1) return void client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
  const upstream = connect(port, host, () => {
    client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
    const rest = read.rest();
    if (rest.length > 0) upstream.write(rest);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
  client.on('close', () => upstream.destroy());
}

/** Reads exact byte counts from a socket; `rest()` stops and returns what was read beyond. */
function reader(socket: Socket): ((length: number) => Promise<Buffer>) & { rest(): Buffer } {
  let buffer = Buffer.alloc(0);
  let want: { length: number; resolve: (b: Buffer) => void } | undefined;
  const serve = () => {
    if (want !== undefined && buffer.length >= want.length) {
      const { length, resolve } = want;
      want = undefined;
      const out = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      resolve(out);
    }
  };
  const onData = (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    serve();
  };
  socket.on('data', onData);
  const read = (length: number) =>
    new Promise<Buffer>((resolve) => {
      want = { length, resolve };
      serve();
    });
  return Object.assign(read, {
    rest() {
      socket.off('data', onData);
      return buffer;
    },
  });
}

async function listening(server: Server | ReturnType<typeof createTcpServer>, scheme: string, seen: ProxySeen): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    seen,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
