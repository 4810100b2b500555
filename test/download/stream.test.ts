/**
 * Streaming to a Writable (issue 14, point 4): the bytes come out exact and in order over many
 * connections, a reader that stops holds the download (memory stays at the connections'
 * buffers), a reader that goes away ends it with ERR_OUTPUT_CLOSED, and the CLI's `-o -` does the
 * same through a pipe (exit code 4 when the reader closes) and refuses what needs a file.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { download, DownloadError, type Progress } from '../../src/index.js';
import { CLI, runCli } from '../helpers/cli.js';
import { useScratch } from '../helpers/scratch.js';

const MiB = 1024 * 1024;
const scratch = useScratch('segdl-stream-');

/** A Writable that hashes what it gets and can hold its callbacks (a reader that stopped reading). */
class Reader extends Writable {
  readonly hash = createHash('sha256');
  bytes = 0;
  held: Array<() => void> | undefined;
  /** Resolves when a write arrives while the reader holds. */
  #onHeldWrite: (() => void) | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.held === undefined) return callback();
    this.held.push(() => callback());
    this.#onHeldWrite?.();
  }

  holdNextWrites(): Promise<void> {
    this.held = [];
    return new Promise<void>((resolve) => {
      this.#onHeldWrite = resolve;
    });
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const callback of held) callback();
  }
}

describe('a download streamed to a Writable', () => {
  it('arrives exact and in order over 8 connections; nothing is written to disk', async () => {
    const size = 24 * MiB + 321;
    const server = await scratch.server(size, { rateBytesPerSec: 8 * MiB });
    const reader = new Reader();
    const progress: Progress[] = [];
    const result = await download(server.server.url, { output: reader, connections: 8, directReceive: true, onProgress: (p) => progress.push(p), progressIntervalMs: 20 });
    expect(reader.hash.digest('hex')).toBe(server.sha256);
    expect(reader.bytes).toBe(size);
    expect(result.path).toBe('-');
    expect(result.size).toBe(size);
    expect(result.connectionsUsed).toBeGreaterThan(1);
    expect(await readdir(scratch.dir)).toEqual([]);
    // The output's prefix only grows.
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.prefixBytes).toBeGreaterThanOrEqual(progress[i - 1]!.prefixBytes);
  });

  it('a reader that stops reading holds the download: it waits with at most two 1 MiB buffers per connection, then finishes exactly', async () => {
    const size = 48 * MiB;
    const connections = 4;
    const server = await scratch.server(size, { rateBytesPerSec: 16 * MiB });
    const reader = new Reader();
    let latest: Progress | undefined;
    const held = reader.holdNextWrites();
    const stalled = new Promise<Progress>((resolve) => {
      let same = 0;
      const watch = (p: Progress) => {
        // Nothing more reaches the window for 25 progress ticks in a row: the download is held.
        same = latest !== undefined && p.transferredBytes === latest.transferredBytes && reader.held !== undefined ? same + 1 : 0;
        latest = p;
        if (same === 25) resolve(p);
      };
      void held.then(() => (onProgress = watch));
    });
    let onProgress: (p: Progress) => void = (p) => {
      latest = p;
    };
    const running = download(server.server.url, { output: reader, connections, progressIntervalMs: 10, onProgress: (p) => onProgress(p) });
    const atStall = await stalled;
    const written = reader.bytes;
    expect(written).toBeLessThan(size);
    // Held in segdl: what the connections wrote into their buffers beyond what the reader took.
    expect(atStall.transferredBytes - written).toBeLessThanOrEqual(2 * MiB * connections + MiB);
    reader.release();
    const result = await running;
    expect(result.size).toBe(size);
    expect(reader.hash.digest('hex')).toBe(server.sha256);
  });

  it('a reader that goes away ends the download with ERR_OUTPUT_CLOSED, and leaves nothing behind', async () => {
    const server = await scratch.server(32 * MiB, { rateBytesPerSec: 16 * MiB });
    let bytes = 0;
    const closing = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes > 100 * 1024) this.destroy(new Error('reader gone'));
        else callback();
      },
    });
    const error = await download(server.server.url, { output: closing, connections: 4 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as DownloadError).code).toBe('ERR_OUTPUT_CLOSED');
    expect(await readdir(scratch.dir)).toEqual([]);
  });

  it('refuses options that need a file: durability power, a directory', () => {
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    expect(() => download('http://127.0.0.1:1/f', { output: sink, durability: 'power' })).toThrow(/durability/);
    expect(() => download('http://127.0.0.1:1/f', { output: sink, directory: scratch.dir })).toThrow(/directory/);
  });
});

/** Runs the CLI with its stdout piped into this process; `take` bytes, then (if given) closes the pipe. */
function cliToPipe(args: string[], take?: number): Promise<{ code: number | null; stderr: string; sha256: string; bytes: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const hash = createHash('sha256');
    let bytes = 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (take !== undefined && bytes >= take) return;
      hash.update(d);
      bytes += d.length;
      if (take !== undefined && bytes >= take) child.stdout.destroy();
    });
    child.on('close', (code) => resolve({ code, stderr, sha256: hash.digest('hex'), bytes }));
  });
}

describe('segdl URL -o -', () => {
  it('writes the file to stdout, exact, and its summary to stderr', async () => {
    const server = await scratch.server(20 * MiB + 5, { rateBytesPerSec: 8 * MiB });
    const run = await cliToPipe([server.server.url, '-o', '-', '-c', '8']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.sha256).toBe(server.sha256);
    expect(run.stderr).toMatch(/streamed to stdout \(20\.0 MiB\)/);
    expect(await readdir(scratch.dir)).toEqual([]);
  });

  it('a reader that closes early (| head -c 100): exit code 4, one line on stderr, no stack trace', async () => {
    const server = await scratch.server(64 * MiB, { rateBytesPerSec: 16 * MiB });
    const run = await cliToPipe([server.server.url, '-o', '-', '-c', '4', '-q'], 100);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^segdl: ERR_OUTPUT_CLOSED: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['--durability', 'power'], /durability power needs a file/],
    [['--json'], /--json would mix/],
    [['-d', 'somewhere'], /--dir needs a file name/],
  ])('refuses %s with a usage error', async (extra, message) => {
    const run = await runCli(['http://127.0.0.1:1/f', '-o', '-', ...extra], { cwd: scratch.dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/ERR_USAGE/);
    expect(run.stderr).toMatch(message);
  });
});
