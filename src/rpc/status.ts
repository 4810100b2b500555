/** A download as aria2 reports it (`tellStatus`, `getFiles`, `getUris`, `getServers`): every number a decimal string. */
import { join } from 'node:path';
import { aria2ErrorCode } from './error-codes.js';
import { pieceMap } from './bitfield.js';
import { statusOf, type Entry } from './registry.js';
import { RpcError } from './rpc-error.js';

type Struct = Record<string, unknown>;

function totalOf(entry: Entry): number | undefined {
  return entry.result?.size ?? entry.info?.totalBytes ?? entry.progress?.totalBytes;
}

function completedOf(entry: Entry): number {
  return entry.result?.size ?? entry.progress?.transferredBytes ?? 0;
}

function pathOf(entry: Entry, dir: string): string {
  const out = entry.options['out'];
  return entry.result?.path ?? entry.info?.path ?? (out === undefined ? '' : join(dir, out));
}

export function urisOf(entry: Entry): Struct[] {
  // segdl uses every mirror at once: all are "used" once the download has started.
  const used = entry.info !== undefined;
  return entry.uris.map((uri) => ({ uri, status: used ? 'used' : 'waiting' }));
}

export function filesOf(entry: Entry, dir: string): Struct[] {
  const total = totalOf(entry);
  return [
    {
      index: '1',
      path: pathOf(entry, dir),
      length: String(total ?? 0),
      completedLength: String(completedOf(entry)),
      selected: 'true',
      uris: urisOf(entry),
    },
  ];
}

function speedOf(entry: Entry): number {
  return statusOf(entry) === 'active' ? Math.round(entry.progress?.bytesPerSecond ?? 0) : 0;
}

/** aria2's `getServers`: only for an active download. segdl keeps no speed per mirror: the first URI carries the download's. */
export function serversOf(entry: Entry): Struct[] {
  if (statusOf(entry) !== 'active') throw new RpcError(`No active download for GID#${entry.gid}`);
  const speed = speedOf(entry);
  return [
    {
      index: '1',
      servers: entry.uris.map((uri, i) => ({
        uri,
        currentUri: i === 0 ? (entry.info?.url ?? uri) : uri,
        downloadSpeed: String(i === 0 ? speed : 0),
      })),
    },
  ];
}

/** The full tellStatus struct, or only `keys` (those that exist) when given. */
export function statusStruct(entry: Entry, dir: string, keys?: readonly string[]): Struct {
  const status = statusOf(entry);
  const total = totalOf(entry);
  const segments = status === 'complete' ? [{ start: 0, done: total ?? 0 }] : (entry.progress?.segments ?? []);
  const map = pieceMap(total, segments);
  const struct: Struct = {
    gid: entry.gid,
    status,
    totalLength: String(total ?? 0),
    completedLength: String(completedOf(entry)),
    uploadLength: '0',
    ...(map.bitfield === undefined ? {} : { bitfield: map.bitfield }),
    downloadSpeed: String(speedOf(entry)),
    uploadSpeed: '0',
    pieceLength: String(map.pieceLength),
    numPieces: String(map.numPieces),
    connections: String(status === 'active' ? (entry.progress?.segments.filter((s) => s.active).length ?? 0) : 0),
    dir,
    files: filesOf(entry, dir),
  };
  if (status === 'complete') Object.assign(struct, { errorCode: '0', errorMessage: '' });
  // aria2 reports a removed download with code 31 ("download aborted") and no message.
  if (status === 'removed') Object.assign(struct, { errorCode: '31', errorMessage: '' });
  if (status === 'error') {
    const message = entry.error instanceof Error ? entry.error.message : String(entry.error);
    Object.assign(struct, { errorCode: String(aria2ErrorCode(entry.error)), errorMessage: message });
  }
  if (keys === undefined || keys.length === 0) return struct;
  return Object.fromEntries(keys.filter((k) => k in struct).map((k) => [k, struct[k]]));
}
