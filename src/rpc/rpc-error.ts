/**
 * A JSON-RPC error as aria2 sends it: `{code, message}`. aria2 answers every failed method with
 * code 1 and a sentence; only the protocol errors (parse, invalid request) use JSON-RPC's codes.
 */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  readonly code: number;

  constructor(message: string, code = 1) {
    super(message);
    this.code = code;
  }
}

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;

export function unauthorized(): RpcError {
  return new RpcError('Unauthorized');
}

export function gidNotFound(gid: string): RpcError {
  return new RpcError(`GID ${gid} is not found`);
}
