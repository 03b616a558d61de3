// npm run grade: the suites, scored. A points table per phase and grade-report.json in Gradescope's
// results.json shape.
//
//   npm run grade                          every phase, the student's code
//   npm run grade -- phase2                one phase
//   npm run grade -- phase1 --solution     the reference solution (instructors)
//   npm run grade -- --submission FILE|DIR a submission (npm run submit's .tgz, or a student tree):
//                                          only its student-editable files are taken, graded in a
//                                          scratch copy of this course
//   options: --out FILE (default grade-report.json)  --timeout SECONDS (whole run, default 1200)
//            --verbose (print every failing test's output)
//
// Whatever happens (a compile error, a crashing or hanging test), a report is written that says so.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { PHASES, REPO_ROOT, hasSolutions, type Impl, type PhaseId, type PhaseInfo } from '../lib/phases.js';
import { committedFile, makeScratch, type Scratch } from './grading/course-files.js';
import { gradablePhases, gradeTree, type GradeResult } from './grading/grade-tree.js';
import { color, fmt, gradescope, renderPhaseTable, type GradescopeResults, type PhaseScore } from './grading/score.js';
import { readSubmission, type Submission } from './grading/submission.js';

interface Args {
  readonly phases: PhaseId[];
  readonly impl: Impl;
  readonly submission: string | undefined;
  readonly out: string;
  readonly timeoutMs: number;
  readonly verbose: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const phases: PhaseId[] = [];
  let impl: Impl = 'student';
  let submission: string | undefined;
  let out = resolve(REPO_ROOT, 'grade-report.json');
  let timeoutMs = 20 * 60_000;
  let verbose = false;
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    if (/^phase\d$/.test(a)) {
      if (!PHASES.some((p) => p.id === a)) throw new Error(`unknown phase ${a} (known: ${PHASES.map((p) => p.id).join(', ')})`);
      phases.push(a as PhaseId);
    } else if (a === '--solution') impl = 'solution';
    else if (a === '--submission') submission = argv[++i];
    else if (a === '--out') out = resolve(argv[++i] ?? out);
    else if (a === '--timeout') timeoutMs = Number(argv[++i]) * 1000;
    else if (a === '--verbose') verbose = true;
    else throw new Error(`unknown argument '${a}'\nusage: npm run grade -- [phaseN ...] [--solution] [--submission FILE|DIR] [--out FILE] [--timeout S] [--verbose]`);
  }
  if (submission === '') throw new Error('--submission needs a file or directory');
  if (!(timeoutMs > 0)) throw new Error('--timeout needs a number of seconds');
  return { phases, impl, submission, out, timeoutMs, verbose };
}

