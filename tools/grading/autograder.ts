// `npm run course -- autograder phaseN OUT.zip`: the zip an instructor uploads to Gradescope.
//
// Gradescope unpacks it into /autograder/source, runs setup.sh once when it builds the image, then
// for every submission copies the student's upload into /autograder/submission and runs
// run_autograder, which must leave /autograder/results/results.json. Ours grades the phase's public
// and hidden suites (tools/grading/autograder-run.ts) and writes results.json whatever happens:
// a provisional one first, the real one at the end, and a last-resort one from the shell if the
// grader could not even start. MINIRAY_AUTOGRADER_ROOT replaces /autograder, to try it locally.
//
// The bundle is the course without the reference sources, the mutants and the other phases'
// hidden suites: a submission's code runs in the same container, so it holds nothing it need not.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { COURSE_PHASES, type PhaseInfo } from '../../lib/phases.js';
import { committedFile, courseFiles } from './course-files.js';
import { zip, type ZipEntry } from './zip.js';

export const AUTOGRADER_ROOT_ENV = 'MINIRAY_AUTOGRADER_ROOT';

function setupScript(phase: PhaseInfo): string {
  return `#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu): the tools the
# course needs (Node.js 20 or newer, a C++20 compiler, make, python3), its npm packages, and a first
# build of the given code, so that grading a submission recompiles only the student's files.
set -euo pipefail
ROOT="\${${AUTOGRADER_ROOT_ENV}:-/autograder}"
cd "$ROOT/source"
need=()
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl ca-certificates)
if [ \${#need[@]} -gt 0 ]; then
  apt-get update
  apt-get install -y --no-install-recommends "\${need[@]}"
fi
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  curl -fsSL https://deb.nodesource.com/setup_20.x | bash -
  apt-get install -y nodejs
fi
npm ci --no-audit --no-fund
node --import tsx tools/build.ts --student ${phase.id} --quiet || true
`;
}

function runScript(phase: PhaseInfo, limitSeconds: number): string {
  return `#!/usr/bin/env bash
# Gradescope runs this for every submission: it grades ${phase.id} (public and hidden suites) and always
# leaves results/results.json behind, even when the grader fails or runs out of time.
set -u
ROOT="\${${AUTOGRADER_ROOT_ENV}:-/autograder}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
cd "$ROOT/source" || exit 0
# Before Gradescope's own limit: SIGTERM (the grader stops its tests and says so in results.json),
# SIGKILL 20 s later.
timeout --kill-after=20 "\${MINIRAY_AUTOGRADER_SECONDS:-${limitSeconds}}" \\
  node --import tsx tools/grading/autograder-run.ts --root "$ROOT" --phase ${phase.id}
status=$?
if [ ! -s "$RESULTS" ]; then
  printf '{"score":0,"output":"The autograder stopped before it could grade (exit %s): nothing was graded. Please tell your instructor.","visibility":"visible","stdout_visibility":"visible","tests":[]}\\n' "$status" >"$RESULTS"
fi
exit 0
`;
}

// What goes into the bundle from the course.
function bundled(rel: string, phase: PhaseInfo): boolean {
  if (rel.startsWith('.ci/')) return false;
  if (rel.startsWith('solutions/')) return rel.startsWith(`solutions/${phase.dir}/hidden/`);
  return true;
}

// `minutes`: the autograder timeout set on Gradescope (its default is 10); the grader stops itself a
// minute before it, so that its own result, not Gradescope's, reaches the student.
export function buildAutograder(course: string, phase: PhaseInfo, minutes = 10): { readonly zip: Buffer; readonly files: number } {
  const studentFiles = new Set(COURSE_PHASES.flatMap((p) => p.studentFiles));
  const entries: ZipEntry[] = [
    { name: 'setup.sh', content: Buffer.from(setupScript(phase)), mode: 0o755 },
    { name: 'run_autograder', content: Buffer.from(runScript(phase, Math.max(60, minutes * 60 - 60))), mode: 0o755 },
  ];
  const files = courseFiles(course).filter((f) => bundled(f, phase));
  for (const rel of files) {
    // Student files as committed: the skeleton a missing file falls back to.
    const content = studentFiles.has(rel) ? (committedFile(course, rel) ?? readFileSync(join(course, rel))) : readFileSync(join(course, rel));
    entries.push({ name: rel, content });
  }
  return { zip: zip(entries), files: files.length };
}
