// npm start: the student's home. Builds your code, runs every phase's public suites quietly, and
// shows where you stand (phase, checklist item, tests passed, points) and what to do next, with a
// hint, in the manner of rustlings.
//
// Hints come in levels and never give the answer: first a question to think about; once the same
// item is still unfinished with no new test passing on a later run (or 20 minutes after its first
// hint), the question and a pointer to where the answer is (a man page, a lesson section).
// `npm start -- --more` shows the pointer at once. The level is kept per item in
// build/start-hints.json (delete it to start over).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { hintLevel, wrap, type HintState } from './grading/hints.js';

import type { ChecklistItem } from '../testkit/checklist.js';
import { BUILD_DIR, PHASES, REPO_ROOT, type PhaseInfo } from '../lib/phases.js';
import { gradablePhases, gradeTree } from './grading/grade-tree.js';
import { color, fmt, warningLines, type PhaseScore, type ScoredTest } from './grading/score.js';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function bar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `[${color.green('#'.repeat(filled))}${filled < width ? '>' : ''}${'-'.repeat(Math.max(0, width - filled - 1))}]`;
}

const HINTS_FILE = join(BUILD_DIR, 'start-hints.json');

function readHintState(): HintState | undefined {
  try {
    return existsSync(HINTS_FILE) ? (JSON.parse(readFileSync(HINTS_FILE, 'utf8')) as HintState) : undefined;
  } catch {
    return undefined;
  }
}

function hintLines(item: ChecklistItem, level: 1 | 2): string[] {
  const out: string[] = [];
  const question = item.question ?? item.hint;
  out.push(...wrap(`${color.bold('Think:')} ${question}`, 100, 7));
  if (level === 2 && item.question !== undefined) out.push(...wrap(`${color.bold('Look:')}  ${item.hint}`, 100, 7));
  else if (item.question !== undefined) out.push(color.dim('       (run npm start again after your next attempt, or npm start -- --more, for where to look)'));
  return out;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function phaseBlock(p: PhaseScore): string[] {
  const lines: string[] = [];
  const tests = p.items.reduce((s, i) => s + i.tests.length, 0);
  const passed = p.items.reduce((s, i) => s + i.passed, 0);
  lines.push(`${color.bold(pad(p.phase.id, 8))}${p.phase.title}  ${color.bold(`${fmt(p.score)}/${fmt(p.maxScore)}`)}`);
  if (p.build !== undefined && !p.build.ok) {
    lines.push(color.red(`  does not compile:`));
    for (const d of p.build.diagnostics.slice(0, 8)) lines.push(`    ${d}`);
  } else if (tests === 0) {
    lines.push(color.dim('  no public tests yet'));
  }
  lines.push(...warningLines(p.build, 2));
  for (const i of p.items) {
    const done = i.tests.length > 0 && i.passed === i.tests.length;
    const mark = done ? color.green('✓ done') : i.passed > 0 ? color.yellow('~ part') : color.red('✗ todo');
    // The whole title, wrapped: a cut title hides what the item asks for.
    const title = wrap(i.item.title, 58, 0);
    title.forEach((t, k) => {
      const tail = k === title.length - 1 ? `${pad(`${i.passed}/${i.tests.length}`, 7)}${fmt(i.score)}/${fmt(i.maxScore)}` : '';
      lines.push(k === 0 ? `  ${mark}  ${pad(i.item.id, 5)}${pad(t, 59)}${tail}` : `${' '.repeat(15)}${pad(t, 59)}${tail}`);
    });
  }
  if (tests > 0) lines.push(color.dim(`  ${bar(passed, tests)} ${passed}/${tests} tests`));
  return lines;
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const phases = gradablePhases(REPO_ROOT, PHASES);
  process.stdout.write(color.dim('building your code and running the public tests...\n'));
  const { run, scores } = await gradeTree({
    root: REPO_ROOT,
    impl: 'student',
    phases,
    hidden: false,
    totalTimeoutMs: 10 * 60_000,
  });
  const out: string[] = ['', color.bold('Mini-Ray: your progress') + color.dim('  (public tests; npm run grade scores them)'), ''];
  for (const p of scores) out.push(...phaseBlock(p), '');

  // Next: the first phase that does not compile, else the first unfinished checklist item.
  const broken = scores.find((p) => p.build !== undefined && !p.build.ok);
  let next: { phase: PhaseInfo; what: string; hint: string[]; failing: ScoredTest | undefined } | undefined;
  if (broken !== undefined) {
    next = {
      phase: broken.phase,
      what: `make ${broken.phase.id} compile again: ${broken.build?.diagnostics[0] ?? ''}`,
      hint: ['the compiler stops at the first error; fix it, then run npm start again'],
      failing: undefined,
    };
  } else {
    for (const p of scores) {
      const item = p.items.find((i) => i.tests.length > 0 && i.passed < i.tests.length);
      if (item !== undefined) {
        const key = `${p.phase.id} ${item.item.id}`;
        const { level, state } = hintLevel(readHintState(), key, item.passed, Date.now(), process.argv.includes('--more'));
        mkdirSync(dirname(HINTS_FILE), { recursive: true });
        writeFileSync(HINTS_FILE, `${JSON.stringify(state)}\n`);
        next = { phase: p.phase, what: `${item.item.id} ${item.item.title}: ${item.item.todo}`, hint: hintLines(item.item, level), failing: item.tests.find((t) => !t.passed) };
        break;
      }
    }
  }
  if (next === undefined) {
    out.push(color.green(color.bold('Every public test passes. Well done!')) + ' npm run grade runs the same suites, scored; npm run submit -- phaseN packs your work.');
  } else {
    out.push(...wrap(`${color.bold('Next:')}  ${next.what}`, 100, 7));
    out.push(...next.hint);
    if (next.failing !== undefined) {
      out.push(`${color.bold('Failing:')} ${next.failing.name}  ${color.dim(`(${next.failing.file})`)}`);
      out.push(`  ${color.red(firstLine(next.failing.output))}`);
    }
    out.push(color.dim(`Details: npm test -- ${next.phase.id}    The lesson: ${next.phase.dir}/README.md`));
  }
  if (run.stopped !== undefined) out.push(color.yellow(`note: the run was stopped: ${run.stopped}`));
  out.push(color.dim(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`));
  console.log(out.join('\n'));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  },
);