function writeReport(file: string, report: GradescopeResults): void {
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

function failingTests(scores: readonly PhaseScore[], verbose: boolean): string[] {
  const lines: string[] = [];
  // A phase that does not compile fails every test the same way: its table shows the compiler's output.
  const failed = scores
    .filter((p) => p.build === undefined || p.build.ok)
    .flatMap((p) => p.items.flatMap((i) => i.tests.filter((t) => !t.passed)));
  const shown = verbose ? failed : failed.slice(0, 12);
  for (const t of shown) {
    const first = t.output.split('\n').find((l) => l.trim() !== '') ?? '';
    lines.push(`  ${color.red('✗')} ${t.phase.id} ${t.name}${t.hidden ? color.dim(' (hidden)') : ''}  ${color.dim(`-${fmt(t.maxScore)} points`)}`);
    if (verbose) lines.push(...t.output.split('\n').map((l) => `      ${l}`));
    else lines.push(color.dim(`      ${first.length > 160 ? `${first.slice(0, 159)}…` : first}`));
  }
  if (failed.length > shown.length) lines.push(color.dim(`  ... and ${failed.length - shown.length} more (grade-report.json has every output; --verbose prints them)`));
  return lines;
}

async function main(argv: readonly string[]): Promise<number> {
  const started = Date.now();
  const args = parseArgs(argv);
  const notes: string[] = [];
  if (args.impl === 'solution' && !hasSolutions()) {
    console.error('--solution: the reference solutions are not part of the student release.');
    return 2;
  }
  const hidden = hasSolutions();
  if (!hidden) notes.push('hidden suites are not part of this copy: only the public suites are graded (the final grade also runs hidden tests)');

  let submission: Submission | undefined;
  let scratch: Scratch | undefined;
  let root = REPO_ROOT;
  let phases: PhaseInfo[] = PHASES.filter((p) => args.phases.length === 0 || args.phases.includes(p.id));
  let result: GradeResult | undefined;
  let failure: string | undefined;
  try {
    if (args.submission !== undefined) {
      submission = readSubmission(args.submission, args.phases);
      phases = [...submission.phases];
      if (phases.length === 0) throw new Error(`${args.submission} holds no student-editable file of any phase`);
      console.log(`grading submission ${submission.source}: ${phases.map((p) => p.id).join(', ')}`);
      for (const f of submission.files.keys()) console.log(color.dim(`  taken: ${f}`));
      const overlay = new Map(submission.files);
      for (const f of submission.missing) {
        notes.push(`${f} is not in the submission: graded with the untouched skeleton`);
        const skeleton = committedFile(REPO_ROOT, f);
        if (skeleton !== undefined) overlay.set(f, skeleton);
      }
      for (const r of submission.refused) notes.push(`refused ${r}`);
      scratch = await makeScratch({ from: REPO_ROOT, reuseBuild: true, label: 'grade' });
      scratch.overlay(overlay);
      root = scratch.root;
    }
    const gradable = gradablePhases(root, phases);
    for (const p of phases) if (!gradable.includes(p)) notes.push(`${p.id} has no checklist or suites yet: not graded`);
    phases = gradable;
    if (phases.length === 0) throw new Error('nothing to grade');
    const label = args.impl === 'solution' ? 'the reference solution' : args.submission !== undefined ? 'the submission' : 'your code';
    console.log(color.dim(`building and running ${phases.map((p) => p.id).join(', ')} against ${label}${hidden ? ' (public and hidden suites)' : ' (public suites)'}...`));
    result = await gradeTree({ root, impl: args.impl, phases, hidden, totalTimeoutMs: args.timeoutMs });
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
  } finally {
    scratch?.dispose();
    submission?.dispose();
  }

  const seconds = (Date.now() - started) / 1000;
  if (result === undefined) {
    const text = `the grader could not grade this: ${failure ?? 'unknown error'}`;
    console.error(color.red(text));
    writeReport(args.out, {
      score: 0,
      max_score: phases.length * 100,
      execution_time: Math.round(seconds),
      output: [text, ...notes].join('\n'),
      visibility: 'visible',
      stdout_visibility: 'visible',
      tests: [],
      extra_data: { impl: args.impl, hidden_suites: hidden, phases: [] },
    });
    console.error(`report: ${args.out}`);
    return 1;
  }
  const { run, scores } = result;
  if (run.stopped !== undefined) notes.push(`the run was stopped: ${run.stopped}`);
  for (const u of run.unhandled) notes.push(`errors outside any test:\n${u}`);
  const tables = scores.map((s) => renderPhaseTable(s));
  const score = scores.reduce((s, p) => s + p.score, 0);
  const max = scores.reduce((s, p) => s + p.maxScore, 0);
  console.log(`\n${tables.join('\n\n')}\n`);
  const failing = failingTests(scores, args.verbose);
  if (failing.length > 0) console.log(`failing tests:\n${failing.join('\n')}\n`);
  for (const n of notes) console.log(color.yellow(`note: ${n}`));
  console.log(color.bold(`score: ${fmt(Math.round(score * 100) / 100)}/${fmt(max)}`) + color.dim(`  (${seconds.toFixed(1)} s)`));
  const plain = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');
  writeReport(
    args.out,
    gradescope(scores, {
      impl: args.impl,
      hidden,
      seconds,
      output: [...tables.map(plain), ...notes.map((n) => `note: ${n}`)].join('\n\n'),
    }),
  );
  console.log(color.dim(`report: ${args.out}`));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  },
);
