import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The machine has two cores and the CLI tests start worker pools of their own.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
