import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests start loopback servers and child processes; two cores in CI.
    pool: 'forks',
    maxWorkers: 2,
  },
});
