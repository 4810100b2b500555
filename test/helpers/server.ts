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
  const dir = await mkdtemp(join(tmpdir(), 'segdl-serve-'));
  const file = join(dir, 'data.bin');
  try {
    const sha256 = await writeDataFile(file, size, seed);
    const server = await serve({ root: file, faults, ...extra });
    return {
      server,
      dir,
      file,
      sha256,
      async cleanup() {
        try {
          await server.close();
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
