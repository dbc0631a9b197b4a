import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    reporters: ['default', './spec/support/summary-reporter.ts'],
  },
});
