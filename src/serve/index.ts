/** The project's own RFC 9110 range server with fault injection. */
export { serve } from './server.js';
export type { FaultOptions, FaultPlan } from './faults.js';
export type { RangeServer, RequestRecord, ServeOptions, ServerStats } from './types.js';
