import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Media workers and Chromium need real processes; forks isolate them per file.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './tests/summaryReporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'core',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'tests/browser/**', 'tests/lti/launch.test.ts', 'tests/**/*.browser.test.ts'],
          // Two cores: more parallel files just fight over the CPU the media tests measure.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          // The LTI launch runs a class of Chromium pages with fake cameras inside the LMS's frame.
          include: ['tests/browser/**/*.test.ts', 'tests/lti/launch.test.ts', 'tests/**/*.browser.test.ts'],
          // After the rest, one file at a time: each file runs several Chromium pages with fake
          // cameras, and two such files on 2 cores make Chromium shed simulcast layers for CPU
          // (its own adaptation), which is what the simulcast test then sees instead of the SFU's.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
