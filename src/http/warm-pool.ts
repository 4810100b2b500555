/**
 * A keep-alive pool that sends a request over a socket that is already open before it reconnects
 * a client whose socket was closed. undici's Pool takes the first client that is not busy, in the
 * order the clients were made, open or not: after a host refused one connection (a 503 with
 * `Connection: close`), that client comes first again, opens a new socket beside the idle ones,
 * and a host that counts connections refuses it again, and again. (undici internals, pinned by
 * package-lock.json; test/embedding/connection-limit.test.ts fails if they change.)
 */
import type { Dispatcher } from 'undici';
import { kClients, kConnected, kGetDispatcher, kNeedDrain, Pool } from './undici-parts.js';

type PoolClient = Dispatcher & Record<symbol, unknown>;

export class WarmFirstPool extends Pool {
  [kGetDispatcher](): Dispatcher | undefined {
    const clients = (this as unknown as Record<symbol, PoolClient[]>)[kClients]!;
    const warm = clients.find((client) => client[kConnected] === true && client[kNeedDrain] !== true);
    if (warm !== undefined) return warm;
    return (Pool.prototype as unknown as Record<symbol, () => Dispatcher | undefined>)[kGetDispatcher]!.call(this);
  }
}

/** The Agent `factory` that makes these pools. */
export function warmFirstPool(origin: string | URL, options: object): Dispatcher {
  return new WarmFirstPool(origin, options as ConstructorParameters<typeof Pool>[1]);
}
