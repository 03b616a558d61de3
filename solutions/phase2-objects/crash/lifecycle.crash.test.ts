// Crash points of the lifecycle: create, put, seal, abort, get, release (see cases.ts).
import { afterAll, describe, expect, test } from 'vitest';

import { exploreCrashPoints, formatCoverage } from '../../../testkit/crash-points.js';
import { lifecycleCases } from './cases.js';
import { cleanup } from './scenarios.js';

afterAll(cleanup);

describe('phase 2 crash points: the lifecycle', () => {
  for (const c of lifecycleCases) {
    test(`killed at every crash point of "${c.name}", the survivors find a whole store`, () => {
      const report = exploreCrashPoints(c);
      console.log(formatCoverage(report));
      expect(report.points.length).toBeGreaterThan(0);
    }, 120_000);
  }
});
