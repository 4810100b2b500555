/**
 * Keep-alive connections for the direct receive path, one idle list per origin, over TCP or TLS.
 * Each socket reads with Node's `onread` option: into a buffer the current reader hands out (its
 * writer's batch buffer: straight from the kernel, or from the TLS layer's decryption) instead of
 * a fresh 64 KiB allocation per read. That is the whole point of the path: no per-chunk garbage,
 * no copy, no parser pass over the body. A TLS connection is verified as undici verifies its own:
 * the trusted CAs of the transport (`ca`, else Node's), the server name (SNI unless the host is an
 * address) and its certificate's identity; nothing is sent before the handshake completes.
 */
import { connect, isIP, type Socket } from 'node:net';
import { debuglog } from 'node:util';
import { DownloadError } from '../../errors.js';
import { privatePeerError } from '../address-guard.js';
import { lazyBuiltin } from '../../lazy-builtin.js';

/** NODE_DEBUG=segdl shows the direct path's connections and the origins it leaves to undici. */
const debug = debuglog('segdl');

const KEEP_ALIVE_MS = 10_000;
/** Where reads go when nobody wants bytes in place (the head, a seam, a paused writer). */
const SCRATCH_BYTES = 64 * 1024;

/** Whoever owns a connection now: told of every read and of its end. */
export interface ConnectionReader {
  /** The buffer the next read may fill (its length caps the read). */
  nextBuffer(): Uint8Array;
  /** `bytes` were read into the buffer last handed out; false pauses the socket. */
  onRead(bytes: number, buffer: Uint8Array): boolean;
  /** The connection ended or failed (`error` undefined: the peer closed it cleanly). */
  onClose(error: Error | undefined): void;
}

export class DirectConnection {
  readonly socket: Socket;
  readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  #reader: ConnectionReader | undefined;
  #closed = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #onIdleClose: (() => void) | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    const closed = (error: Error | undefined) => {
      if (this.#closed) return;
      this.#closed = true;
      clearTimeout(this.#idleTimer);
      this.#onIdleClose?.();
      const reader = this.#reader;
      this.#reader = undefined;
      reader?.onClose(error);
      socket.destroy();
    };
    socket.on('error', (error) => closed(error));
    socket.on('end', () => closed(undefined));
    socket.on('close', () => closed(undefined));
  }

  get closed(): boolean {
    return this.#closed || this.socket.destroyed;
  }

  /** Hands the connection to a request. */
  claim(reader: ConnectionReader): void {
    clearTimeout(this.#idleTimer);
    this.#onIdleClose = undefined;
    this.#reader = reader;
    this.socket.ref();
    this.socket.resume();
  }

  /** The request is done with it. */
  unclaim(): void {
    this.#reader = undefined;
  }

  nextBuffer(): Uint8Array {
    return this.#reader?.nextBuffer() ?? this.scratch;
  }

  onRead(bytes: number, buffer: Uint8Array): boolean {
    const reader = this.#reader;
    // Bytes nobody asked for (after a response ended): the connection is out of step, drop it.
    if (reader === undefined) {
      this.socket.destroy();
      return false;
    }
    return reader.onRead(bytes, buffer);
  }

  /** Parks the connection for the next request to this origin; `gone` runs if it closes meanwhile. */
  park(gone: () => void): void {
    this.#reader = undefined;
    this.#onIdleClose = gone;
    this.socket.unref();
    this.#idleTimer = setTimeout(() => this.socket.destroy(), KEEP_ALIVE_MS);
    this.#idleTimer.unref();
  }
}

export interface DirectConnectOptions {
  blockPrivateAddresses: boolean;
  connectTimeoutMs: number;
  /** The CAs an https connection trusts (undefined: Node's default store), as for undici's connector. */
  ca?: string | Buffer | Array<string | Buffer> | undefined;
}

/** One process-wide set of idle connections per transport configuration, keyed by origin. */
export class DirectPool {
  readonly #options: DirectConnectOptions;
  readonly #idle = new Map<string, DirectConnection[]>();
  /** Origins whose answers the direct path could not take (redirects, chunked bodies): undici only. */
  readonly #declined = new Set<string>();

  constructor(options: DirectConnectOptions) {
    this.#options = options;
  }

  declines(origin: string): boolean {
    return this.#declined.has(origin);
  }

  decline(origin: string): void {
    debug('direct receive: %s answered what only undici takes; undici serves it from now on', origin);
    this.#declined.add(origin);
  }

  /** An idle connection to `url`'s origin, if one is parked and still open. */
  reuse(url: URL): DirectConnection | undefined {
    const list = this.#idle.get(url.origin);
    while (list !== undefined && list.length > 0) {
      const connection = list.pop()!;
      if (!connection.closed) return connection;
    }
    return undefined;
  }

  /** A fresh connection, once it is connected (and allowed: the private-address guard). */
  async open(url: URL, signal: AbortSignal): Promise<DirectConnection> {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const tls = url.protocol === 'https:';
    const port = Number(url.port || (tls ? 443 : 80));
    // Loaded on the first https connection only: a plain-http run never pays for node:tls.
    const connectTls = tls ? (await lazyBuiltin('node:tls')).connect : undefined;
    signal.throwIfAborted();
    return new Promise<DirectConnection>((resolve, reject) => {
      // The connection object exists before the socket: the socket's onread option calls into it.
      let connection: DirectConnection | undefined;
      const onread = { buffer: () => connection?.nextBuffer() ?? Buffer.allocUnsafe(SCRATCH_BYTES), callback: (bytes: number, buffer: Uint8Array) => connection!.onRead(bytes, buffer) };
      const socket: Socket = connectTls
        ? connectTls({
            host,
            port,
            // tls.connect takes onread since Node 15 (nodejs/node#35753); @types/node does not list it.
            ...({ onread } as object),
            ...(isIP(host) === 0 ? { servername: host } : {}),
            ...(this.#options.ca === undefined ? {} : { ca: this.#options.ca }),
            ALPNProtocols: ['http/1.1'],
          })
        : connect({ host, port, noDelay: true, onread });
      if (tls) socket.setNoDelay(true);
      connection = new DirectConnection(socket);
      const fail = (error: Error) => {
        cleanup();
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new DownloadError('ERR_NETWORK', `network error: connect timeout after ${this.#options.connectTimeoutMs} ms`, { url: url.href })),
        this.#options.connectTimeoutMs,
      );
      const onAbort = () => fail(signal.reason as Error);
      const onError = (error: Error) => fail(error);
      const cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', onError);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        cleanup();
        const refused = this.#options.blockPrivateAddresses ? privatePeerError(socket, url.hostname) : undefined;
        if (refused !== undefined) return fail(refused);
        debug('direct receive: new connection to %s', url.host);
        resolve(connection!);
      });
    });
  }

  /** A connection whose response ended exactly at its end goes back to the idle list. */
  park(url: URL, connection: DirectConnection): void {
    const list = this.#idle.get(url.origin) ?? [];
    this.#idle.set(url.origin, list);
    list.push(connection);
    connection.park(() => {
      const at = list.indexOf(connection);
      if (at >= 0) list.splice(at, 1);
    });
  }
}
