// npm run verify: everything CI checks, stopping at the first failure.
//
//   typecheck -> build every target, then three lanes side by side:
//     suites:   every suite (public and hidden) against the solutions, once -> the course check's (a)
//               on that run (nothing fails, every test graded(), every checklist item tested, the
//               manifests up to date) -> the reference self-tests -> the crash points (every point,
//               a seeded sample of its passages) -> the grading tools' own tests -> the staged
//               student releases
//     course:   the course check's (b) and (c): the skeletons fail every graded test, every mutant
//               is caught
//     reports:  each phase's suites under ASan + UBSan -> the docs site built and tried in a browser
//               -> the benchmarks and the demo, small
//
// The lanes share nothing but the CPU: each step works in its own build directory or scratch copy,
// and test segments carry the pid that made them (cleanup never touches another run's). On 2 cores
// the machine is CPU-bound, so what shortens verify is CPU saved; the lanes only keep both cores
// busy. Each step's wall and CPU seconds are printed when it ends and in the closing table. A step's
// output is kept in build/verify/<step>.log and printed whole when the step ends, so the output reads
// as one step after another; the first failure stops every lane and its log is printed last.
//
//   npm run verify                      the lanes
//   npm run verify -- --serial          one step at a time, output live (the way to read a failure slowly)
//   npm run verify -- --every-passage   the crash points killed at every passage, not a sample
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT, hasSolutions } from '../lib/phases.js';
import { CRASH_SAMPLE_ENV } from '../testkit/crash-points.js';
import { GRADE_EVENTS_ENV } from '../testkit/grade-events.js';
import { removeStaleTestSegments } from '../testkit/segments.js';

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
// The same run's grade events (testkit/grade-reporter.ts: every test with its checklist item and
// result), which the course check's (a) reads instead of running every suite a second time.
const SUITE_EVENTS = join(REPO_ROOT, 'build', 'verify-events.jsonl');
const LOG_DIR = 'build/verify';

