/**
 * The RPC surface by name: protocol errors, limits, secrets, origins, paths. The daemon runs in
 * this process (startDaemon) on 127.0.0.1:0; requests are real HTTP and WebSocket traffic.
 */
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import Aria2 from 'aria2';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startDaemon, type RunningDaemon } from '../../src/rpc/daemon.js';
import { listenRpc } from '../../src/rpc/transport.js';
import { runCli } from '../helpers/cli.js';
import { startDaemon as spawnDaemon, until } from '../helpers/daemon.js';
import { useScratch } from '../helpers/scratch.js';

const scratch = useScratch('segdl-rpc-hardening-');
const MiB = 1024 * 1024;
const running: RunningDaemon[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.close()));
});

async function daemon(options: { secret?: string; allowOrigins?: string[]; roots?: string[]; global?: Record<string, string> } = {}): Promise<RunningDaemon> {
  const d = await startDaemon({ port: 0, roots: options.roots ?? [join(scratch.dir, 'dl')], version: 'test', ...options });
  running.push(d);
  return d;
}

async function post(d: RunningDaemon, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(d.url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

const rpc = (method: string, params: unknown[] = [], id: unknown = 'q') => JSON.stringify({ jsonrpc: '2.0', id, method, params });

describe('JSON-RPC protocol', () => {
  it('malformed JSON gets a parse error (-32700), and the daemon keeps answering', async () => {
    const d = await daemon();
    const bad = await post(d, '{"jsonrpc": "2.0", "method": ');
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ id: null, jsonrpc: '2.0', error: { code: -32700, message: 'Parse error.' } });
    expect((await post(d, rpc('aria2.getVersion'))).json.result.version).toBe('test');
  });

  it('not a request object, or params that are not a list: invalid request (-32600)', async () => {
    const d = await daemon();
    expect((await post(d, '5')).json.error.code).toBe(-32600);
    expect((await post(d, JSON.stringify({ id: 1, method: 'aria2.getVersion', params: { a: 1 } }))).json).toMatchObject({ id: 1, error: { code: -32600 } });
    expect((await post(d, '[]')).json).toEqual([]);
  });

  it('an oversized body is refused with 413 and a JSON-RPC error, without reading it all', async () => {
    const d = await daemon();
    const huge = rpc('aria2.addUri', [['http://127.0.0.1:9/' + 'a'.repeat(3 * MiB)]]);
    const res = await post(d, huge);
    expect(res.status).toBe(413);
    expect(res.json.error).toEqual({ code: -32600, message: 'Request too large: the limit is 2097152 bytes' });
    expect((await post(d, rpc('aria2.tellActive'))).json.result).toEqual([]);
  });

  it('an unknown method gets aria2\'s "No such method" error', async () => {
    const d = await daemon();
    expect((await post(d, rpc('aria2.nope'))).json).toEqual({ id: 'q', jsonrpc: '2.0', error: { code: 1, message: 'No such method: aria2.nope' } });
    expect((await post(d, rpc('constructor'))).json.error.message).toBe('No such method: constructor');
  });

  it('addTorrent, addMetalink and getPeers are refused with a JSON-RPC error that says why', async () => {
    const d = await daemon();
    for (const method of ['aria2.addTorrent', 'aria2.addMetalink', 'aria2.getPeers']) {
      const { json } = await post(d, rpc(method, ['AAAA']));
      expect(json.error.code).toBe(1);
      expect(json.error.message).toMatch(/HTTP\(S\) only/);
    }
    expect((await post(d, rpc('system.listMethods'))).json.result).not.toContain('aria2.addTorrent');
  });

  it('a batch is answered in order; the GET form takes base64 params', async () => {
    const d = await daemon();
    const batch = await post(d, JSON.stringify([JSON.parse(rpc('aria2.getVersion', [], 1)), JSON.parse(rpc('aria2.nope', [], 2))]));
    expect(batch.json.map((r: { id: number }) => r.id)).toEqual([1, 2]);
    expect(batch.json[1].error.message).toBe('No such method: aria2.nope');
    const params = Buffer.from(JSON.stringify([0, 5])).toString('base64');
    const res = await fetch(`${d.url}?method=aria2.tellWaiting&id=g1&params=${encodeURIComponent(params)}`);
    expect(await res.json()).toEqual({ id: 'g1', jsonrpc: '2.0', result: [] });
  });

  it('a client that disconnects mid-call does not disturb the daemon', async () => {
    const d = await daemon();
    const socket = connect(d.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const body = rpc('aria2.getGlobalStat');
    socket.write(`POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 100}\r\n\r\n${body}`);
    socket.destroy();
    expect((await post(d, rpc('aria2.getGlobalStat'))).json.result.numActive).toBe('0');
  });
});

describe('secret', () => {
  it('a wrong or missing token gets Unauthorized; listMethods and listNotifications need none', async () => {
    const d = await daemon({ secret: 'right-secret' });
    expect((await post(d, rpc('aria2.getVersion', ['token:wrong']))).json.error).toEqual({ code: 1, message: 'Unauthorized' });
    expect((await post(d, rpc('aria2.getVersion'))).json.error).toEqual({ code: 1, message: 'Unauthorized' });
    expect((await post(d, rpc('aria2.getVersion', ['token:right-secret']))).json.result.version).toBe('test');
    expect((await post(d, rpc('system.listNotifications'))).json.result).toContain('aria2.onDownloadComplete');
  });

  it('system.multicall checks the token of each call on its own, and refuses to nest', async () => {
    const d = await daemon({ secret: 'right-secret' });
    const calls = [
      { methodName: 'aria2.getGlobalStat', params: ['token:right-secret'] },
      { methodName: 'aria2.getGlobalStat', params: ['token:wrong'] },
      { methodName: 'aria2.getGlobalStat' },
      { methodName: 'system.multicall', params: [[]] },
    ];
    const { json } = await post(d, rpc('system.multicall', [calls]));
    expect(json.result[0]).toEqual([expect.objectContaining({ numActive: '0' })]);
    expect(json.result.slice(1)).toEqual([
      { code: 1, message: 'Unauthorized' },
      { code: 1, message: 'Unauthorized' },
      { code: 1, message: 'Recursive system.multicall forbidden.' },
    ]);
  });

  it('listening beyond loopback without a secret is refused (exit 2, one line)', async () => {
    const { code, stderr } = await runCli(['daemon', '--rpc-listen-all', '--rpc-listen-port', '0', '-d', scratch.dir], { env: { SEGDL_RPC_SECRET: '' } });
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('segdl: ERR_INVALID_OPTION: listening beyond loopback (--rpc-listen-all) needs an RPC secret (--rpc-secret-file, SEGDL_RPC_SECRET or --rpc-secret)');
  });

  it('--rpc-secret-file: the secret comes from the file (the command line stays clean); --rpc-secret warns', async () => {
    const file = join(scratch.dir, 'secret');
    await writeFile(file, 'from-the-file\n');
    const child = await spawnDaemon(['-d', scratch.dir, '--rpc-secret-file', file], { secret: 'from-the-file' });
    try {
      expect((await child.client().call('getVersion')).enabledFeatures).toContain('HTTPS');
      await expect(child.client('other').call('getVersion')).rejects.toMatchObject({ message: 'Unauthorized' });
    } finally {
      await child.stop();
    }
    const onArgv = await spawnDaemon(['-d', scratch.dir, '--rpc-secret', 'visible', '--rpc-allow-origin-all'], { secret: 'visible' });
    await onArgv.stop();
    expect(onArgv.stderr()).toContain('warning: --rpc-secret shows in ps');
    expect(onArgv.stderr()).toContain('warning: --rpc-allow-origin-all lets every web page');
  });

  it('--help says a secret on the command line shows in ps', async () => {
    const { code, stdout } = await runCli(['daemon', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--rpc-secret TOKEN .*shows in ps/);
  });
});

describe('origins', () => {
  it('a request from a web page of another origin is refused; an allowed origin gets CORS answers and a preflight', async () => {
    const d = await daemon({ allowOrigins: ['http://ui.example'] });
    const evil = await post(d, rpc('aria2.addUri', [['http://127.0.0.1:9/x']]), { origin: 'http://evil.example' });
    expect(evil.status).toBe(403);
    // A form post from a page (no Origin header on some browsers, but Sec-Fetch-Site) is refused as well.
    expect((await post(d, rpc('aria2.tellActive'), { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const ok = await post(d, rpc('aria2.tellActive'), { origin: 'http://ui.example' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://ui.example');
    const preflight = await fetch(d.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://ui.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type');
    expect((await d.engine.waiting()).length + d.engine.active().length).toBe(0); // the refused addUri added nothing
  });

  it('a WebSocket from another origin is refused at the handshake; one without Origin (a script) is served', async () => {
    const d = await daemon();
    const wsUrl = d.url.replace('http:', 'ws:');
    const refused = new WebSocket(wsUrl, { origin: 'http://evil.example' });
    refused.on('error', () => undefined);
    const status = await new Promise<number>((resolve) =>
      refused.on('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      }),
    );
    expect(status).toBe(403);
    const script = new WebSocket(wsUrl);
    await new Promise((resolve) => script.on('open', resolve));
    script.send(rpc('aria2.getVersion'));
    const [answer] = await new Promise<[Buffer]>((resolve) => script.once('message', (data: Buffer) => resolve([data])));
    expect(JSON.parse(answer.toString()).result.version).toBe('test');
    script.close();
  });

  it('WebSockets beyond the limit are turned away (503) and cannot pile up', async () => {
    const transport = await listenRpc(async () => ({ id: null, jsonrpc: '2.0', result: 'ok' }), { host: '127.0.0.1', port: 0, allowOrigins: [], maxWebSockets: 1 });
    try {
      const first = new WebSocket(transport.url.replace('http:', 'ws:'));
      await new Promise((resolve) => first.on('open', resolve));
      const second = new WebSocket(transport.url.replace('http:', 'ws:'));
      second.on('error', () => undefined);
      const status = await new Promise<number>((resolve) =>
        second.on('unexpected-response', (req, res) => {
          req.destroy();
          resolve(res.statusCode ?? 0);
        }),
      );
      expect(status).toBe(503);
      first.terminate();
    } finally {
      await transport.close();
    }
  });
});

describe('download directories', () => {
  it("a dir with '..', a dir outside the roots, an absolute out or one with '..' are refused; nothing is created outside", async () => {
    const root = join(scratch.dir, 'dl');
    const d = await daemon({ roots: [root] });
    const add = (options: Record<string, string>) => post(d, rpc('aria2.addUri', [['http://127.0.0.1:9/f'], options]));
    expect((await add({ dir: `${root}/../escape` })).json.error.message).toMatch(/no '\.\.' segments/);
    expect((await add({ dir: '../escape' })).json.error.message).toMatch(/no '\.\.' segments/);
    expect((await add({ dir: join(scratch.dir, 'elsewhere') })).json.error.message).toMatch(/outside the download directories/);
    expect((await add({ out: '/etc/passwd' })).json.error.message).toMatch(/relative file name/);
    expect((await add({ out: 'a/../../x' })).json.error.message).toMatch(/relative file name/);
    expect((await post(d, rpc('aria2.changeGlobalOption', [{ dir: '/' }]))).json.error.message).toMatch(/outside/);
    expect((await readdir(scratch.dir)).sort()).toEqual(['dl']);
    // Inside the root, subdirectories are made as aria2 makes them.
    expect((await add({ dir: join(root, 'sub'), out: 'deeper/f.bin', pause: 'true' })).json.result).toMatch(/^[0-9a-f]{16}$/);
    expect(await readdir(join(root, 'sub'))).toEqual(['deeper']);
  });

  it('a symlink inside the root that leads outside is refused, and mkdir does not follow it', async () => {
    const root = join(scratch.dir, 'dl');
    await mkdir(root, { recursive: true });
    await mkdir(join(scratch.dir, 'outside'));
    await symlink(join(scratch.dir, 'outside'), join(root, 'link'));
    const d = await daemon({ roots: [root] });
    const { json } = await post(d, rpc('aria2.addUri', [['http://127.0.0.1:9/f'], { dir: join(root, 'link', 'new') }]));
    expect(json.error.message).toMatch(/leads outside the download directories/);
    expect(await readdir(join(scratch.dir, 'outside'))).toEqual([]);
  });
});

describe('options that change while downloads run', () => {
  it('split and max-download-limit reach the running download; max-concurrent-downloads starts the next one', async () => {
    const server = await scratch.server(8 * MiB, { rateBytesPerSec: 128 * 1024 });
    const d = await daemon({ global: { 'max-concurrent-downloads': '1' } });
    const client = new Aria2({ host: '127.0.0.1', port: d.port });
    const a = (await client.call('addUri', [server.server.url], { out: 'a.bin', split: '2' })) as string;
    const b = (await client.call('addUri', [server.server.url], { out: 'b.bin' })) as string;
    await until(async () => ((await client.call('tellStatus', a, ['status'])).status === 'active' ? true : undefined), 'a to run');
    expect((await client.call('tellStatus', b, ['status'])).status).toBe('waiting');
    expect(await client.call('changeOption', a, { split: '6', 'max-download-limit': '1M' })).toBe('OK');
    expect(d.engine.entry(a).handle.connections).toBe(6);
    expect(d.engine.entry(a).handle.maxSpeed).toBe(MiB);
    expect(await client.call('changeGlobalOption', { 'max-concurrent-downloads': '2', 'max-overall-download-limit': '4M' })).toBe('OK');
    await until(async () => ((await client.call('tellStatus', b, ['status'])).status === 'active' ? true : undefined), 'b to start');
    expect((await client.call('getGlobalOption'))['max-overall-download-limit']).toBe(String(4 * MiB));
    expect(await client.call('changeOption', a, { split: 'many' }).catch((e: Error) => e.message)).toBe("We encountered a problem while processing the option '--split'.");
  });
});
