// Checks of a student release, as a fresh student would meet it: it holds no answer, it typechecks
// and builds, its public tests fail on the skeletons with "not implemented" (no load error, no
// crash, no pass), its `npm run submit` tells the skeleton from the student's work without git,
// and a later staged export adds the next phase without touching the student's files.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { COURSE_PHASES, type PhaseId, type PhaseInfo } from '../../lib/phases.js';
import { gradablePhases } from './grade-tree.js';
import { findAnswerLeaks } from './leaks.js';
import { isHiddenFile } from './manifest.js';
import { exportRelease } from './release.js';
import { runSuites, type TestOutcome } from './run.js';
import { color } from './score.js';

export interface ReleaseCheck {
  readonly problems: string[];
  readonly summary: string;
}

const firstLine = (t: TestOutcome): string => {
  const line = t.errors.join('\n').split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 150 ? `${line.slice(0, 149)}…` : line;
};
const secs = (ms: number): string => `${(ms / 1000).toFixed(0)} s`;

function tsx(root: string, args: readonly string[]): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
}

// Runs the release's public suites of `phases` against its skeletons (with `typecheck`, first the
// release's typecheck and site build). With `quickBuild`, the release is compiled at -O0 (make's
// CXXFLAGS, after binding.gyp's -O3): the same sources, headers and targets, so a missing file or a
// compile error shows all the same, for about two thirds of the compiler's CPU; the skeletons' tests
// fail with "not implemented" at any -O.
export async function checkReleaseTree(out: string, phases: readonly PhaseInfo[], options: { typecheck?: boolean; quickBuild?: boolean } = {}): Promise<ReleaseCheck> {
  const t0 = Date.now();
  const problems: string[] = [];
  if (existsSync(join(out, 'solutions'))) problems.push('the release contains solutions/');
  const gyp = readFileSync(join(out, 'binding.gyp'), 'utf8');
  if (/_solution['"]/.test(gyp)) problems.push('binding.gyp still has *_solution targets');
  const readme = readFileSync(join(out, 'README.md'), 'utf8');
  for (const word of ['solutions/', 'test:solution', 'course --', 'instructor']) {
    if (readme.includes(word)) problems.push(`the release's README.md, written for students, mentions '${word}'`);
  }
  if (options.typecheck === true) {
    // What the release's own `npm run verify` checks first: the TypeScript, and the lesson site.
    const tc = spawnSync(process.execPath, [join(out, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', 'tsconfig.json'], { cwd: out, encoding: 'utf8' });
    if (tc.status !== 0) problems.push(`does not typecheck:\n      ${`${tc.stdout}${tc.stderr}`.trim().split('\n').slice(0, 8).join('\n      ')}`);
    const docs = tsx(out, ['tools/docs/build.ts']);
    if (docs.status !== 0) problems.push(`its lesson site does not build:\n      ${`${String(docs.stdout)}${String(docs.stderr)}`.trim().split('\n').slice(-8).join('\n      ')}`);
    rmSync(join(out, 'docs', 'dist'), { recursive: true, force: true });
  }
  const releasePhases = gradablePhases(out, phases);
  const run = await runSuites({
    root: out,
    impl: 'student',
    phases: releasePhases,
    hidden: true,
    ...(options.quickBuild === true ? { buildEnv: { CXXFLAGS: '-O0', CFLAGS: '-O0' } } : {}),
  });
  for (const b of run.builds) if (!b.ok) problems.push(`${b.target} does not compile in the release: ${b.diagnostics[0] ?? ''}`);
  for (const t of run.tests) {
    if (isHiddenFile(t.file)) problems.push(`a hidden suite ran in the release: ${t.file}`);
    if (t.state === 'passed') problems.push(`passes on the release's skeleton: ${t.file} > ${t.name}`);
    else if (!/not implemented|ERR_NOT_IMPLEMENTED/.test(t.errors.join('\n'))) {
      problems.push(`fails on the release's skeleton without "not implemented": ${t.file} > ${t.name}: ${firstLine(t)}`);
    }
  }
  for (const [file, errs] of run.moduleErrors) problems.push(`${file} does not load in the release: ${errs[0] ?? ''}`);
  if (run.tests.length === 0) problems.push('the release collected no test');
  const grade = tsx(out, ['tools/grade.ts', '--solution']);
  if (grade.status === 0 || !/not part of the student release/.test(String(grade.stderr))) {
    problems.push(`npm run grade -- --solution in the release should say solutions are not part of it (exit ${grade.status}): ${String(grade.stderr).trim()}`);
  }
  const byPhase = releasePhases.map((p) => `${p.id} ${run.tests.filter((t) => t.file.startsWith(`${p.dir}/`)).length}`).join(', ');
  return {
    problems,
    summary: `public tests (${byPhase}): ${run.tests.filter((t) => t.state !== 'passed').length}/${run.tests.length} fail, as the skeletons should  ${color.dim(secs(Date.now() - t0))}`,
  };
}

// `npm run submit` in a release without .git: every file unchanged right after the export, and the
// one the student edited (then committed, which fooled a comparison with git HEAD) reported as changed.
function checkSubmit(out: string, phase: PhaseInfo, edited: string): string[] {
  const problems: string[] = [];
  const r = tsx(out, ['tools/submit.ts', phase.id, '--out', join(out, 'submission.tgz')]);
  const said = `${String(r.stdout)}${String(r.stderr)}`;
  if (r.status !== 0) return [`npm run submit -- ${phase.id} failed in the release: ${said.trim()}`];
  for (const f of phase.studentFiles) {
    const line = said.split('\n').find((l) => l.includes(f)) ?? '';
    const unchanged = line.includes('unchanged from the skeleton');
    if (f === edited && unchanged) problems.push(`npm run submit calls ${f} unchanged from the skeleton although the student edited it`);
    if (f !== edited && !unchanged) problems.push(`npm run submit does not call the untouched ${f} unchanged from the skeleton: '${line.trim()}'`);
  }
  rmSync(join(out, 'submission.tgz'), { force: true });
  return problems;
}

// The staged release, end to end: the first phase alone, a student's edit, then the rest.
export async function checkStagedRelease(course: string, failures: string[]): Promise<void> {
  const first = COURSE_PHASES[0];
  const last = COURSE_PHASES.at(-1);
  if (first === undefined || last === undefined) return;
  const out = join(tmpdir(), `miniray-release-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const report = (label: string, problems: readonly string[]): void => {
    for (const p of problems) console.log(color.red(`    ✗ ${p}`));
    failures.push(...problems.map((p) => `release ${label}: ${p}`));
  };
  try {
    // 1. The first phase alone.
    const r1 = exportRelease(course, out, { through: first.id });
    symlinkSync(join(course, 'node_modules'), join(out, 'node_modules'), 'dir');
    const leaks1 = findAnswerLeaks(course, out, first.id);
    const c1 = await checkReleaseTree(out, [first], { typecheck: true, quickBuild: true });
    console.log(`    --through ${first.id}: ${r1.files} files, ${leaks1.length} lines of an answer; ${c1.summary}`);
    report(`--through ${first.id}`, [...leaks1.slice(0, 10).map((l) => `${l.file}:${l.line} holds a line of ${l.answer}: ${l.text}`), ...c1.problems]);
    // 2. The student works (and commits, were it a git checkout): submit must see it.
    const edited = first.studentFiles.at(-1) ?? '';
    const mark = '// a student was here\n';
    appendFileSync(join(out, edited), mark);
    report('submit', checkSubmit(out, first, edited));
    if (last.id === first.id) return;
    // 3. The next export adds the rest and leaves the student's files alone.
    const r2 = exportRelease(course, out, { through: last.id });
    const kept = readFileSync(join(out, edited), 'utf8').endsWith(mark);
    const leaks2 = findAnswerLeaks(course, out, last.id);
    const added = COURSE_PHASES.filter((p) => r2.added.includes(p.id as PhaseId));
    const c2 = await checkReleaseTree(out, added, { quickBuild: true });
    console.log(`    then --through ${last.id}: added ${r2.added.join(', ')}, kept ${r2.kept.length} student files; ${leaks2.length} lines of an answer; ${c2.summary}`);
    report(`--through ${last.id}`, [
      ...(kept ? [] : [`the later export overwrote ${edited}, which the student had edited`]),
      ...leaks2.slice(0, 10).map((l) => `${l.file}:${l.line} holds a line of ${l.answer}: ${l.text}`),
      ...c2.problems,
    ]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
