// npm run course: instructor tooling.
//
//   npm run course -- check [phaseN ...] [--jobs N] [--no-release | --release-only] [--suites-from EVENTS]
//                           [--solutions-only | --no-solutions] [--skeletons-hidden-only]
//       the self-check (part of npm run verify), in the manner of Brown's Examplar:
//       (a) every solution passes every suite, and the manifest of graded tests is up to date;
//       (b) every graded test fails on the untouched skeleton (the student files as committed);
//       (c) every mutant under solutions/mutants/<phase>/<name>/ (the reference with one plausible
//           bug) fails at least one hidden test; the report names the tests that caught it;
//       (d) the student release builds, and its public suites fail only with "not implemented".
//       --no-release leaves (d) out, --release-only runs (d) alone (verify runs the two side by side).
//       --suites-from EVENTS takes (a)'s run from the events file of a vitest run made with
//       testkit/grade-reporter.ts (verify's suites step) instead of running every suite again;
//       --solutions-only runs (a) alone, --no-solutions leaves it out (verify: (a) in its suites lane,
//       reading that run; (b) and (c) in another lane).
//       --skeletons-hidden-only runs (b) on the hidden suites alone: for a run beside (d), which runs
//       every public suite against the same committed skeletons, in the release, and demands more
//       of each test (it fails, and with "not implemented"); verify runs the two side by side.
//   npm run course -- manifest [phaseN ...]
//       regenerates tools/grading/manifests/<phase>.json from a run against the solutions
//   npm run course -- export OUT [--through phaseN] [--check] [--force]
//       writes the student release to OUT (with --through, the phases up to phaseN; exported again
//       into the same OUT, it adds the next phases and keeps the student's files); --check then
//       runs `npm install`, the typecheck and the public suites there
//   npm run course -- autograder phaseN OUT.zip [--minutes N]
//       writes the Gradescope autograder for a phase (N: the timeout set on Gradescope, default 10)
//       (setup.sh, run_autograder, the course and the phase's hidden suites); run_autograder always
//       writes results/results.json
//   npm run course -- mutants
//       lists the mutants and the bug each one plants
//   npm run course -- mutate phaseN [--seed S] [--max N] [--budget-seconds T] [--jobs N] [...]
//       mutation testing of the suites: mutants derived from the reference, a score and every
//       survivor (tools/grading/mutation/mutate.ts; --help lists the options)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

import { PHASES, REPO_ROOT, hasSolutions, type PhaseId, type PhaseInfo } from '../lib/phases.js';
import { committedFile, type Scratch } from './grading/course-files.js';
import { gradablePhases } from './grading/grade-tree.js';
import { isHiddenFile, loadChecklist, manifestDiff, manifestFromRun, readManifest, writeManifest } from './grading/manifest.js';
import { checkMutants, loadMutants, type MutantVerdict } from './grading/mutation/hand-mutants.js';
import { mutateCommand } from './grading/mutation/mutate.js';
import { ScratchPool } from './grading/mutation/runner.js';
import { buildAutograder } from './grading/autograder.js';
import { exportRelease } from './grading/release.js';
import { checkReleaseTree, checkStagedRelease } from './grading/release-check.js';
import { hiddenSuitesPresent, runSuites, suiteRunFromEvents, type SuiteRun, type TestOutcome } from './grading/run.js';
import { color } from './grading/score.js';

const ok = (s: string): string => color.green(s);
const bad = (s: string): string => color.red(s);

function withSolutions(phases: readonly PhaseInfo[]): PhaseInfo[] {
  return phases.filter((p) => existsSync(join(REPO_ROOT, 'solutions', p.dir, 'src')));
}

function selectedPhases(argv: readonly string[]): PhaseInfo[] {
  const ids = argv.filter((a) => /^phase\d$/.test(a));
  for (const id of ids) if (!PHASES.some((p) => p.id === id)) throw new Error(`unknown phase ${id}`);
  return gradablePhases(REPO_ROOT, PHASES.filter((p) => ids.length === 0 || ids.includes(p.id)));
}

function skeletonFiles(phases: readonly PhaseInfo[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const p of phases) {
    for (const rel of p.studentFiles) {
      const content = committedFile(REPO_ROOT, rel);
      if (content !== undefined) files.set(rel, content);
    }
  }
  return files;
}

const graded = (run: SuiteRun): TestOutcome[] => run.tests.filter((t) => t.graded !== undefined);
const firstLine = (t: TestOutcome): string => {
  const line = t.errors.join('\n').split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 150 ? `${line.slice(0, 149)}…` : line;
};
const secs = (ms: number): string => `${(ms / 1000).toFixed(0)} s`;

