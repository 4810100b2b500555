/** Types for the single undici files segdl loads on their own (src/http/undici-parts.ts). */
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export default AgentClass;
}
declare module 'undici/lib/core/connect.js' {
  import type { buildConnector } from 'undici';
  const build: typeof buildConnector;
  export default build;
}
declare module 'undici/lib/core/symbols.js' {
  const symbols: { kParser: symbol; kConnected: symbol };
  export default symbols;
}
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';
  const PoolClass: typeof Pool;
  export default PoolClass;
}
declare module 'undici/lib/dispatcher/pool-base.js' {
  const base: { kClients: symbol; kNeedDrain: symbol; kGetDispatcher: symbol };
  export default base;
}
