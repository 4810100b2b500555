/**
 * A range server over a freshly generated data file, for any test that needs a remote.
 * The file's bytes are `dataRange(seed, start, length)`, so tests can check any slice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type Dispatcher } from 'undici';
import { writeDataFile } from '../../fixtures/data.js';
import { serve, type FaultOptions, type RangeServer, type ServeOptions } from '../../src/serve/index.js';

export interface TestServer {
  server: RangeServer;
  /** Temp directory holding `file`; removed by `cleanup()`. */
  dir: string;
  /** The served file; `server.url` points at it. */
  file: string;
  sha256: string;
  /** Closes the server (destroying open sockets) and removes `dir`. */
  cleanup(): Promise<void>;
}

/** Serves `size` bytes of the data stream `seed` on 127.0.0.1 at an ephemeral port. */
export async function startServer(
  size: number,
  faults: FaultOptions = {},
  seed = 'segdl',
  extra: Pick<ServeOptions, 'faultFor' | 'tls'> = {},
): Promise<TestServer> {
  return serveTemp(async (dir) => {
    const file = join(dir, 'data.bin');
    const sha256 = await writeDataFile(file, size, seed);
    return { server: await serve({ root: file, faults, ...extra }), file, sha256 };
  });
}

export interface TestDirServer {
  server: RangeServer;
  dir: string;
  /** sha256 of each served file, by name. */
  sha256: Record<string, string>;
  cleanup(): Promise<void>;
}

/** Serves a directory of files (`name → size`), each the data stream seeded with its name. */
export async function startDirServer(files: Record<string, number>, faults: FaultOptions = {}, extra: Pick<ServeOptions, 'faultFor' | 'tls'> = {}): Promise<TestDirServer> {
  return serveTemp(async (dir) => {
    const sha256: Record<string, string> = {};
    for (const [name, size] of Object.entries(files)) sha256[name] = await writeDataFile(join(dir, name), size, name);
    return { server: await serve({ root: dir, faults, ...extra }), sha256 };
  });
}

/** A server over files in a fresh temp directory; `cleanup()` closes it and removes the directory (also on a failed start). */
async function serveTemp<T extends { server: RangeServer }>(start: (dir: string) => Promise<T>): Promise<T & { dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'segdl-serve-'));
  try {
    const started = await start(dir);
    return {
      ...started,
      dir,
      async cleanup() {
        try {
          await started.server.close();
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface Fetched {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with undici, body fully read. Pass a `Client` as dispatcher to pin a connection. */
export async function fetchBytes(
  url: string,
  options: { method?: 'GET' | 'HEAD'; headers?: Record<string, string>; dispatcher?: Dispatcher } = {},
): Promise<Fetched> {
  const { statusCode, headers, body } = await request(url, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  return { status: statusCode, headers, body: Buffer.from(await body.arrayBuffer()) };
}
