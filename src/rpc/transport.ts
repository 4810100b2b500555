/**
 * aria2's RPC transports: `POST /jsonrpc`, `GET /jsonrpc?method=&id=&params=<base64 JSON>` and a
 * WebSocket at `/jsonrpc` (requests answered on the socket, notifications pushed to every socket).
 * Bounded everywhere: body size, calls per request, messages in flight per socket, sockets open,
 * bytes queued for a slow reader. A request that comes from a web page (it carries an `Origin`, or
 * a `Sec-Fetch-Site` other than `none`) is refused unless its origin was allowed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { INVALID_REQUEST, PARSE_ERROR } from './rpc-error.js';
import type { RpcResponse } from './jsonrpc.js';

export interface TransportOptions {
  host: string;
  port: number;
  /** Origins whose pages may call (CORS and WebSocket); 'all' for aria2's --rpc-allow-origin-all. */
  allowOrigins: readonly string[] | 'all';
  /** @default 2 MiB */
  maxBodyBytes?: number;
  /** @default 64 */
  maxWebSockets?: number;
}

export type Dispatch = (request: { text: string } | { parsed: unknown }) => Promise<RpcResponse | RpcResponse[]>;

export interface RpcTransport {
  readonly port: number;
  readonly url: string;
  /** Sends a notification to every open WebSocket. */
  broadcast(message: object): void;
  close(): Promise<void>;
}

const PATH = '/jsonrpc';
/** Messages one WebSocket may have waiting for an answer; more close it (policy violation). */
const MAX_IN_FLIGHT = 64;
/** A WebSocket that lets this much pile up unread is cut rather than grow the daemon's memory. */
const MAX_BUFFERED = 8 * 1024 * 1024;
/** readBody's refusal, told apart from a client that went away. */
const TOO_LARGE = Symbol('too large');

function json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json-rpc', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

/** HTTP status as aria2 sends it: 400 for a single request that failed, 200 otherwise. */
function statusFor(answer: RpcResponse | RpcResponse[]): number {
  return !Array.isArray(answer) && answer.error !== undefined ? 400 : 200;
}

export async function listenRpc(dispatch: Dispatch, options: TransportOptions): Promise<RpcTransport> {
  const maxBody = options.maxBodyBytes ?? 2 * 1024 * 1024;
  const maxSockets = options.maxWebSockets ?? 64;
  const allowed = (origin: string | undefined) => options.allowOrigins === 'all' || (origin !== undefined && options.allowOrigins.includes(origin));
  const fromPage = (req: IncomingMessage) => {
    const site = req.headers['sec-fetch-site'];
    return req.headers.origin !== undefined || (site !== undefined && site !== 'none');
  };
  const cors = (req: IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    return origin !== undefined && allowed(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://daemon');
    if (url.pathname !== PATH) return void res.writeHead(404, { 'content-length': 0 }).end();
    if (fromPage(req) && !allowed(req.headers.origin)) {
      return void json(res, 403, { id: null, jsonrpc: '2.0', error: { code: INVALID_REQUEST, message: 'Origin not allowed (see --rpc-allow-origin)' } });
    }
    if (req.method === 'OPTIONS') {
      const asked = req.headers['access-control-request-headers'];
      return void res
        .writeHead(200, {
          ...cors(req),
          'access-control-allow-methods': 'POST, GET, OPTIONS',
          'access-control-allow-headers': typeof asked === 'string' && /^[\w\-, ]*$/.test(asked) ? asked : 'Content-Type',
          'access-control-max-age': '1728000',
          'content-length': 0,
        })
        .end();
    }
    const answer = (reply: RpcResponse | RpcResponse[]) => {
      if (!res.destroyed) json(res, statusFor(reply), reply, cors(req));
    };
    if (req.method === 'GET') {
      void dispatch(getRequest(url)).then(answer);
      return;
    }
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST, GET, OPTIONS', 'content-length': 0 }).end();
    readBody(req, maxBody).then(
      (text) => dispatch({ text }).then(answer),
      (error: unknown) => {
        if (error !== TOO_LARGE) return void req.socket.destroy(); // the client went away mid-body
        json(res, 413, { id: null, jsonrpc: '2.0', error: { code: INVALID_REQUEST, message: `Request too large: the limit is ${maxBody} bytes` } }, { connection: 'close' });
        res.once('finish', () => req.socket.destroy());
      },
    );
  };

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, onRequest);
  server.maxConnections = 256;
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBody, perMessageDeflate: false });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (new URL(req.url ?? '/', 'http://daemon').pathname !== PATH) return refuse('404 Not Found');
    if (fromPage(req) && !allowed(req.headers.origin)) return refuse('403 Forbidden');
    if (wss.clients.size >= maxSockets) return refuse('503 Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, dispatch));
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    port,
    url: `http://${host}:${port}${PATH}`,
    broadcast(message) {
      const text = JSON.stringify(message);
      for (const ws of wss.clients) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        if (ws.bufferedAmount > MAX_BUFFERED) ws.terminate();
        else ws.send(text, () => undefined);
      }
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** One socket's messages, answered in order, at most MAX_IN_FLIGHT waiting. */
function serveSocket(ws: WebSocket, dispatch: Dispatch): void {
  let chain: Promise<void> = Promise.resolve();
  let waiting = 0;
  ws.on('error', () => undefined); // a client vanishing mid-call is not the daemon's problem
  ws.on('message', (data, isBinary) => {
    if (++waiting > MAX_IN_FLIGHT) return void ws.close(1008, 'too many requests in flight');
    chain = chain.then(async () => {
      const reply = isBinary ? { id: null, jsonrpc: '2.0' as const, error: { code: PARSE_ERROR, message: 'Parse error.' } } : await dispatch({ text: data.toString() });
      waiting--;
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(reply), () => undefined);
    });
  });
}

/** aria2's GET form: `method`, `id` and `params` (base64 of a JSON array); without `method`, `params` is a batch. */
function getRequest(url: URL): Parameters<Dispatch>[0] {
  const method = url.searchParams.get('method');
  const encoded = url.searchParams.get('params');
  const text = encoded === null ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
  if (method === null) return { text: text ?? '{}' };
  let params: unknown;
  try {
    params = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return { text: text ?? '' }; // answered with aria2's parse error
  }
  return { parsed: { method, id: url.searchParams.get('id'), ...(params === undefined ? {} : { params }) } };
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(TOO_LARGE);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
