// npm run stress: a phase's tests, run many times over, with the rate at which each one fails.
// Concurrency bugs hide: a race that loses an object one run in ten passes most runs. Run this
// before you hand in; every test should pass every run.
//
//   npm run stress -- phase1                 the phase's tests, 20 times
//   npm run stress -- phase1 --runs 50       more runs
//   npm run stress -- phase1 multiprocess    only the test files whose path contains 'multiprocess'
//   options: --solution (instructors: the reference)  --hidden (with the hidden suites, if present)
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { PHASES, REPO_ROOT, hasSolutions, type Impl, type PhaseInfo } from '../lib/phases.js';
import { hiddenSuitesPresent, runSuites, type TestOutcome } from './grading/run.js';
import { color } from './grading/score.js';

interface Args {
  readonly phase: PhaseInfo;
  readonly runs: number;
  readonly impl: Impl;
  readonly hidden: boolean;
  readonly filters: readonly string[];
}

const USAGE = 'usage: npm run stress -- phaseN [file filter ...] [--runs N] [--solution] [--hidden]';

function parseArgs(argv: readonly string[]): Args {
  let phase: PhaseInfo | undefined;
  let runs = 20;
  let impl: Impl = 'student';
  let hidden = false;
  const filters: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    if (/^phase\d+$/.test(a)) {
      phase = PHASES.find((p) => p.id === a);
      if (phase === undefined) throw new Error(`unknown phase ${a} (known: ${PHASES.map((p) => p.id).join(', ')})`);
    } else if (a === '--runs' || a === '--repeat') runs = Number(argv[++i]);
    else if (a === '--solution') impl = 'solution';
    else if (a === '--hidden') hidden = true;
    else if (a.startsWith('--')) throw new Error(`unknown option '${a}'\n${USAGE}`);
    else filters.push(a);
  }
  if (phase === undefined) throw new Error(USAGE);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a whole number of runs, 1 or more');
  if ((impl === 'solution' || hidden) && !hasSolutions()) throw new Error('--solution and --hidden are for instructors: this copy has no solutions/');
  return { phase, runs, impl, hidden: hidden && hiddenSuitesPresent(REPO_ROOT, phase), filters };
}

function testFiles(dir: string): string[] {
  if (!existsSync(join(REPO_ROOT, dir))) return [];
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `${dir}/${f.split('\\').join('/')}`)
    .sort();
}

interface Tally {
  readonly test: TestOutcome;
  runs: number;
  failed: number;
  firstFailure: string | undefined;
}

const firstLine = (t: TestOutcome): string => {
  const line = t.errors.join('\n').split('\n').find((l) => l.trim() !== '') ?? t.state;
  return line.length > 150 ? `${line.slice(0, 149)}…` : line;
};

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const { phase } = args;
  // The phase's test files (those whose path holds one of the words given, if any).
  const dirs = [`${phase.dir}/test`, ...(args.hidden ? [`solutions/${phase.dir}/hidden`] : [])];
  const filters = dirs
    .flatMap((d) => testFiles(d))
    .filter((f) => args.filters.length === 0 || args.filters.some((w) => f.includes(w)));
  if (filters.length === 0) {
    console.error(color.red(`no test file of ${phase.id} matches ${args.filters.join(' ')}`));
    return 2;
  }
  console.log(color.bold(`stress ${phase.id}: ${args.runs} runs of ${filters.length} test file${filters.length === 1 ? '' : 's'}${args.hidden ? ' (public and hidden)' : ''}`));
  for (const f of filters) console.log(color.dim(`  ${f}`));
  const tallies = new Map<string, Tally>();
  const started = Date.now();
  for (let run = 1; run <= args.runs; run += 1) {
    const r = await runSuites({
      root: REPO_ROOT,
      impl: args.impl,
      phases: [phase],
      hidden: args.hidden,
      files: filters,
      build: run === 1,
      totalTimeoutMs: 10 * 60_000,
    });
    const build = r.builds[0];
    if (build !== undefined && !build.ok) {
      console.error(color.red(`${phase.id} does not compile:\n  ${build.diagnostics.join('\n  ')}`));
      return 1;
    }
    if (r.tests.length === 0) {
      console.error(color.red(`no test ran: ${r.unhandled[0] ?? [...r.moduleErrors.values()][0]?.[0] ?? 'vitest collected nothing'}`));
      return 1;
    }
    for (const t of r.tests) {
      const k = `${t.file} > ${t.fullName}`;
      const tally = tallies.get(k) ?? { test: t, runs: 0, failed: 0, firstFailure: undefined };
      tally.runs += 1;
      if (t.state !== 'passed' && t.state !== 'skipped') {
        tally.failed += 1;
        tally.firstFailure ??= `run ${run}: ${t.state === 'hung' ? 'hung: ' : ''}${firstLine(t)}`;
      }
      tallies.set(k, tally);
    }
    const failed = r.tests.filter((t) => t.state !== 'passed' && t.state !== 'skipped').length;
    const line = `run ${String(run).padStart(String(args.runs).length)}/${args.runs}: ${r.tests.length - failed}/${r.tests.length} passed  ${color.dim(`(${(r.durationMs / 1000).toFixed(1)} s)`)}`;
    console.log(failed === 0 ? line : color.red(line));
  }
  const all = [...tallies.values()];
  const bad = all.filter((t) => t.failed > 0).sort((a, b) => b.failed / b.runs - a.failed / a.runs);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (bad.length === 0) {
    console.log(color.green(`\nevery test passed every run: ${all.length} tests x ${args.runs} runs (${seconds} s)`));
    return 0;
  }
  console.log(color.bold(`\n${bad.length} of ${all.length} tests failed at least once (${seconds} s):`));
  for (const t of bad) {
    const rate = `${t.failed}/${t.runs} runs (${Math.round((100 * t.failed) / t.runs)}%)`;
    console.log(`  ${color.red('✗')} ${t.test.name}  ${color.bold(rate)}  ${color.dim(t.test.file)}`);
    console.log(color.dim(`      ${t.firstFailure ?? ''}`));
  }
  console.log(
    `\n${bad.some((t) => t.failed < t.runs) ? 'A test that fails only sometimes is a race or a wait that depends on timing: look for shared state touched outside the lock, or a wait without its wake-up. ' : ''}` +
      `Every run is independent (fresh processes, fresh segments); npm test -- ${phase.id} shows one run in full.`,
  );
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 2;
  },
);
