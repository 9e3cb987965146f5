import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Media workers and Chromium need real processes; forks isolate them per file.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more parallel files just fight over the CPU the media tests measure.
    maxWorkers: 2,
    reporters: ['default', './tests/summaryReporter.ts'],
  },
});
