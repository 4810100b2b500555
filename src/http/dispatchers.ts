/**
 * Which dispatcher a download uses: the caller's own, or one keep-alive pool per process for each
 * transport configuration (trusted CA, private-address guard, connect timeout, proxies). Every
 * Download without a `dispatcher` and every DownloadQueue draw from it, so consecutive downloads
 * reuse warm sockets instead of paying a handshake each. undici unrefs idle sockets and its
 * keep-alive timers, so the pool never keeps a process alive; nothing here needs closing.
 *
 * The pool sets no per-origin socket cap: the requests in flight (a download's connections, a
 * queue's per-host budget) bound the sockets, and idle ones close after the keep-alive timeout.
 */
import type { Dispatcher } from 'undici';
import { Agent } from './undici-parts.js';
import { makeConnector } from './connector.js';
import { warmFirstPool } from './warm-pool.js';
import type { ProxySettings } from './proxy.js';
import { DirectPool } from './direct/connections.js';

export interface TransportConfig {
  ca: string | Buffer | Array<string | Buffer> | undefined;
  blockPrivateAddresses: boolean;
  connectTimeoutMs: number;
  /** undefined: every request goes direct. */
  proxy: ProxySettings | undefined;
}

const KEEP_ALIVE_MS = 10_000;
const pools = new Map<string, Promise<Dispatcher>>();

/** The caller's dispatcher if it gave one, else the process-wide pool for `config`. */
export function dispatcherFor(config: TransportConfig & { dispatcher: Dispatcher | undefined }): Promise<Dispatcher> {
  if (config.dispatcher !== undefined) return Promise.resolve(config.dispatcher);
  const key = keyOf(config);
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = build(config);
    pools.set(key, pool);
  }
  return pool;
}

async function build(config: TransportConfig): Promise<Dispatcher> {
  const connect = makeConnector({ ca: config.ca, blockPrivateAddresses: config.blockPrivateAddresses, timeout: config.connectTimeoutMs });
  const agent = new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, connect, factory: warmFirstPool });
  const direct = agent.compose((dispatch) => (opts, handler) => {
    setImmediate(() => dispatch(opts, handler));
    return true;
  });
  if (config.proxy === undefined) return direct;
  // Proxy routing and tunnels are loaded only by a process that has a proxy to use.
  const { routedDispatcher } = await import('./proxy-route.js');
  return routedDispatcher(direct, { ...config, proxy: config.proxy, keepAliveTimeout: KEEP_ALIVE_MS });
}

const directPools = new Map<string, DirectPool>();

/**
 * The direct receive path's connections for `config`, or undefined when requests must all go
 * through undici: the caller gave a dispatcher, a proxy is configured, or the path is turned off.
 */
export function directPoolFor(config: TransportConfig & { dispatcher: Dispatcher | undefined; directReceive: boolean }): DirectPool | undefined {
  if (config.dispatcher !== undefined || config.proxy !== undefined || !config.directReceive) return undefined;
  const key = keyOf(config);
  let pool = directPools.get(key);
  if (pool === undefined) {
    pool = new DirectPool({ blockPrivateAddresses: config.blockPrivateAddresses, connectTimeoutMs: config.connectTimeoutMs, ca: config.ca });
    directPools.set(key, pool);
  }
  return pool;
}

function keyOf(config: TransportConfig): string {
  const ca = config.ca === undefined ? [] : (Array.isArray(config.ca) ? config.ca : [config.ca]).map(String);
  const proxy = config.proxy === undefined ? undefined : [config.proxy.http?.href, config.proxy.https?.href, config.proxy.noProxy];
  return JSON.stringify([ca, config.blockPrivateAddresses, config.connectTimeoutMs, proxy]);
}
