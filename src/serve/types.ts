/** Public shapes of the range server. */
import type { FaultOptions, FaultPlan } from './faults.js';

/** One request as the server saw it, appended when it arrives and updated while it is answered. */
export interface RequestRecord {
  /** 0-based request order. */
  index: number;
  /** 1-based connection (socket) number. */
  connection: number;
  method: string;
  /** The request target as received (percent-encoded, with any query). */
  path: string;
  /** Request headers as received. */
  headers: Record<string, string | string[] | undefined>;
  /**
   * The client's single range, clamped to the file (inclusive end), whether or not it was
   * honoured (`status` tells). Undefined without a Range, or for multiple/unsatisfiable ones.
   */
  range?: { start: number; end: number } | undefined;
  /** Status sent; 0 while the response headers are pending, and when the socket was reset instead. */
  status: number;
  /** Body bytes the socket has taken for this response, updated as they are sent. */
  bytesSent: number;
}

export interface ServeOptions {
  /** A file, or a directory whose regular files are served by name (no path traversal). */
  root: string;
  /** @default 0 (ephemeral) */
  port?: number;
  /** With a directory root, the file that answers `/` (as a web server's index file). @default none: `/` is 404 */
  index?: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default {} (no faults) */
  faults?: FaultOptions;
  /**
   * Per-request override: return a plan that is merged over `faults` for that request.
   * Called once the file is found and `range` is parsed (`status` and `bytesSent` are still 0).
   * Connection-level knobs (pacing, maxConnections) apply to the request they are returned for.
   */
  faultFor?: (req: RequestRecord) => FaultPlan | undefined;
  /** Serve HTTPS with this PEM key and certificate instead of HTTP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface ServerStats {
  /** Body bytes sent over all responses. */
  bytesSent: number;
  /** Connections accepted. */
  connections: number;
  maxConcurrentConnections: number;
  /** Requests turned away by `maxConnections` (503 or reset). */
  refused: number;
}

export interface RangeServer {
  /** `http://host:port/` for a directory, `http://host:port/<basename>` for a single file. */
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: RequestRecord[];
  stats: ServerStats;
  /** Replaces the faults from now on; "first N" / "after N" counters restart. */
  setFaults(faults: FaultOptions): void;
  urlFor(name: string): string;
  /** Closes the server and destroys all open sockets (including stalled ones). */
  close(): Promise<void>;
}
