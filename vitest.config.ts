import { defineConfig } from 'vitest/config';

import WatchdogMarker, { WatchdogSummary } from './testkit/watchdog/reporter.js';
import { watchedForks } from './testkit/watchdog/pool.js';

// Hidden suites (solutions/**/hidden) run against the reference, and when grading.
const impl = process.env.MINIRAY_IMPL ?? 'student';
const withHidden = impl === 'solution' || process.env.MINIRAY_HIDDEN === '1';
// Crash-point suites (solutions/*/crash) kill the reference at every crash point; instructor-only,
// not graded, run by `npm run verify`.
const withCrash = process.env.MINIRAY_CRASH_SUITES === '1';

export default defineConfig({
  test: {
    include: [
      'phase*/test/**/*.test.ts',
      // The mini-Ray runtime's own suite (not graded): it runs on the phase-2 and phase-3 builds.
      'runtime/test/**/*.test.ts',
      ...(withHidden ? ['solutions/*/hidden/**/*.test.ts'] : []),
      ...(withCrash ? ['solutions/*/crash/**/*.test.ts'] : []),
    ],
    // Native addons and worker threads do not mix: every test file runs in its own process, in
    // vitest's forks pool with a watchdog that names a test whose process hangs or crashes.
    pool: watchedForks(),
    maxWorkers: 2,
    globalSetup: ['testkit/global-setup.ts'],
    setupFiles: ['testkit/matchers.ts', 'testkit/watchdog/worker-setup.ts'],
    reporters: [new WatchdogMarker(), 'default', new WatchdogSummary()],
    // The watchdog's call tracer (lib/call-trace.ts) wraps every native call: its frame is left out
    // of a failure's stack, so that the code shown is the harness's and the test's, not the tracer's.
    onStackTrace: (_error, frame) => !frame.file.endsWith('/lib/call-trace.ts'),
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
  },
});
