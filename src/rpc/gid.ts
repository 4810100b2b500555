/** aria2's download ids: 16 hex digits, random, never reused while the daemon knows the old one. */
import { randomBytes } from 'node:crypto';
import { RpcError } from './rpc-error.js';

const GID = /^[0-9a-f]{16}$/;

export function newGid(taken: (gid: string) => boolean): string {
  for (;;) {
    const gid = randomBytes(8).toString('hex');
    // aria2 never hands out 0; a collision among 2^64 is as unlikely, but cheap to rule out.
    if (!taken(gid) && gid !== '0000000000000000') return gid;
  }
}

/** A gid from a client, as aria2 checks it (`Invalid GID x`). aria2 also takes a unique prefix; segdl wants all 16 digits. */
export function checkGid(value: unknown): string {
  const gid = typeof value === 'string' ? value.toLowerCase() : '';
  if (!GID.test(gid)) throw new RpcError(`Invalid GID ${String(value)}`);
  return gid;
}