// ---- (a) solutions ---------------------------------------------------------------------------------

async function checkSolutions(phases: readonly PhaseInfo[], failures: string[], suitesFrom: string | undefined): Promise<void> {
  console.log(color.bold(`\n(a) every solution passes every suite (public and hidden)${suitesFrom === undefined ? '' : `: the run recorded in ${suitesFrom}`}`));
  let run: SuiteRun;
  if (suitesFrom === undefined) {
    run = await runSuites({ root: REPO_ROOT, impl: 'solution', phases, hidden: true });
  } else {
    if (!existsSync(suitesFrom)) {
      failures.push(`${suitesFrom} does not exist: run the suites with testkit/grade-reporter.ts and MINIRAY_GRADE_EVENTS first`);
      return;
    }
    run = suiteRunFromEvents(suitesFrom, { impl: 'solution', phases, hidden: true });
    if (run.stopped !== undefined) failures.push(run.stopped);
    for (const p of phases) {
      if (!run.tests.some((t) => t.file.includes(`${p.dir}/`))) failures.push(`${suitesFrom} holds no test of ${p.id}: the run left its suites out`);
      if (!run.tests.some((t) => t.file.startsWith(`solutions/${p.dir}/hidden/`)) && hiddenSuitesPresent(REPO_ROOT, p)) {
        failures.push(`${suitesFrom} holds no hidden test of ${p.id}: the run left solutions/${p.dir}/hidden out`);
      }
    }
  }
  const failed = run.tests.filter((t) => t.state !== 'passed');
  for (const b of run.builds) if (!b.ok) failures.push(`solution ${b.target} does not compile:\n    ${b.diagnostics.join('\n    ')}`);
  for (const t of failed) failures.push(`solution fails ${t.file} > ${t.fullName}: ${firstLine(t)}`);
  for (const [file, errs] of run.moduleErrors) failures.push(`solution run: ${file} failed: ${errs[0] ?? ''}`);
  const ungraded = run.tests.filter((t) => t.graded === undefined);
  for (const t of ungraded) failures.push(`${t.file} > ${t.fullName} is not graded(): every test names a checklist item`);
  console.log(`    ${run.tests.length - failed.length}/${run.tests.length} tests pass  ${color.dim(secs(run.durationMs))}`);
  for (const t of failed) console.log(bad(`    ✗ ${t.file} > ${t.name}: ${firstLine(t)}`));
  for (const phase of phases) {
    const fresh = manifestFromRun(run, phase);
    const checklist = (await loadChecklist(REPO_ROOT, phase)) ?? [];
    for (const item of checklist) {
      if (!fresh.tests.some((t) => t.item === item.id)) failures.push(`${phase.id}: checklist item ${item.id} has no graded test`);
    }
    const diff = manifestDiff(readManifest(REPO_ROOT, phase.id), fresh);
    const counts = `${fresh.tests.length} graded tests: ${fresh.tests.filter((t) => !t.hidden).length} public, ${fresh.tests.filter((t) => t.hidden).length} hidden`;
    if (diff.length === 0) {
      console.log(`    manifest ${phase.id}: up to date (${counts})`);
    } else {
      console.log(bad(`    manifest ${phase.id}: stale (${counts}); run npm run course -- manifest`));
      for (const d of diff.slice(0, 10)) console.log(`      ${d}`);
      failures.push(`tools/grading/manifests/${phase.id}.json is stale: run npm run course -- manifest`);
    }
  }
}

// ---- (b) skeletons --------------------------------------------------------------------------------

async function checkSkeletons(phases: readonly PhaseInfo[], scratch: Scratch, failures: string[], hiddenOnly: boolean): Promise<void> {
  console.log(color.bold(`\n(b) every graded test fails on the untouched skeletons${hiddenOnly ? ': the hidden ones (the public ones in the release, (d))' : ''}`));
  scratch.overlay(skeletonFiles(phases));
  const run = await runSuites({ root: scratch.root, impl: 'student', phases, hidden: true, hiddenOnly });
  for (const b of run.builds) if (!b.ok) failures.push(`skeleton ${b.target} does not compile:\n    ${b.diagnostics.join('\n    ')}`);
  const tests = graded(run);
  const passing = tests.filter((t) => t.state === 'passed');
  console.log(`    ${tests.length - passing.length}/${tests.length} graded tests fail  ${color.dim(secs(run.durationMs))}`);
  for (const t of passing) {
    console.log(bad(`    ✗ passes on the skeleton: ${t.file} > ${t.name}`));
    failures.push(`passes on the untouched skeleton: ${t.file} > ${t.fullName}`);
  }
  if (tests.length === 0) failures.push('the skeleton run collected no graded test');
}

