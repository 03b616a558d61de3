// Crash points of delete (merges, the table's sweep), close, reclaim and recovery itself; and a
// check that the scenarios of both files reach every crash point in the reference's sources.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, test } from 'vitest';

import { REPO_ROOT } from '../../../lib/phases.js';
import { listCrashPoints } from '../../../testkit/crash-points.js';
import { lifecycleCases, maintenanceCases } from './cases.js';
import { cleanup, testEveryCrashPoint } from './scenarios.js';

afterAll(cleanup);

// Every MINIRAY_CRASH_POINT("...") in the phase-2 reference and the journal (native-common's).
function pointsInSources(): Set<string> {
  const files = [
    'native-common/src/journal.cc',
    'solutions/phase2-objects/src/allocator.cc',
    'solutions/phase2-objects/src/object_store.cc',
    'solutions/phase2-objects/src/object_table.cc',
  ];
  const out = new Set<string>();
  for (const f of files) {
    for (const m of readFileSync(join(REPO_ROOT, f), 'utf8').matchAll(/MINIRAY_CRASH_POINT\("([^"]+)"\)/g)) {
      out.add(m[1] ?? '');
    }
  }
  return out;
}

describe('phase 2 crash points: delete, close, reclaim, recovery', () => {
  testEveryCrashPoint(maintenanceCases);

  test('the scenarios pass every crash point of the reference', () => {
    const reached = new Set([...lifecycleCases, ...maintenanceCases].flatMap((c) => listCrashPoints(c)));
    const missing = [...pointsInSources()].filter((p) => !reached.has(p));
    expect(missing, 'crash points no scenario reaches').toEqual([]);
  }, 60_000);
});
