/**
 * Reads a proxy's handshake replies off a raw socket: exact byte counts (SOCKS5) or a header
 * block (HTTP CONNECT). What arrives after the reply is handed back to the socket untouched,
 * so the tunnelled protocol starts at its first byte.
 */
import type { Socket } from 'node:net';

export class SocketReader {
  readonly #socket: Socket;
  readonly #closed: () => Error;
  #buffer: Buffer = Buffer.alloc(0);
  #failure: Error | undefined;
  #waiter: { take: (buffer: Buffer) => number; resolve: (bytes: Buffer) => void; reject: (error: Error) => void } | undefined;
  readonly #onData = (chunk: Buffer) => {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    this.#serve();
  };
  readonly #onEnd = () => this.#fail(this.#closed());
  readonly #onError = (error: Error) => this.#fail(error);

  /** `closed` makes the error for a socket that ends before the reply does. */
  constructor(socket: Socket, closed: () => Error) {
    this.#socket = socket;
    this.#closed = closed;
    socket.on('data', this.#onData).on('end', this.#onEnd).on('close', this.#onEnd).on('error', this.#onError);
  }

  /** Exactly `length` bytes. */
  read(length: number): Promise<Buffer> {
    return this.#take((buffer) => (buffer.length >= length ? length : -1));
  }

  /** Everything up to and including the blank line ending an HTTP header block (at most `limit` bytes). */
  readHead(limit: number, tooLong: () => Error): Promise<Buffer> {
    return this.#take((buffer) => {
      const end = buffer.indexOf('\r\n\r\n');
      if (end >= 0) return end + 4;
      if (buffer.length > limit) throw tooLong();
      return -1;
    });
  }

  /** Stops reading and gives any bytes read past the reply back to the socket. */
  release(): Socket {
    this.#socket.pause();
    this.#socket.off('data', this.#onData).off('end', this.#onEnd).off('close', this.#onEnd).off('error', this.#onError);
    if (this.#buffer.length > 0) this.#socket.unshift(this.#buffer);
    this.#buffer = Buffer.alloc(0);
    return this.#socket;
  }

  #take(take: (buffer: Buffer) => number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#waiter = { take, resolve, reject };
      this.#serve();
    });
  }

  #serve(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    if (this.#failure !== undefined) {
      this.#waiter = undefined;
      waiter.reject(this.#failure);
      return;
    }
    let length: number;
    try {
      length = waiter.take(this.#buffer);
    } catch (error) {
      this.#waiter = undefined;
      waiter.reject(error as Error);
      return;
    }
    if (length < 0) return;
    this.#waiter = undefined;
    const bytes = this.#buffer.subarray(0, length);
    this.#buffer = this.#buffer.subarray(length);
    waiter.resolve(bytes);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#serve();
  }
}
