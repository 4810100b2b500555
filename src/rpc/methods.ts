/** The method table: aria2's names, their parameters checked, answered from the engine. */
import type { Aria2Engine } from './engine.js';
import { page } from './registry.js';
import { gidAt, integerAt, keysAt, pageAt, stringAt } from './params.js';
import { RpcError } from './rpc-error.js';
import { filesOf, serversOf, statusStruct, urisOf } from './status.js';
import type { Entry } from './registry.js';

export interface MethodContext {
  engine: Aria2Engine;
  version: string;
}

type Handler = (ctx: MethodContext, params: readonly unknown[]) => unknown;

const OK = 'OK';

/** What segdl refuses, with why, instead of aria2's "No such method". */
const REFUSED: Record<string, string> = {
  'aria2.addTorrent': 'segdl downloads over HTTP(S) only: BitTorrent is not supported',
  'aria2.addMetalink': 'segdl downloads over HTTP(S) only: Metalink is not supported (pass the mirrors to addUri)',
  'aria2.getPeers': 'segdl downloads over HTTP(S) only: there are no BitTorrent peers',
  'aria2.changeUri': 'changeUri is not supported: remove the download and add it again with the new URIs',
};

export const NOTIFICATIONS = [
  'aria2.onDownloadStart',
  'aria2.onDownloadPause',
  'aria2.onDownloadStop',
  'aria2.onDownloadComplete',
  'aria2.onDownloadError',
  'segdl.onDownloadProgress',
];

function statusList(ctx: MethodContext, entries: readonly Entry[], keys: string[] | undefined): unknown[] {
  return entries.map((e) => statusStruct(e, ctx.engine.dirOf(e), keys));
}

function withEntry<T>(fn: (ctx: MethodContext, entry: Entry, params: readonly unknown[]) => T): Handler {
  return (ctx, params) => fn(ctx, ctx.engine.entry(gidAt(params, 0)), params);
}

const METHODS: Record<string, Handler> = {
  'aria2.addUri': ({ engine }, p) => {
    if (p.length === 0) throw new RpcError('The parameter at 0 is required but missing.');
    return engine.addUri(p[0], p[1], p[2]);
  },
  'aria2.remove': ({ engine }, p) => engine.remove(gidAt(p, 0)),
  'aria2.forceRemove': ({ engine }, p) => engine.remove(gidAt(p, 0)),
  'aria2.pause': ({ engine }, p) => engine.pause(gidAt(p, 0)),
  'aria2.forcePause': ({ engine }, p) => engine.pause(gidAt(p, 0)),
  'aria2.pauseAll': ({ engine }) => (engine.pauseAll(), OK),
  'aria2.forcePauseAll': ({ engine }) => (engine.pauseAll(), OK),
  'aria2.unpause': ({ engine }, p) => engine.unpause(gidAt(p, 0)),
  'aria2.unpauseAll': ({ engine }) => (engine.unpauseAll(), OK),
  'aria2.changePosition': ({ engine }, p) => engine.changePosition(gidAt(p, 0), integerAt(p, 1), stringAt(p, 2)),
  'aria2.tellStatus': withEntry((ctx, entry, p) => statusStruct(entry, ctx.engine.dirOf(entry), keysAt(p, 1))),
  'aria2.getUris': withEntry((_ctx, entry) => urisOf(entry)),
  'aria2.getFiles': withEntry((ctx, entry) => filesOf(entry, ctx.engine.dirOf(entry))),
  'aria2.getServers': withEntry((_ctx, entry) => serversOf(entry)),
  'aria2.tellActive': (ctx, p) => statusList(ctx, ctx.engine.active(), keysAt(p, 0)),
  'aria2.tellWaiting': (ctx, p) => {
    const { offset, num } = pageAt(p, 0);
    return statusList(ctx, page(ctx.engine.waiting(), offset, num), keysAt(p, 2));
  },
  'aria2.tellStopped': (ctx, p) => {
    const { offset, num } = pageAt(p, 0);
    return statusList(ctx, page(ctx.engine.stopped(), offset, num), keysAt(p, 2));
  },
  'aria2.getOption': withEntry((ctx, entry) => ctx.engine.optionsOf(entry)),
  'aria2.changeOption': ({ engine }, p) => (engine.changeOption(gidAt(p, 0), p[1] ?? {}), OK),
  'aria2.getGlobalOption': ({ engine }) => engine.globalOptions(),
  'aria2.changeGlobalOption': ({ engine }, p) => (engine.changeGlobalOption(p[0] ?? {}), OK),
  'aria2.purgeDownloadResult': ({ engine }) => (engine.purgeResults(), OK),
  'aria2.removeDownloadResult': ({ engine }, p) => (engine.removeResult(gidAt(p, 0)), OK),
  'aria2.getVersion': ({ version }) => ({ version, enabledFeatures: ['HTTPS', 'Message Digest'] }),
  'aria2.getSessionInfo': ({ engine }) => ({ sessionId: engine.sessionId }),
  'aria2.getGlobalStat': ({ engine }) => ({
    downloadSpeed: String(engine.globalSpeed()),
    uploadSpeed: '0',
    numActive: String(engine.active().length),
    numWaiting: String(engine.waiting().length),
    numStopped: String(engine.stopped().length),
    numStoppedTotal: String(engine.stoppedTotal),
  }),
  'aria2.saveSession': async ({ engine }) => (await engine.saveSession(), OK),
  'aria2.shutdown': ({ engine }) => (engine.requestShutdown(), OK),
  'aria2.forceShutdown': ({ engine }) => (engine.requestShutdown(), OK),
  'system.listMethods': () => listMethods(),
  'system.listNotifications': () => NOTIFICATIONS,
};

export function listMethods(): string[] {
  return [...Object.keys(METHODS), 'system.multicall'];
}

/** Runs one method (not system.multicall, which the dispatcher unrolls). */
export async function callMethod(ctx: MethodContext, method: string, params: readonly unknown[]): Promise<unknown> {
  // Own properties only: a method named "constructor" or "__proto__" is just unknown.
  if (Object.hasOwn(REFUSED, method)) throw new RpcError(REFUSED[method]!);
  const handler = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  if (handler === undefined) throw new RpcError(`No such method: ${method}`);
  return await handler(ctx, params);
}
