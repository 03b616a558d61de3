import { defineConfig } from 'vitest/config';

import base from './vitest.config.js';

// Self-tests of the reference solutions: properties of our own code that no student is graded on
// (checks that depend on the reference's layout, repairs it performs beyond what a phase asks).
// They run against the solutions in `npm run verify` and in the sanitizer run; the grader and the
// student release never see them. Everything but the files is the main configuration's.
export default defineConfig({
  test: { ...base.test, include: ['solutions/*/selftest/**/*.test.ts'] },
});
