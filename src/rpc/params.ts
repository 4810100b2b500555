/** Positional parameter checks with aria2's wording ("The parameter at 1 has wrong type."). */
import { checkGid } from './gid.js';
import { RpcError } from './rpc-error.js';

function wrongType(index: number): RpcError {
  return new RpcError(`The parameter at ${index} has wrong type.`);
}

function required(params: readonly unknown[], index: number): unknown {
  if (params.length <= index || params[index] === undefined) throw new RpcError(`The parameter at ${index} is required but missing.`);
  return params[index];
}

export function gidAt(params: readonly unknown[], index: number): string {
  return checkGid(required(params, index));
}

export function integerAt(params: readonly unknown[], index: number): number {
  const value = required(params, index);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw wrongType(index);
  return value;
}

export function stringAt(params: readonly unknown[], index: number): string {
  const value = required(params, index);
  if (typeof value !== 'string') throw wrongType(index);
  return value;
}

/** An optional list of status keys. */
export function keysAt(params: readonly unknown[], index: number): string[] | undefined {
  const value = params[index];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((k) => typeof k === 'string')) throw wrongType(index);
  return value as string[];
}

/** tellWaiting/tellStopped take at most this many per call: bounded work per request. */
const MAX_PAGE = 1000;

export function pageAt(params: readonly unknown[], index: number): { offset: number; num: number } {
  const offset = integerAt(params, index);
  const num = integerAt(params, index + 1);
  if (num < 0) throw wrongType(index + 1);
  return { offset, num: Math.min(num, MAX_PAGE) };
}
