// Runs once before a vitest run: builds the implementation under test (incrementally) and clears
// segments left by earlier runs that crashed. A phase that does not compile is reported here and
// its tests fail with the compiler's messages; the other phases still run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { build, buildTarget } from '../tools/build.js';
import { PHASES, REPO_ROOT, currentImpl, hasSolutions } from '../lib/phases.js';
import { removeStaleTestSegments } from './segments.js';

export default function setup(): void {
  if (currentImpl() === 'solution' && !hasSolutions()) {
    throw new Error('this is the student release: it has no solutions/ (the :solution scripts are for instructors)');
  }
  removeStaleTestSegments();
  // The crash-point suites (instructor-only) load each reference built with its crash points armed:
  // built here, where a long build is not mistaken by the test watchdog for a hang in a test file.
  if (process.env.MINIRAY_CRASH_SUITES === '1') {
    for (const p of PHASES.filter((q) => existsSync(join(REPO_ROOT, 'solutions', q.dir, 'crash')))) {
      const status = buildTarget(`${p.id}_crash`);
      if (!status.ok) throw new Error(`${p.id}_crash does not build:\n${status.diagnostics.join('\n')}`);
    }
  }
  if (process.env.MINIRAY_SKIP_BUILD === '1') return;
  build({ impls: [currentImpl()], quiet: true });
}
