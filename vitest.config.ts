import { defineConfig } from 'vitest/config';

/** The suites that talk to hostile servers run a second time with every request through undici (no direct receive path). */
const BOTH_PATHS = ['test/protocol/**/*.test.ts', 'test/hardening/**/*.test.ts', 'test/download/**/*.test.ts', 'test/crash/**/*.test.ts', 'test/verify/**/*.test.ts'];

export default defineConfig({
  test: {
    // Tests start real servers and child processes; two cores, so keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'direct', include: ['test/**/*.test.ts'] } },
      { extends: true, test: { name: 'undici', include: BOTH_PATHS, env: { SEGDL_RECEIVE: 'undici' } } },
    ],
  },
});
