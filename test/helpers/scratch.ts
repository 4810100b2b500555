/**
 * Per-test scratch space: a fresh temp directory and the range servers a test starts, all
 * removed after each test. `useScratch` registers the hooks; call it at the top of a file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { startDirServer, startServer, type TestDirServer, type TestServer } from './server.js';

export interface Scratch {
  /** This test's temp directory. */
  readonly dir: string;
  /** `startServer`, closed and removed after the test. */
  server(...args: Parameters<typeof startServer>): Promise<TestServer>;
  /** `startDirServer`, closed and removed after the test. */
  dirServer(...args: Parameters<typeof startDirServer>): Promise<TestDirServer>;
}

export function useScratch(prefix: string): Scratch {
  let dir = '';
  const servers: Array<{ cleanup(): Promise<void> }> = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.cleanup()));
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    async server(...args) {
      const server = await startServer(...args);
      servers.push(server);
      return server;
    },
    async dirServer(...args) {
      const server = await startDirServer(...args);
      servers.push(server);
      return server;
    },
  };
}
