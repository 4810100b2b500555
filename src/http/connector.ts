/**
 * The connect function of every undici Agent segdl creates: undici's own connector, the
 * private-address refusal when asked (judged on the connected socket, after DNS), a parser that
 * skips an unsolicited 100 Continue (see skipContinue), and a guard for an undici 7 crash. When a response's parser is paused (segdl pauses it for disk and
 * bandwidth back-pressure, and while the first response waits to be adopted) and the server
 * closes the connection with nothing left unread, undici's 'end' handler asserts the parser is
 * not paused and throws an uncatchable AssertionError (nodejs/undici#5360, fixed in 8.x only,
 * which needs Node 22). The guard runs first on 'end' and lifts the pause, so undici then finishes
 * the response normally. It reaches into undici's parser (pinned by package-lock.json); the
 * regression test test/protocol/paused-end.test.ts fails if that stops working.
 */
import type { Socket } from 'node:net';
import type { buildConnector as BuildConnector } from 'undici';
import { privatePeerError } from './address-guard.js';
import { buildConnector, kParser } from './undici-parts.js';

export interface ConnectorOptions {
  ca?: string | Buffer | Array<string | Buffer> | undefined;
  blockPrivateAddresses?: boolean;
  /** Longest wait for the TCP (and TLS) handshake, in ms. */
  timeout?: number | undefined;
}

interface PausableParser {
  paused: boolean;
  ptr: number | null;
  llhttp: { llhttp_resume(ptr: number): void };
  statusCode: number;
  headers: unknown[];
  headersSize: number;
  onHeadersComplete(statusCode: number, upgrade: boolean, shouldKeepAlive: boolean): number;
}

function parserOf(socket: Socket): PausableParser | undefined {
  return (socket as unknown as Record<symbol, PausableParser | undefined>)[kParser];
}

/**
 * RFC 9110 §15.2: a client skips any number of 1xx responses. undici passes 102 and 103 on (the
 * transport ignores them) but destroys the socket at a 100 Continue, which a server may send
 * unasked; on this socket's parser a 100 is read as the informational head it is, and the parser
 * goes on to the real answer. (Its `statusCode` is what undici's own 1xx path leaves behind.)
 */
function skipContinue(socket: Socket): void {
  const parser = parserOf(socket);
  if (parser === undefined) return;
  const onHeadersComplete = parser.onHeadersComplete;
  parser.onHeadersComplete = function (this: PausableParser, statusCode, upgrade, shouldKeepAlive) {
    if (statusCode !== 100) return onHeadersComplete.call(this, statusCode, upgrade, shouldKeepAlive);
    this.statusCode = 100;
    this.headers = [];
    this.headersSize = 0;
    return 1; // no body: the next message is the answer
  };
}

export function makeConnector(options: ConnectorOptions): BuildConnector.connector {
  const connect = buildConnector({ ...(options.ca === undefined ? {} : { ca: options.ca }), ...(options.timeout === undefined ? {} : { timeout: options.timeout }) });
  return guardPausedEnd((connectOptions, callback) =>
    connect(connectOptions, (error, socket) => {
      if (error !== null) return callback(error, null);
      const refused = options.blockPrivateAddresses ? privatePeerError(socket, connectOptions.hostname) : undefined;
      if (refused !== undefined) {
        socket.destroy();
        return callback(refused, null);
      }
      return callback(null, socket);
    }),
  );
}

/** `connect` with both parser guards on every socket it hands to undici (also a proxy tunnel's). */
export function guardPausedEnd(connect: BuildConnector.connector): BuildConnector.connector {
  return (connectOptions, callback) =>
    connect(connectOptions, (error, socket) => {
      if (error !== null) return callback(error, null);
      // Registered before undici attaches its own listeners, so it runs first.
      socket.on('end', () => liftPause(socket as Socket));
      callback(null, socket);
      // undici attached its parser to the socket inside that callback.
      skipContinue(socket as Socket);
    });
}

/**
 * At 'end' every byte the socket received was already handed to the response (a paused parser
 * puts unread bytes back, and 'end' waits for them), so only the pause itself is left: lift it,
 * and undici's own 'end' handler completes the response. (Parser.resume() cannot: it does nothing
 * on a socket that is already ending.)
 */
export function liftPause(socket: Socket): void {
  const parser = parserOf(socket);
  if (parser?.paused !== true || parser.ptr === null || socket.readableLength > 0) return;
  parser.llhttp.llhttp_resume(parser.ptr);
  parser.paused = false;
}