// ---- (d) the release -------------------------------------------------------------------------------

async function checkRelease(failures: string[]): Promise<void> {
  console.log(color.bold('\n(d) the student release, staged: no answer in it, it builds, its public tests fail with "not implemented"'));
  await checkStagedRelease(REPO_ROOT, failures);
}

// ---- commands ---------------------------------------------------------------------------------------

async function check(argv: readonly string[]): Promise<number> {
  const t0 = Date.now();
  if (!hasSolutions()) {
    console.error('course check needs solutions/: it is not part of the student release.');
    return 2;
  }
  if (argv.includes('--release-only')) {
    const failures: string[] = [];
    await checkRelease(failures);
    const seconds = ((Date.now() - t0) / 1000).toFixed(0);
    if (failures.length > 0) {
      console.log(bad(color.bold(`\ncourse check (the release) FAILED (${failures.length} problems, ${seconds} s):`)));
      for (const f of failures) console.log(bad(`  - ${f}`));
      return 1;
    }
    console.log(ok(color.bold(`\ncourse check (the release) passed (${seconds} s)`)));
    return 0;
  }
  const jobsArg = argv.indexOf('--jobs');
  const jobs = Math.max(1, jobsArg >= 0 ? Number(argv[jobsArg + 1]) || 1 : 2);
  const gradable = selectedPhases(argv);
  const phases = withSolutions(gradable);
  for (const p of gradable) if (!phases.includes(p)) console.log(color.yellow(`note: ${p.id} has no solutions/${p.dir}/src yet: skipped`));
  if (phases.length === 0) {
    console.error('nothing to check');
    return 1;
  }
  console.log(color.bold(`course check: ${phases.map((p) => p.id).join(', ')}`));
  const failures: string[] = [];
  const at = argv.indexOf('--suites-from');
  const suitesFrom = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && (suitesFrom === undefined || suitesFrom.startsWith('--'))) {
    console.error('--suites-from: the events file of a run with testkit/grade-reporter.ts');
    return 2;
  }
  const solutionsOnly = argv.includes('--solutions-only');
  if (!argv.includes('--no-solutions')) await checkSolutions(phases, failures, suitesFrom === undefined ? undefined : resolve(process.env.INIT_CWD ?? process.cwd(), suitesFrom));
  if (!solutionsOnly) {
    let verdicts: MutantVerdict[] = [];
    const pool = await ScratchPool.open(jobs, 'check');
    try {
      const first = pool.slots[0];
      if (first !== undefined) await checkSkeletons(phases, first.scratch, failures, argv.includes('--skeletons-hidden-only'));
      verdicts = await checkMutants(phases, pool, failures);
    } finally {
      pool.dispose();
    }
    if (!argv.includes('--no-release')) await checkRelease(failures);
    const caught = verdicts.filter((v) => v.caught).length;
    console.log(color.bold(`\nmutants: ${caught}/${verdicts.length} caught`));
  }
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  if (failures.length > 0) {
    console.log(bad(color.bold(`\ncourse check FAILED (${failures.length} problems, ${seconds} s):`)));
    for (const f of failures) console.log(bad(`  - ${f}`));
    return 1;
  }
  console.log(ok(color.bold(`\ncourse check passed (${seconds} s)`)));
  return 0;
}

async function manifest(argv: readonly string[]): Promise<number> {
  if (!hasSolutions()) {
    console.error('course manifest needs solutions/: it is not part of the student release.');
    return 2;
  }
  const phases = withSolutions(selectedPhases(argv));
  const run = await runSuites({ root: REPO_ROOT, impl: 'solution', phases, hidden: true });
  const failed = run.tests.filter((t) => t.state !== 'passed');
  if (failed.length > 0 || run.builds.some((b) => !b.ok)) {
    console.error(bad('the solutions do not pass every suite; fix them first:'));
    for (const t of failed) console.error(`  ${t.file} > ${t.name}: ${firstLine(t)}`);
    for (const b of run.builds.filter((x) => !x.ok)) console.error(`  ${b.target}: ${b.diagnostics.join('\n  ')}`);
    return 1;
  }
  for (const p of phases) {
    const m = manifestFromRun(run, p);
    if (m.tests.length === 0) {
      console.log(color.yellow(`${p.id}: no graded test collected: no manifest written`));
      continue;
    }
    writeManifest(REPO_ROOT, m);
    console.log(`tools/grading/manifests/${p.id}.json: ${m.tests.length} graded tests (${m.tests.filter((t) => !t.hidden).length} public, ${m.tests.filter((t) => t.hidden).length} hidden)`);
  }
  return 0;
}

