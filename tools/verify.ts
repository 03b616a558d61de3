// npm run verify: everything CI checks, in order, stopping at the first failure.
//
//   typecheck -> build every target -> every suite (public and hidden) against the solutions ->
//   the reference self-tests -> every suite again under ASan + UBSan -> the course self-check
//   (skeletons fail every graded test, every mutant is caught) -> ...
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT, hasSolutions } from '../lib/phases.js';

interface Step {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

const tsx = (script: string, ...args: string[]): Pick<Step, 'cmd' | 'args'> => ({
  cmd: process.execPath,
  args: ['--import', 'tsx', script, ...args],
});
const npx = (...args: string[]): Pick<Step, 'cmd' | 'args'> => ({ cmd: 'npx', args: ['--no-install', ...args] });

// vitest's JSON report of the solution run, for verify's closing line.
const SUITE_REPORT = 'build/verify-tests.json';

export const STEPS: readonly Step[] = [
  { name: 'typecheck', ...npx('tsc', '--noEmit', '-p', 'tsconfig.json') },
  { name: 'build (skeletons and solutions)', ...tsx('tools/build.ts', '--all') },
  {
    name: 'every suite against the solutions',
    ...npx('vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${SUITE_REPORT}`),
    env: { MINIRAY_IMPL: 'solution', MINIRAY_SKIP_BUILD: '1' },
  },
  {
    name: 'reference self-tests',
    ...npx('vitest', 'run', '--config', 'vitest.selftest.config.ts'),
    env: { MINIRAY_IMPL: 'solution', MINIRAY_SKIP_BUILD: '1' },
  },
  // ASan + UBSan build of every reference and native-common (build/sanitize/), then every suite.
  { name: 'sanitizers (ASan + UBSan): every suite against the solutions', ...tsx('tools/sanitize.ts') },
  // The references killed at every crash point (solutions/*/crash; instructor-only, not graded).
  {
    name: 'crash points against the solutions',
    ...npx('vitest', 'run', '/crash/'),
    env: { MINIRAY_IMPL: 'solution', MINIRAY_CRASH_SUITES: '1', MINIRAY_SKIP_BUILD: '1' },
  },
  // The watchdog, the grader, stress, the autograder: each on a scratch copy with planted faults.
  { name: 'the grading tools\' own tests', ...npx('vitest', 'run', '--config', 'tools/test/vitest.config.ts') },
  { name: 'course self-check', ...tsx('tools/course.ts', 'check') },
  { name: 'docs build', ...tsx('tools/docs/build.ts') },
  { name: 'docs browser test', ...tsx('tools/docs/browser-test.ts') },
  // Benchmarks run, but nothing is timed-asserted: only that they complete and write a sane report.
  {
    name: 'benchmarks run (--quick)',
    ...tsx('tools/bench/main.ts', '--quick', '--solution', '--out', 'build/bench-report.quick.json'),
    env: { MINIRAY_SKIP_BUILD: '1' },
  },
  { name: 'bench report well-formed', ...tsx('tools/bench/check-report.ts', 'build/bench-report.quick.json', '--expect-ok') },
  // mini-Ray's demo, small: it exits 1 unless one process, mini-Ray and Node IPC give the same
  // checksums (its times are printed, never asserted).
  {
    name: 'mini-Ray demo (--quick, checksums)',
    ...tsx('runtime/demo/main.ts', '--quick', '--solution', '--out', 'build/demo-verify'),
    env: { MINIRAY_SKIP_BUILD: '1' },
  },
];

// The student release has no solutions/: its verify checks the installation (types, the skeletons
// compile, the site builds and renders). The tests themselves fail there until the student works.
const RELEASE_STEPS: readonly Step[] = STEPS.filter((s) =>
  ['typecheck', 'build (skeletons and solutions)', 'docs build', 'docs browser test'].includes(s.name),
);

function main(): number {
  const started = Date.now();
  const steps = hasSolutions() ? STEPS : RELEASE_STEPS;
  if (steps === RELEASE_STEPS) {
    console.log('verify: this is the student release (no solutions/): checking the installation only;');
    console.log('        `npm start` and `npm test -- phase1` show how far your code is.');
  }
  for (const step of steps) {
    const t0 = Date.now();
    console.log(`\n=== verify: ${step.name} ===`);
    const r = spawnSync(step.cmd, [...step.args], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: { ...process.env, ...step.env },
    });
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (r.status !== 0) {
      console.error(`\nverify FAILED at '${step.name}' after ${secs}s (exit ${r.status ?? r.signal})`);
      return 1;
    }
    console.log(`--- ${step.name}: ok (${secs}s)`);
  }
  console.log(`\nverify: all ${steps.length} steps passed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  // The plain closing line CI reads: how many tests ran in the solution run.
  const report = join(REPO_ROOT, SUITE_REPORT);
  if (steps === STEPS && existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number };
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  }
  return 0;
}

process.exitCode = main();
