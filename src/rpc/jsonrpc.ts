/**
 * JSON-RPC 2.0 as aria2 speaks it: one request or a batch, `system.multicall` unrolled with a
 * token per call, aria2's error shapes. Any failure inside a method becomes an error answer;
 * nothing a client sends can throw out of here.
 */
import { authorize, takeToken } from './auth.js';
import { callMethod, type MethodContext } from './methods.js';
import { INVALID_REQUEST, PARSE_ERROR, RpcError } from './rpc-error.js';

export interface RpcDispatchContext extends MethodContext {
  secret: string | undefined;
}

interface ErrorBody {
  code: number;
  message: string;
}

export interface RpcResponse {
  id: unknown;
  jsonrpc: '2.0';
  result?: unknown;
  error?: ErrorBody;
}

/** Calls per batch or multicall: bounded work per request. */
const MAX_CALLS = 256;
/** aria2 lets these through without the secret: they only name what exists. */
const WITHOUT_SECRET = new Set(['system.listMethods', 'system.listNotifications']);

function errorBody(error: unknown): ErrorBody {
  if (error instanceof RpcError) return { code: error.code, message: error.message };
  return { code: 1, message: error instanceof Error ? error.message : String(error) };
}

function failure(id: unknown, code: number, message: string): RpcResponse {
  return { id, jsonrpc: '2.0', error: { code, message } };
}

/** Answers the text of a request (or batch); `undefined` never: every request gets an answer, as aria2 gives. */
export async function dispatchText(ctx: RpcDispatchContext, text: string): Promise<RpcResponse | RpcResponse[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return failure(null, PARSE_ERROR, 'Parse error.');
  }
  return dispatch(ctx, parsed);
}

export async function dispatch(ctx: RpcDispatchContext, parsed: unknown): Promise<RpcResponse | RpcResponse[]> {
  if (!Array.isArray(parsed)) return dispatchOne(ctx, parsed);
  if (parsed.length > MAX_CALLS) return failure(null, INVALID_REQUEST, `Invalid Request: at most ${MAX_CALLS} calls in a batch.`);
  const answers: RpcResponse[] = [];
  for (const request of parsed) answers.push(await dispatchOne(ctx, request));
  return answers;
}

async function dispatchOne(ctx: RpcDispatchContext, request: unknown): Promise<RpcResponse> {
  const r = request as { id?: unknown; method?: unknown; params?: unknown } | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return failure(null, INVALID_REQUEST, 'Invalid Request.');
  const id = r.id ?? null;
  if (typeof r.method !== 'string' || (r.params !== undefined && !Array.isArray(r.params))) return failure(id, INVALID_REQUEST, 'Invalid Request.');
  try {
    return { id, jsonrpc: '2.0', result: await call(ctx, r.method, (r.params as unknown[] | undefined) ?? [], false) };
  } catch (error) {
    const body = errorBody(error);
    return failure(id, body.code, body.message);
  }
}

async function call(ctx: RpcDispatchContext, method: string, params: readonly unknown[], nested: boolean): Promise<unknown> {
  if (method === 'system.multicall') {
    if (nested) throw new RpcError('Recursive system.multicall forbidden.');
    return multicall(ctx, params);
  }
  const { token, rest } = takeToken(params);
  if (!WITHOUT_SECRET.has(method)) authorize(ctx.secret, token);
  return callMethod(ctx, method, rest);
}

/** aria2's system.multicall: `[[{methodName, params}, ...]]` → `[[result] | {code, message}, ...]`. */
async function multicall(ctx: RpcDispatchContext, params: readonly unknown[]): Promise<unknown[]> {
  const calls = params[0];
  if (!Array.isArray(calls)) throw new RpcError('The parameter at 0 has wrong type.');
  if (calls.length > MAX_CALLS) throw new RpcError(`at most ${MAX_CALLS} calls in one system.multicall`);
  const results: unknown[] = [];
  for (const entry of calls) {
    const c = entry as { methodName?: unknown; params?: unknown } | null;
    try {
      if (typeof c !== 'object' || c === null || typeof c.methodName !== 'string') throw new RpcError('Missing methodName.');
      if (c.params !== undefined && !Array.isArray(c.params)) throw new RpcError('Missing params.');
      results.push([await call(ctx, c.methodName, (c.params as unknown[] | undefined) ?? [], true)]);
    } catch (error) {
      results.push(errorBody(error));
    }
  }
  return results;
}
