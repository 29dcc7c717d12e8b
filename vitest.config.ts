import { defineConfig } from 'vitest/config';

export default defineConfig({
  // A .sql file imported as its text, as esbuild's text loader does for the bundle (scripts/build.mjs).
  plugins: [
    {
      name: 'sql-as-text',
      transform(code: string, id: string) {
        return id.endsWith('.sql') ? { code: `export default ${JSON.stringify(code)};`, map: null } : undefined;
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The machine has two cores and the CLI tests start worker pools of their own.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
