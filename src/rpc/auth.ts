/** The RPC secret: aria2's `token:SECRET` first parameter, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { unauthorized } from './rpc-error.js';

/** Splits off a leading `token:...` parameter (aria2 strips it whether or not a secret is set). */
export function takeToken(params: readonly unknown[]): { token: string | undefined; rest: readonly unknown[] } {
  const first = params[0];
  if (typeof first === 'string' && first.startsWith('token:')) return { token: first.slice('token:'.length), rest: params.slice(1) };
  return { token: undefined, rest: params };
}

/** Hashing first makes the comparison constant-time whatever the lengths. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function authorize(secret: string | undefined, token: string | undefined): void {
  if (secret === undefined) return;
  if (token === undefined || !timingSafeEqual(digest(token), digest(secret))) throw unauthorized();
}
