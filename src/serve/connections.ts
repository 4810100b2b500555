/**
 * TCP connection bookkeeping: 1-based numbering in accept order, the open set (for
 * concurrency limits and for close() to destroy stalled sockets), and a pacing bucket each.
 */
import type { Socket } from 'node:net';
import { TokenBucket } from './throttle.js';

export interface Connection {
  /** 1-based, in accept order. */
  readonly number: number;
  readonly socket: Socket;
  readonly bucket: TokenBucket;
}

export class ConnectionTracker {
  #accepted = 0;
  #maxConcurrent = 0;
  readonly #open = new Map<Socket, Connection>();

  /** Registers a socket from the server's 'connection' event. */
  add(socket: Socket): Connection {
    const connection: Connection = { number: ++this.#accepted, socket, bucket: new TokenBucket() };
    this.#open.set(socket, connection);
    this.#maxConcurrent = Math.max(this.#maxConcurrent, this.#open.size);
    socket.once('close', () => this.#open.delete(socket));
    return connection;
  }

  get(socket: Socket): Connection | undefined {
    return this.#open.get(socket);
  }

  get accepted(): number {
    return this.#accepted;
  }

  get maxConcurrent(): number {
    return this.#maxConcurrent;
  }

  /**
   * 1-based position of a connection among the currently open ones, oldest first. A limit of
   * N admits ranks 1..N, so when an older connection closes a newer one moves into the limit
   * (as a per-client connection limit in front of a real server behaves).
   */
  rankOf(connection: Connection): number {
    let rank = 0;
    for (const other of this.#open.values()) {
      if (other.number <= connection.number) rank++;
    }
    return rank;
  }

  destroyAll(): void {
    for (const socket of this.#open.keys()) socket.destroy();
  }
}
