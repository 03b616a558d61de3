// Crash points of the lifecycle: create, put, seal, abort, get, release (see cases.ts).
import { afterAll, describe } from 'vitest';

import { lifecycleCases } from './cases.js';
import { cleanup, testEveryCrashPoint } from './scenarios.js';

afterAll(cleanup);

describe('phase 2 crash points: the lifecycle', () => {
  testEveryCrashPoint(lifecycleCases);
});
