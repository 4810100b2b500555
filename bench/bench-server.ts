/**
 * What a run needs from the server it downloads from: a URL per file and what the server saw
 * during the run (body bytes, requests, distinct connections, 503s). segdl's range server counts
 * live; nginx (nginx.ts) from its access log.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { FaultOptions, RangeServer } from '../src/serve/index.js';

export interface ServerCounts {
  /** Body bytes the server sent. */
  bytesSent: number;
  /** Requests turned away with 503 (maxConnections). */
  refused: number;
  /** Requests logged. */
  requests: number;
  /** Distinct connections those requests came on. */
  connections: number;
}

/** Counting from one moment on (the start of a run). */
export interface Counting {
  /** Body bytes sent since counting began, as far as the server knows now (E kills at half). */
  sentSoFar(): number;
  /** Waits until the server has stopped counting, then gives everything since counting began. */
  settle(): Promise<ServerCounts>;
}

export interface BenchServer {
  urlFor(name: string): string;
  setFaults(faults: FaultOptions): void;
  count(): Counting;
  close(): Promise<void>;
}

/** segdl's own range server, whose counters and request log are live objects in this process. */
export function rangeBenchServer(server: RangeServer): BenchServer {
  return {
    urlFor: (name) => server.urlFor(name),
    setFaults: (faults) => server.setFaults(faults),
    close: () => server.close(),
    count() {
      const from = { bytesSent: server.stats.bytesSent, refused: server.stats.refused, requests: server.requests.length };
      const sentSoFar = (): number => server.stats.bytesSent - from.bytesSent;
      return {
        sentSoFar,
        async settle() {
          await settle(() => server.stats.bytesSent);
          const requests = server.requests.slice(from.requests);
          return {
            bytesSent: sentSoFar(),
            refused: server.stats.refused - from.refused,
            requests: requests.length,
            connections: new Set(requests.map((r) => r.connection)).size,
          };
        },
      };
    },
  };
}

/** Waits until `value` stops changing for 50 ms (a dead client's last socket writes land late). */
export async function settle(value: () => number): Promise<void> {
  let last = -1;
  for (let i = 0; i < 40 && value() !== last; i++) {
    last = value();
    await delay(50);
  }
}
