/**
 * The connect function of every undici Agent segdl creates: undici's own connector, the
 * private-address refusal when asked (judged on the connected socket, after DNS), and a guard
 * for an undici 7 crash. When a response's parser is paused (segdl pauses it for disk and
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

/** `connect` with the paused-parser guard on every socket it hands to undici (also a proxy tunnel's). */
export function guardPausedEnd(connect: BuildConnector.connector): BuildConnector.connector {
  return (connectOptions, callback) =>
    connect(connectOptions, (error, socket) => {
      // Registered before undici attaches its own listeners, so it runs first.
      if (error === null) socket.on('end', () => liftPause(socket as Socket));
      return error === null ? callback(null, socket) : callback(error, null);
    });
}

/**
 * At 'end' every byte the socket received was already handed to the response (a paused parser
 * puts unread bytes back, and 'end' waits for them), so only the pause itself is left: lift it,
 * and undici's own 'end' handler completes the response. (Parser.resume() cannot: it does nothing
 * on a socket that is already ending.)
 */
export function liftPause(socket: Socket): void {
  const parser = (socket as unknown as Record<symbol, PausableParser | undefined>)[kParser];
  if (parser?.paused !== true || parser.ptr === null || socket.readableLength > 0) return;
  parser.llhttp.llhttp_resume(parser.ptr);
  parser.paused = false;
}
