// The crash-point suites (npm run verify runs them): the reference killed at every crash point.
//   npx vitest run --config solutions/phase2-objects/crash/vitest.config.ts
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: ['solutions/phase2-objects/crash/**/*.crash.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['solutions/phase2-objects/crash/global-setup.ts'],
    env: { MINIRAY_IMPL: 'solution' },
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
