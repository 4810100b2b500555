/**
 * undici's Agent, loaded on its own. `import 'undici'` evaluates all of undici (fetch, WebSocket,
 * caches, mocks) and adds ~50-90 ms to every CLI start; the Agent and its pool/client are all a
 * download needs. undici has no `exports` map, so the file is reachable; the version is pinned
 * by package-lock.json, and test/unit/agent.test.ts checks this is the real class.
 */
import { createRequire } from 'node:module';
import type { Agent as AgentClass } from 'undici';

const require = createRequire(import.meta.url);

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof AgentClass;
