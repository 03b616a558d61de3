// Inside Gradescope (run_autograder calls this from /autograder/source): grades one phase of the
// submission in /autograder/submission with the public and hidden suites and writes
// /autograder/results/results.json. A provisional result is written first, so that a grader killed
// from outside (Gradescope's time limit) still leaves a result that says so; every failure after
// that is caught and written as a result too.
//
//   node --import tsx tools/grading/autograder-run.ts --root /autograder --phase phase1
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { PHASES, REPO_ROOT } from '../../lib/phases.js';
import { AUTOGRADER_ROOT_ENV } from './autograder.js';
import { committedFile } from './course-files.js';
import { gradeTree } from './grade-tree.js';
import { gradescope, renderPhaseTable, type GradescopeResults } from './score.js';
import { readSubmission } from './submission.js';
import { descendants, killTree } from '../../testkit/watchdog/procs.js';

const TOTAL_TIMEOUT_MS = 30 * 60_000;

function arg(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function failed(output: string, seconds: number): GradescopeResults {
  return {
    score: 0,
    max_score: 100,
    execution_time: Math.round(seconds),
    output,
    visibility: 'visible',
    stdout_visibility: 'visible',
    tests: [],
    extra_data: { impl: 'student', hidden_suites: true, phases: [] },
  };
}

async function main(argv: readonly string[]): Promise<void> {
  const started = Date.now();
  const root = arg(argv, '--root') ?? process.env[AUTOGRADER_ROOT_ENV] ?? '/autograder';
  const results = join(root, 'results', 'results.json');
  const write = (r: GradescopeResults): void => {
    mkdirSync(dirname(results), { recursive: true });
    writeFileSync(results, `${JSON.stringify(r, null, 2)}\n`);
  };
  const seconds = (): number => (Date.now() - started) / 1000;
  write(failed(`The grader started at ${new Date(started).toISOString()} and did not finish: it was stopped from outside (the time limit?) before it could write a result.`, 0));
  // run_autograder's time limit: stop every test and build this grader started, and say so.
  process.once('SIGTERM', () => {
    for (const pid of descendants(process.pid)) killTree(pid);
    write(failed(`The grader was stopped at its time limit, after ${seconds().toFixed(0)} s, before it finished: nothing was graded. A submission whose tests hang is stopped test by test; this one took longer than the whole limit.`, seconds()));
    process.exit(1);
  });
  try {
    const id = arg(argv, '--phase');
    const phase = PHASES.find((p) => p.id === id);
    if (phase === undefined) throw new Error(`run_autograder names no known phase ('${id ?? ''}')`);
    const submission = readSubmission(join(root, 'submission'), [phase.id]);
    const notes: string[] = [];
    try {
      // The submission's files over the skeletons, in place: the container is thrown away after.
      for (const [rel, content] of submission.files) {
        writeFileSync(join(REPO_ROOT, rel), content);
        notes.push(`taken: ${rel}`);
      }
      for (const rel of submission.missing) {
        notes.push(`${rel} is not in the submission: graded with the untouched skeleton`);
        const skeleton = committedFile(REPO_ROOT, rel);
        if (skeleton !== undefined) writeFileSync(join(REPO_ROOT, rel), skeleton);
      }
      for (const r of submission.refused) notes.push(`refused ${r}`);
    } finally {
      submission.dispose();
    }
    if (submission.files.size === 0) notes.push(`the submission holds none of ${phase.studentFiles.join(', ')}: upload those files (or the .tgz of npm run submit -- ${phase.id})`);
    const { run, scores } = await gradeTree({ root: REPO_ROOT, impl: 'student', phases: [phase], hidden: true, totalTimeoutMs: TOTAL_TIMEOUT_MS });
    if (run.stopped !== undefined) notes.push(`the run was stopped: ${run.stopped}`);
    const plain = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, '');
    const report = gradescope(scores, {
      impl: 'student',
      hidden: true,
      seconds: seconds(),
      output: [...scores.map((s) => plain(renderPhaseTable(s))), ...notes.map((n) => `note: ${n}`)].join('\n\n'),
    });
    write(report);
    console.log(`${phase.id}: ${report.score}/${report.max_score} in ${seconds().toFixed(0)} s`);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    write(failed(`The grader could not grade this submission: ${why}`, seconds()));
    console.error(why);
  }
}

void main(process.argv.slice(2));
