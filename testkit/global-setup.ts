// Runs once before a vitest run: builds the implementation under test (incrementally) and clears
// segments left by earlier runs that crashed. A phase that does not compile is reported here and
// its tests fail with the compiler's messages; the other phases still run.
import { build } from '../tools/build.js';
import { currentImpl, hasSolutions } from '../lib/phases.js';
import { removeStaleTestSegments } from './segments.js';

export default function setup(): void {
  if (currentImpl() === 'solution' && !hasSolutions()) {
    throw new Error('this is the student release: it has no solutions/ (the :solution scripts are for instructors)');
  }
  removeStaleTestSegments();
  if (process.env.MINIRAY_SKIP_BUILD === '1') return;
  build({ impls: [currentImpl()], quiet: true });
}
