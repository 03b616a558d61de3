// The grading tools' own tests (npm run verify runs them): the watchdog, the grader, stress,
// the autograder and the release, each on a scratch copy of the course. Not part of the course's
// suites (vitest.config.ts at the root), and not graded.
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['tools/test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
});
