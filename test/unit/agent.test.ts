import { Agent as PublicAgent, buildConnector as publicBuildConnector } from 'undici';
import { describe, expect, it } from 'vitest';
import { Agent, buildConnector, kParser } from '../../src/http/undici-parts.js';

describe('the undici pieces loaded on their own', () => {
  it('are the same things undici exports (so the deep imports never drift from the public API)', () => {
    expect(Agent).toBe(PublicAgent);
    expect(buildConnector).toBe(publicBuildConnector);
    expect(typeof kParser).toBe('symbol');
    expect(kParser.description).toBe('parser');
    const agent = new Agent({ connections: 2 });
    expect(typeof agent.dispatch).toBe('function');
    return agent.close();
  });
});
