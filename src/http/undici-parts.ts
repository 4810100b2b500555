/**
 * The pieces of undici a download needs, loaded on their own: `import 'undici'` evaluates all of
 * undici (fetch, WebSocket, caches, mocks) and adds ~50-90 ms to every CLI start. undici has no
 * `exports` map, so the files are reachable; the version is pinned by package-lock.json, and
 * test/unit/agent.test.ts checks these are the real thing. Static imports, so a bundler can
 * include them (the CLI is bundled: fewer files to find and compile at start-up).
 */
import AgentClass from 'undici/lib/dispatcher/agent.js';
import PoolClass from 'undici/lib/dispatcher/pool.js';
import poolBase from 'undici/lib/dispatcher/pool-base.js';
import buildConnectorFunction from 'undici/lib/core/connect.js';
import symbols from 'undici/lib/core/symbols.js';

export const Agent = AgentClass;
export const Pool = PoolClass;
export const buildConnector = buildConnectorFunction;
/** The symbol under which undici keeps a socket's HTTP/1.1 parser (see src/http/connector.ts). */
export const kParser = symbols.kParser;
/** A pool's clients, their "busy" flag, its choice of client, and a client's "has a live socket" (see src/http/warm-pool.ts). */
export const { kClients, kNeedDrain, kGetDispatcher } = poolBase;
export const kConnected = symbols.kConnected;
