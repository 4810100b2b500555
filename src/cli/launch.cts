#!/usr/bin/env node
/**
 * The `segdl` executable. It runs the CLI's single-file bundle (dist/bin/segdl.cjs, made by the
 * build with esbuild) from V8's code cache, so a start reads one file and compiles next to
 * nothing: Node 20 has no module compile cache of its own (that came in 22.8). Without the bundle
 * (a plain `tsc` build) it falls back to the unbundled ESM entry.
 *
 * `--make-code-cache` is the build's last step: it runs one real download of a few bytes from a
 * loopback server of its own, so the cache holds the code a download runs, then writes it.
 */
import fs = require('node:fs');
import path = require('node:path');
import url = require('node:url');
import vm = require('node:vm');
import Module = require('node:module');
import v8 = require('node:v8');

const bundle = path.join(__dirname, '..', '..', 'bin', 'segdl.cjs');
const cacheFile = `${bundle}.cache`;

/**
 * V8 compiles hot wasm (undici's parser, xxhash) again, optimised, in the background, and a process
 * waits for those compiles at exit: ~60-90 ms after a small file is already saved. Only code that
 * has run through tens of MB (a big download, where it pays) is optimised. Set before the bundle is
 * compiled: V8 accepts a code cache only under the flags it was made with.
 */
const WASM_TIERING = '--wasm-tiering-budget=50000000';
v8.setFlagsFromString(WASM_TIERING);

function runBundle(makeCache: boolean): boolean {
  let source: string;
  try {
    source = fs.readFileSync(bundle, 'utf8');
  } catch {
    return false;
  }
  let cachedData: Buffer | undefined;
  try {
    if (!makeCache) cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache yet: compile as usual
  }
  const wrapped = Module.wrap(source.replace(/^#!.*\n/, ''));
  const script = new vm.Script(wrapped, { filename: bundle, ...(cachedData === undefined ? {} : { cachedData }) });
  if (process.env['SEGDL_DEBUG_CODE_CACHE'] !== undefined) process.stderr.write(`segdl: code cache ${cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used'}\n`);
  if (makeCache) process.once('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()));
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  const bundleModule = { exports: {} };
  run(bundleModule.exports, Module.createRequire(bundle), bundleModule, bundle, path.dirname(bundle));
  return true;
}

/** A one-request range server on loopback and a download from it, in this process, to warm the cache. */
function makeCodeCache(): void {
  // Only the build gets here: a download's start never loads these.
  const http = require('node:http') as typeof import('node:http');
  const os = require('node:os') as typeof import('node:os');
  const body = Buffer.alloc(64 * 1024, 7);
  const server = http.createServer((req, res) => {
    const match = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range));
    const start = Number(match?.[1] ?? 0);
    const end = Math.min(body.length - 1, Number(match?.[2] ?? body.length - 1));
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1, 'accept-ranges': 'bytes', etag: '"warm"' });
    res.end(body.subarray(start, end + 1));
  });
  server.listen(0, '127.0.0.1', () => {
    server.unref();
    const { port } = server.address() as { port: number };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'segdl-cache-'));
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    process.argv = [process.argv[0]!, bundle, `http://127.0.0.1:${port}/warm.bin`, '-o', path.join(dir, 'warm.bin'), '-q'];
    if (!runBundle(true)) throw new Error(`${bundle} is missing: build the bundle first`);
  });
}

if (process.argv[2] === '--make-code-cache') {
  makeCodeCache();
} else if (!runBundle(false)) {
  void import(url.pathToFileURL(path.join(__dirname, 'main.js')).href);
}
