// Builds what the crash-point suites load: the reference (the survivors) and its fault-injection
// build (the children that die).
import { build, buildTarget } from '../../../tools/build.js';
import { removeStaleTestSegments } from '../../../testkit/segments.js';

export default function setup(): void {
  removeStaleTestSegments();
  if (process.env.MINIRAY_SKIP_BUILD !== '1') build({ impls: ['solution'], quiet: true });
  const crash = buildTarget('phase2_crash');
  if (!crash.ok) throw new Error(`phase2_crash does not compile:\n  ${crash.diagnostics.join('\n  ')}`);
}