async function exportCommand(argv: readonly string[]): Promise<number> {
  const target = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--through');
  const at = argv.indexOf('--through');
  const through = at >= 0 ? argv[at + 1] : undefined;
  if (target === undefined || (at >= 0 && (through === undefined || !/^phase\d+$/.test(through)))) {
    console.error('usage: npm run course -- export OUT [--through phaseN] [--check] [--force]');
    return 2;
  }
  if (!hasSolutions()) console.log(color.yellow('note: this is already a student release'));
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), target);
  const inside = relative(REPO_ROOT, out);
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside) && !/^(out|\.scratch)(\/|$)/.test(inside))) {
    console.error(`refusing to export into the course itself (${out}); use a directory outside it, or out/`);
    return 2;
  }
  const r = exportRelease(REPO_ROOT, out, { force: argv.includes('--force'), ...(through === undefined ? {} : { through: through as PhaseId }) });
  console.log(`exported the student release to ${out}: ${r.phases.join(', ')} (${r.files} files; no solutions/, hidden suites or mutants)`);
  if (r.kept.length > 0) console.log(`added ${r.added.join(', ') || 'nothing new'}; kept the student's ${r.kept.length} files of ${r.phases.filter((p) => !r.added.includes(p)).join(', ')} as they are`);
  for (const n of r.notes) console.log(color.yellow(`note: ${n}`));
  if (!argv.includes('--check')) return 0;
  console.log(color.dim('checking it: npm install, then the public suites against the skeletons...'));
  const lock = existsSync(join(out, 'package-lock.json'));
  const install = spawnSync('npm', [lock ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: out, stdio: 'inherit' });
  if (install.status !== 0) {
    console.error(bad(`npm ${lock ? 'ci' : 'install'} failed in ${out}`));
    return 1;
  }
  const c = await checkReleaseTree(out, PHASES.filter((p) => r.added.includes(p.id)), { typecheck: true });
  console.log(c.summary);
  for (const p of c.problems) console.log(bad(`✗ ${p}`));
  console.log(c.problems.length === 0 ? ok('the release checks out') : bad('the release has problems'));
  return c.problems.length === 0 ? 0 : 1;
}

function autograderCommand(argv: readonly string[]): number {
  const phase = PHASES.find((p) => p.id === argv.find((a) => /^phase\d+$/.test(a)));
  const target = argv.find((a) => a.endsWith('.zip'));
  if (phase === undefined || target === undefined) {
    console.error('usage: npm run course -- autograder phaseN OUT.zip [--minutes N (Gradescope\'s timeout, default 10)]');
    return 2;
  }
  if (!hiddenSuitesPresent(REPO_ROOT, phase)) {
    console.error(`${phase.id} has no hidden suites (solutions/${phase.dir}/hidden): an autograder needs them`);
    return 2;
  }
  const at = argv.indexOf('--minutes');
  const minutes = at >= 0 ? Number(argv[at + 1]) : 10;
  if (!(minutes >= 2)) {
    console.error('--minutes: the timeout set on Gradescope, 2 or more');
    return 2;
  }
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), target);
  const r = buildAutograder(REPO_ROOT, phase, minutes);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, r.zip);
  console.log(`wrote ${out}: the Gradescope autograder for ${phase.id} (${r.files} course files, ${(r.zip.length / 1024).toFixed(0)} KiB)`);
  console.log(color.dim('upload it as a zip autograder; the submission is the .tgz of npm run submit, or the student files themselves'));
  return 0;
}

function mutantsCommand(): number {
  for (const p of PHASES) {
    for (const m of loadMutants(p)) {
      console.log(`${m.name.padEnd(32)} ${m.bug}${m.problems.length > 0 ? bad(`  [${m.problems.join('; ')}]`) : ''}`);
    }
  }
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'check':
      return check(rest);
    case 'manifest':
      return manifest(rest);
    case 'export':
      return exportCommand(rest);
    case 'mutants':
      return mutantsCommand();
    case 'mutate':
      return mutateCommand(rest);
    case 'autograder':
      return autograderCommand(rest);
    default:
      console.error('usage: npm run course -- check [phaseN ...] [--jobs N] [--no-release | --release-only] [--suites-from EVENTS] [--solutions-only | --no-solutions] [--skeletons-hidden-only] | manifest [phaseN ...] | export OUT [--through phaseN] [--check] [--force] | autograder phaseN OUT.zip [--minutes N] | mutants | mutate phaseN [--help]');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exitCode = 1;
  },
);
