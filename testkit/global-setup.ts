// Runs once before a vitest run: builds the implementation under test (incrementally) and clears
// segments left by earlier runs that crashed. A phase that does not compile is reported here and
// its tests fail with the compiler's messages; the other phases still run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { buildTarget, build } from '../tools/build.js';
import { PHASES, REPO_ROOT, currentImpl, hasSolutions } from '../lib/phases.js';
import { removeStaleTestSegments } from './segments.js';

// The crash-point suites (solutions/<phase>/crash, MINIRAY_CRASH_SUITES=1) load the fault-injection
// build of each reference (`<phase>_crash`, not part of `build --all`). Built here, before any test
// starts: a compile inside a test would count against that test's timeout, and on a loaded machine
// it alone can take minutes.
function buildCrashTargets(): void {
  for (const phase of PHASES) {
    if (!existsSync(join(REPO_ROOT, 'solutions', phase.dir, 'crash'))) continue;
    const status = buildTarget(`${phase.id}_crash`);
    if (!status.ok) throw new Error(`${phase.id}_crash does not build:\n${status.diagnostics.join('\n')}`);
  }
}

export default function setup(): void {
  if (currentImpl() === 'solution' && !hasSolutions()) {
    throw new Error('this is the student release: it has no solutions/ (the :solution scripts are for instructors)');
  }
  removeStaleTestSegments();
  if (process.env.MINIRAY_CRASH_SUITES === '1') buildCrashTargets();
  if (process.env.MINIRAY_SKIP_BUILD === '1') return;
  build({ impls: [currentImpl()], quiet: true });
}
