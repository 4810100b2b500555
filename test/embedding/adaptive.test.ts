import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../fixtures/data.js';
import { download } from '../../src/index.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-adapt-');

const MiB = 1024 * 1024;

describe('adaptive connection count', () => {
  it('grows to the maximum while each step raises throughput (every connection capped)', async () => {
    const server = await scratch.server(24 * MiB, { rateBytesPerSec: 1 * MiB });
    const result = await download(server.server.url, { output: join(scratch.dir, 'f'), connections: 16, adaptiveConnections: true });
    expect(result.connectionsUsed).toBe(16);
    expect(server.server.stats.maxConcurrentConnections).toBeGreaterThanOrEqual(16);
    expect(await sha256File(join(scratch.dir, 'f'))).toBe(server.sha256);
  });

  it('stops growing when a step adds nothing (the server is saturated as a whole)', async () => {
    const server = await scratch.server(6 * MiB, { totalRateBytesPerSec: 4 * MiB });
    const result = await download(server.server.url, { output: join(scratch.dir, 'f'), connections: 16, adaptiveConnections: true });
    // Start at 2, one step to 4 that does not pay, and no further.
    expect(result.connectionsUsed).toBeLessThanOrEqual(4);
    expect(server.server.stats.maxConcurrentConnections).toBeLessThanOrEqual(5); // + the probe's kept-alive socket
    expect(await sha256File(join(scratch.dir, 'f'))).toBe(server.sha256);
  });

  it('without the option, the same saturated server gets every connection asked for', async () => {
    const server = await scratch.server(6 * MiB, { totalRateBytesPerSec: 4 * MiB });
    const result = await download(server.server.url, { output: join(scratch.dir, 'f'), connections: 16 });
    expect(result.connectionsUsed).toBe(16);
  });
});