const TYPECHECK: Step = { name: 'typecheck', ...npx('tsc', '--noEmit', '-p', 'tsconfig.json') };
const BUILD: Step = { name: 'build (skeletons and solutions)', ...tsx('tools/build.ts', '--all') };
const SUITES: Step = {
  name: 'every suite against the solutions',
  ...npx(
    'vitest',
    'run',
    // The watchdog's marker first (it fails the tests a dead test process took with it), as the
    // grader runs it; the grade events last.
    `--reporter=${join(REPO_ROOT, 'testkit', 'watchdog', 'reporter.ts')}`,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${SUITE_REPORT}`,
    `--reporter=${join(REPO_ROOT, 'testkit', 'grade-reporter.ts')}`,
  ),
  env: { MINIRAY_IMPL: 'solution', MINIRAY_SKIP_BUILD: '1', [GRADE_EVENTS_ENV]: SUITE_EVENTS },
};
// (a) of the course check on that run: nothing failed, every test is graded(), every checklist item
// has a test, every manifest is up to date.
const MANIFESTS: Step = {
  name: 'course self-check: manifests and checklists (from the suites run)',
  ...tsx('tools/course.ts', 'check', '--solutions-only', '--suites-from', SUITE_EVENTS),
};
const SELF_TESTS: Step = {
  name: 'reference self-tests',
  ...npx('vitest', 'run', '--config', 'vitest.selftest.config.ts'),
  env: { MINIRAY_IMPL: 'solution', MINIRAY_SKIP_BUILD: '1' },
};
// ASan + UBSan build (-O0) of every reference and native-common (build/sanitize/), then each phase's
// public and hidden suites and the self-tests.
// Hidden suites only (they drive the same code as the public ones, harder): the public suites run
// in the suites step; `npx tsx tools/sanitize.ts` alone runs both under the sanitizers.
const SANITIZERS: Step = { name: "sanitizers (ASan + UBSan): each phase's hidden suites and self-tests", ...tsx('tools/sanitize.ts', '--hidden-only') };
// The references killed at every crash point (solutions/*/crash; instructor-only, not graded). Every
// point is killed, each at its first CRASH_SAMPLE passages, its last, and CRASH_SAMPLE more drawn
// with a fixed seed (testkit/crash-points.ts); `npm run verify -- --every-passage`, or the suite run
// alone (`MINIRAY_IMPL=solution MINIRAY_CRASH_SUITES=1 npx vitest run /crash/`), kills at every passage.
const CRASH_SAMPLE = process.argv.includes('--every-passage') ? {} : { [CRASH_SAMPLE_ENV]: '12' };
const CRASH_POINTS: Step = {
  name: 'crash points against the solutions',
  ...npx('vitest', 'run', '/crash/'),
  env: { MINIRAY_IMPL: 'solution', MINIRAY_CRASH_SUITES: '1', MINIRAY_SKIP_BUILD: '1', ...CRASH_SAMPLE },
};
// The watchdog, the grader, stress, the autograder: each on a scratch copy with planted faults.
const TOOL_TESTS: Step = { name: "the grading tools' own tests", ...npx('vitest', 'run', '--config', 'tools/test/vitest.config.ts') };
// (b) and (c): (a) is MANIFESTS, (d) is RELEASE_CHECK.
// (b) runs the hidden suites against the skeletons: (d) runs every public suite against the same
// committed skeletons, in the release (and wants each to fail with "not implemented").
// Mutants sampled: 6 of each phase's, drawn by the commit (MINIRAY_MUTANT_SAMPLE, in
// tools/grading/mutation/hand-mutants.ts); `npm run course -- check` runs all of them, and (b) on
// every suite.
const COURSE_CHECK: Step = {
  name: 'course self-check: skeletons (hidden suites), mutants (6 a phase, sampled by the commit)',
  ...tsx('tools/course.ts', 'check', '--no-release', '--no-solutions', '--skeletons-hidden-only'),
  env: { MINIRAY_MUTANT_SAMPLE: '6' },
};
const RELEASE_CHECK: Step = { name: 'course self-check: the staged student releases', ...tsx('tools/course.ts', 'check', '--release-only') };
const DOCS_BUILD: Step = { name: 'docs build', ...tsx('tools/docs/build.ts') };
const DOCS_BROWSER: Step = { name: 'docs browser test', ...tsx('tools/docs/browser-test.ts', '--sample-themes') };
// Benchmarks run, but nothing is timed-asserted: only that they complete and write a sane report.
const BENCH: Step = {
  name: 'benchmarks run (--quick)',
  ...tsx('tools/bench/main.ts', '--quick', '--solution', '--out', 'build/bench-report.quick.json'),
  env: { MINIRAY_SKIP_BUILD: '1' },
};
const BENCH_CHECK: Step = { name: 'bench report well-formed', ...tsx('tools/bench/check-report.ts', 'build/bench-report.quick.json', '--expect-ok') };
// mini-Ray's demo, small: it exits 1 unless one process, mini-Ray and Node IPC give the same
// checksums (its times are printed, never asserted).
const DEMO: Step = {
  name: 'mini-Ray demo (--quick, checksums)',
  ...tsx('runtime/demo/main.ts', '--quick', '--solution', '--out', 'build/demo-verify'),
  env: { MINIRAY_SKIP_BUILD: '1' },
};

// What must pass before any lane starts, then the lanes.
const FIRST: readonly Step[] = [TYPECHECK, BUILD];
const LANES: readonly (readonly Step[])[] = [
  [SUITES, MANIFESTS, SELF_TESTS, CRASH_POINTS, RELEASE_CHECK],
  [COURSE_CHECK, TOOL_TESTS],
  [SANITIZERS, DOCS_BUILD, DOCS_BROWSER, BENCH, BENCH_CHECK, DEMO],
];
export const STEPS: readonly Step[] = [...FIRST, ...LANES.flat()];

// The student release has no solutions/: its verify checks the installation (types, the skeletons
// compile, the site builds and renders). The tests themselves fail there until the student works.
const RELEASE_STEPS: readonly Step[] = [TYPECHECK, BUILD, DOCS_BUILD, DOCS_BROWSER];

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

interface Outcome {
  readonly step: Step;
  readonly ok: boolean;
  readonly ms: number;
  readonly cpuMs: number | undefined; // user + system CPU of everything the step ran
  readonly exit: string;
}

// Every step runs under bash, whose `times` then writes to fd 3 the user and system CPU time of all
// the step's processes (its reaped descendants, as getrusage(RUSAGE_CHILDREN) counts them). On a
// loaded machine a step's wall time says little; its CPU seconds say where verify's time goes.
const underTimes = (step: Step): { cmd: string; args: string[] } => ({
  cmd: 'bash',
  args: ['-c', '"$@"; rc=$?; times >&3; exit $rc', 'bash', step.cmd, ...step.args],
});

// `times` prints two lines, the shell's own and its children's: "0m1.250s 0m0.310s".
function readCpuMs(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, 'utf8').trim().split('\n')[1] ?? '';
  rmSync(file, { force: true });
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(line.trim());
  if (m === null) return undefined;
  return (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

const took = (o: Outcome): string => `${secs(o.ms)} wall${o.cpuMs === undefined ? '' : `, ${secs(o.cpuMs)} cpu`}`;

// One step with its output live (the serial mode and the steps before the lanes).
function runLive(step: Step): Outcome {
  const t0 = Date.now();
  console.log(`\n=== verify: ${step.name} ===`);
  mkdirSync(join(REPO_ROOT, LOG_DIR), { recursive: true });
  const cpuFile = `${logFile(step)}.cpu`;
  const cpuFd = openSync(cpuFile, 'w');
  const { cmd, args } = underTimes(step);
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, stdio: ['inherit', 'inherit', 'inherit', cpuFd], env: { ...process.env, ...step.env } });
  closeSync(cpuFd);
  const outcome = { step, ok: r.status === 0, ms: Date.now() - t0, cpuMs: readCpuMs(cpuFile), exit: String(r.status ?? r.signal) };
  if (outcome.ok) console.log(`--- ${step.name}: ok (${took(outcome)})`);
  return outcome;
}

const logFile = (step: Step): string =>
  join(REPO_ROOT, LOG_DIR, `${step.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase()}.log`);

// Every running step's process group, so that a failure elsewhere can stop it.
const running = new Set<number>();
let stopping = false;

function stopAll(): void {
  stopping = true;
  for (const pgid of running) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

// One step with its output to its log, in its own process group.
function runLogged(step: Step, lane: number): Promise<Outcome> {
  const file = logFile(step);
  const fd = openSync(file, 'w');
  const cpuFile = `${file}.cpu`;
  const cpuFd = openSync(cpuFile, 'w');
  const t0 = Date.now();
  console.log(`[lane ${lane}] started: ${step.name}`);
  const { cmd, args } = underTimes(step);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', fd, fd, cpuFd],
      // Colours as the terminal would get them (vitest takes any FORCE_COLOR, even 0, as yes).
      env: { ...process.env, ...step.env, ...(process.stdout.isTTY && process.env.FORCE_COLOR === undefined ? { FORCE_COLOR: '1' } : {}) },
      detached: true,
    });
    closeSync(fd);
    closeSync(cpuFd);
    if (child.pid !== undefined) running.add(child.pid);
    const done = (ok: boolean, exit: string): void => {
      if (child.pid !== undefined) running.delete(child.pid);
      resolve({ step, ok, ms: Date.now() - t0, cpuMs: readCpuMs(cpuFile), exit });
    };
    child.on('error', (e) => done(false, e.message));
    child.on('exit', (code, signal) => done(code === 0, String(code ?? signal)));
  });
}

function printLog(step: Step): void {
  const file = logFile(step);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  process.stdout.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
}

async function runLane(steps: readonly Step[], lane: number, outcomes: Outcome[]): Promise<boolean> {
  for (const step of steps) {
    if (stopping) return false;
    const o = await runLogged(step, lane);
    if (stopping) return false; // stopped by another lane's failure: that one reports
    outcomes.push(o);
    console.log(`\n=== verify: ${step.name} (lane ${lane}) ===`);
    if (!o.ok) {
      console.log(`[lane ${lane}] FAILED: ${step.name} (exit ${o.exit}); stopping the other lanes, its output follows last`);
      stopAll();
      return false;
    }
    printLog(step);
    console.log(`--- ${step.name}: ok (${took(o)})`);
  }
  return true;
}

// The table of the steps' times: wall, CPU (user + system of all its processes), lane.
function printTimes(outcomes: readonly Outcome[]): void {
  const laneOf = (step: Step): string => {
    const i = LANES.findIndex((l) => l.includes(step));
    return i < 0 ? '' : `  (lane ${i + 1})`;
  };
  console.log(`  ${'wall'.padStart(8)}  ${'cpu'.padStart(8)}  step`);
  for (const o of outcomes) {
    console.log(`  ${secs(o.ms).padStart(8)}  ${(o.cpuMs === undefined ? '?' : secs(o.cpuMs)).padStart(8)}  ${o.step.name}${laneOf(o.step)}`);
  }
  const cpu = outcomes.reduce((sum, o) => sum + (o.cpuMs ?? 0), 0);
  console.log(`  ${''.padStart(8)}  ${secs(cpu).padStart(8)}  CPU in all (on 2 cores the wall time cannot be less than half of it)`);
}

function closingLine(steps: readonly Step[]): void {
  // The plain closing line CI reads: how many tests ran in the solution run.
  const report = join(REPO_ROOT, SUITE_REPORT);
  if (steps.includes(SUITES) && existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number };
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const started = Date.now();
  const release = !hasSolutions();
  const serial = argv.includes('--serial') || release;
  const steps = release ? RELEASE_STEPS : STEPS;
  if (release) {
    console.log('verify: this is the student release (no solutions/): checking the installation only;');
    console.log('        `npm start` and `npm test -- phase1` show how far your code is.');
  }
  const total = (): string => secs(Date.now() - started);
  // The grade reporter appends: a file left by an earlier run would be read as part of this one.
  rmSync(SUITE_EVENTS, { force: true });

  if (serial) {
    const done: Outcome[] = [];
    for (const step of steps) {
      const o = runLive(step);
      if (!o.ok) {
        console.error(`\nverify FAILED at '${step.name}' after ${secs(o.ms)} (exit ${o.exit})`);
        return 1;
      }
      done.push(o);
    }
    console.log(`\nverify: all ${steps.length} steps passed in ${total()} (wall time; each step's wall and CPU seconds:)`);
    printTimes(done);
    closingLine(steps);
    return 0;
  }

  const first: Outcome[] = [];
  for (const step of FIRST) {
    const o = runLive(step);
    if (!o.ok) {
      console.error(`\nverify FAILED at '${step.name}' after ${secs(o.ms)} (exit ${o.exit})`);
      return 1;
    }
    first.push(o);
  }
  mkdirSync(join(REPO_ROOT, LOG_DIR), { recursive: true });
  console.log(`\nverify: ${LANES.length} lanes side by side (logs in ${LOG_DIR}/; \`npm run verify -- --serial\` runs one step at a time)`);
  const outcomes: Outcome[] = [];
  const onSignal = (): void => {
    stopAll();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const results = await Promise.all(LANES.map((lane, i) => runLane(lane, i + 1, outcomes)));
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  const failed = outcomes.find((o) => !o.ok);
  if (failed !== undefined || results.includes(false)) {
    // What the killed lanes' processes left in /dev/shm (segments carry their creator's pid).
    removeStaleTestSegments();
    if (failed !== undefined) {
      console.log(`\n=== verify: the output of the failed step: ${failed.step.name} ===`);
      printLog(failed.step);
      console.error(`\nverify FAILED at '${failed.step.name}' after ${secs(failed.ms)} (exit ${failed.exit}); ${total()} in all`);
    } else {
      console.error(`\nverify FAILED after ${total()}`);
    }
    return 1;
  }
  console.log(`\nverify: all ${steps.length} steps passed in ${total()} (wall time; each step's wall and CPU seconds:)`);
  printTimes([...first, ...outcomes]);
  closingLine(steps);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
