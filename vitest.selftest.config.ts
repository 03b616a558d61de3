import { defineConfig } from 'vitest/config';

// Self-tests of the reference solutions: properties of our own code that no student is graded on
// (checks that depend on the reference's layout, repairs it performs beyond what a phase asks).
// They run against the solutions in `npm run verify` and in the sanitizer run; the grader and the
// student release never see them.
export default defineConfig({
  test: {
    include: ['solutions/*/selftest/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['testkit/global-setup.ts'],
    setupFiles: ['testkit/matchers.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
  },
});
