/**
 * An undici `connect` function that reaches the target through a proxy tunnel: HTTP CONNECT
 * (over http:// or https:// to the proxy) or SOCKS5, then TLS to the target for https URLs.
 *
 * Why not undici's ProxyAgent: in undici 7 a proxy that refuses or drops the CONNECT makes it
 * reconnect in a tight loop at 100 % CPU (nodejs/undici#3897, fixed only in 8.x, which needs
 * Node 22). undici retries a connect failure only when its code says "socket error"; every
 * failure here is a DownloadError ERR_PROXY instead, so the request fails once, and the whole
 * handshake (TCP, CONNECT reply, SOCKS exchange) is bounded by the connect timeout.
 */
import type { Socket } from 'node:net';
import type { buildConnector as BuildConnector } from 'undici';
import { DownloadError } from '../errors.js';
import { proxyDisplay } from './proxy.js';
import { SocketReader } from './socket-reader.js';
import { buildConnector } from './undici-parts.js';


export interface TunnelOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  /** Budget for the whole handshake, proxy connection to the target's TLS. */
  timeout: number;
}

/** The target of a tunnel. */
export interface TunnelTarget {
  hostname: string;
  port: number;
}

/** Opens the tunnel on a socket already connected to the proxy; resolves with the same socket, ready for the target's bytes. */
export type Handshake = (reader: SocketReader, socket: Socket, target: TunnelTarget, proxy: URL) => Promise<void>;

export function tunnelConnector(proxy: URL, options: TunnelOptions, handshake: Handshake): BuildConnector.connector {
  const tls = options.ca === undefined ? {} : { ca: options.ca };
  const toProxy = buildConnector({ ...tls, timeout: options.timeout });
  const toTarget = buildConnector({ ...tls, timeout: options.timeout });
  const shown = proxyDisplay(proxy);
  const defaultPort = proxy.protocol === 'https:' ? 443 : proxy.protocol === 'http:' ? 80 : 1080;
  return (opts, callback) => {
    const target: TunnelTarget = { hostname: opts.hostname, port: Number(opts.port || (opts.protocol === 'https:' ? 443 : 80)) };
    let settled = false;
    let proxySocket: Socket | undefined;
    const finish = (error: Error | null, socket: Socket | null) => {
      if (settled) {
        socket?.destroy();
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (error !== null) {
        proxySocket?.destroy();
        callback(error, null);
      } else {
        callback(null, socket!);
      }
    };
    const timer = setTimeout(() => finish(proxyError(`proxy ${shown} did not open a tunnel to ${authority(target)} within ${options.timeout} ms`), null), options.timeout);
    proxySocket = toProxy({ hostname: proxy.hostname.replace(/^\[(.*)\]$/, '$1'), host: proxy.host, protocol: proxy.protocol === 'https:' ? 'https:' : 'http:', port: String(proxy.port || defaultPort) }, (error, socket) => {
      if (error !== null) return finish(proxyError(`cannot connect to proxy ${shown}: ${describe(error)}`, error), null);
      const reader = new SocketReader(socket as Socket, () => proxyError(`proxy ${shown} closed the connection while opening a tunnel to ${authority(target)}`));
      handshake(reader, socket as Socket, target, proxy).then(
        () => {
          const tunnel = reader.release();
          if (opts.protocol !== 'https:') return finish(null, tunnel);
          // TLS to the target inside the tunnel; its certificate errors stay ERR_TLS.
          toTarget({ ...opts, httpSocket: tunnel }, (tlsError, tlsSocket) => finish(tlsError, tlsSocket as Socket | null));
        },
        (handshakeError: unknown) => finish(asProxyError(handshakeError, shown), null),
      );
    }) as unknown as Socket;
  };
}

/** A plain connection to a forward proxy (absolute-form requests), its failures reported as ERR_PROXY. */
export function forwardConnector(proxy: URL, options: TunnelOptions): BuildConnector.connector {
  const connect = buildConnector({ ...(options.ca === undefined ? {} : { ca: options.ca }), timeout: options.timeout });
  return (opts, callback) =>
    connect(opts, (error, socket) => {
      if (error === null) return callback(null, socket);
      return callback(proxyError(`cannot connect to proxy ${proxyDisplay(proxy)}: ${describe(error)}`, error), null);
    });
}

/** HTTP CONNECT (RFC 9110 §9.3.6), with Basic credentials from the proxy URL. */
export const httpConnect: Handshake = async (reader, socket, target, proxy) => {
  const hostPort = authority(target);
  const auth = proxyAuthorization(proxy);
  socket.write(`CONNECT ${hostPort} HTTP/1.1\r\nHost: ${hostPort}\r\n${auth === undefined ? '' : `Proxy-Authorization: ${auth}\r\n`}\r\n`);
  const head = (await reader.readHead(16 * 1024, () => proxyError(`proxy ${proxyDisplay(proxy)} sent an over-long reply to CONNECT`))).toString('latin1');
  const status = /^HTTP\/1\.[01] (\d{3})([^\r\n]*)/.exec(head);
  if (status === null) throw proxyError(`proxy ${proxyDisplay(proxy)} sent a malformed reply to CONNECT: ${JSON.stringify(head.slice(0, 40))}`);
  const code = Number(status[1]);
  if (code < 200 || code > 299) {
    const why = code === 407 ? ' (proxy authentication required)' : '';
    throw proxyError(`proxy ${proxyDisplay(proxy)} refused CONNECT to ${hostPort}: ${code}${status[2]!.trimEnd()}${why}`, undefined, code);
  }
};

/** `Basic ...` for a proxy URL with credentials. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
}

export function proxyError(message: string, cause?: unknown, status?: number): DownloadError {
  return new DownloadError('ERR_PROXY', message, { cause, status });
}

function asProxyError(error: unknown, shown: string): DownloadError {
  if (error instanceof DownloadError) return error;
  return proxyError(`proxy ${shown} failed while opening a tunnel: ${describe(error)}`, error);
}

function authority(target: TunnelTarget): string {
  return `${target.hostname.includes(':') ? `[${target.hostname}]` : target.hostname}:${target.port}`;
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}
