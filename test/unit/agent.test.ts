import { Agent as PublicAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { Agent } from '../../src/http/agent.js';

describe('the Agent loaded on its own', () => {
  it('is the same class undici exports (so the deep import never drifts from the public API)', () => {
    expect(Agent).toBe(PublicAgent);
    const agent = new Agent({ connections: 2 });
    expect(typeof agent.dispatch).toBe('function');
    return agent.close();
  });
});
