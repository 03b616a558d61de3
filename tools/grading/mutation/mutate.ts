// npm run course -- mutate phaseN: mutation testing of a phase's suites, for course authors.
//
// Mutants are derived mechanically from the reference's student files (operators.ts), a sample is
// chosen deterministically (--seed, --max), and each one is built as a student submission in a
// scratch copy of the course and run against the public and hidden suites, stopping at the first
// failing test, within a time budget (a hang is stopped by the grader's watchdog and counts as
// caught: it costs the student the test). The report gives the mutation score over the mutants that
// compile and are not listed in solutions/mutants/<phase>/EQUIVALENT.md, and every survivor with
// its diff, in the terminal and as JSON (build/mutate/<phase>.json).
//
// A survivor is a bug the suites let through: write the test that catches it (and, if it is worth
// teaching, add it as a hand-written mutant: its diff is a ready mutant.patch), or list it in
// EQUIVALENT.md with the reason no test can observe it.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';

import { PHASES, REPO_ROOT, hasSolutions, type PhaseInfo } from '../../../lib/phases.js';
import { isHiddenFile } from '../manifest.js';
import { color } from '../score.js';
import { EQUIVALENT_FILE, readEquivalent } from './equivalent.js';
import { OPERATORS, mutantsOf, selectMutants, type Mutant, type OperatorName } from './operators.js';
import { ScratchPool, referenceFiles, type Trial } from './runner.js';

const USAGE = `usage: npm run course -- mutate phaseN [options]

  --seed S               which deterministic sample of the mutants (default 1)
  --max N                at most N mutants (default 40; 'all' for every one)
  --budget-seconds T     time budget of each mutant's run (default: 4x the reference's run, >= 120 s)
  --jobs N               mutants built and run at once, each in its own scratch copy (default 2)
  --only ID,ID           just these mutants (ids from a report or --list)
  --operator NAME,NAME   only these operators (${Object.keys(OPERATORS).join(', ')})
  --file TEXT            only mutants of student files whose path contains TEXT
  --include-equivalent   also run the mutants ${EQUIVALENT_FILE} lists (to see they still survive)
  --list                 list the selected mutants and stop
  --show ID              print one mutant's diff and stop
  --json FILE            where the JSON report goes (default build/mutate/<phase>.json)`;

export type Verdict = 'killed' | 'survived' | 'timeout' | 'stillborn' | 'equivalent';

export interface MutantResult {
  readonly id: string;
  readonly file: string;
  readonly line: number;
  readonly operator: OperatorName;
  readonly description: string;
  readonly verdict: Verdict;
  readonly seconds: number;
  readonly caughtBy: ReadonlyArray<{ readonly file: string; readonly name: string; readonly state: string; readonly hidden: boolean }>;
  readonly equivalentReason?: string;
  readonly diagnostics?: readonly string[];
  readonly patch: string;
}

export interface MutationReport {
  readonly phase: string;
  readonly seed: number;
  readonly max: number | null;
  readonly reference: string; // sha1 of the reference's student files
  readonly generated: number;
  readonly selected: number;
  readonly budgetSeconds: number;
  readonly baselineSeconds: number;
  readonly seconds: number;
  readonly counts: Readonly<Record<Verdict, number>>;
  readonly score: number | null; // killed / (killed + survived + timeout)
  readonly byOperator: Readonly<Record<string, { killed: number; survived: number; timeout: number }>>;
  readonly mutants: readonly MutantResult[];
}

interface Options {
  readonly phase: PhaseInfo;
  readonly seed: number;
  readonly max: number | undefined;
  readonly budgetSeconds: number | undefined;
  readonly jobs: number;
  readonly only: readonly string[];
  readonly operators: readonly string[];
  readonly file: string | undefined;
  readonly includeEquivalent: boolean;
  readonly list: boolean;
  readonly show: string | undefined;
  readonly json: string;
}

function parse(argv: readonly string[]): Options | string {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const ids = argv.filter((a) => /^phase\d$/.test(a));
  if (ids.length !== 1) return 'name exactly one phase';
  const phase = PHASES.find((p) => p.id === ids[0]);
  if (phase === undefined) return `unknown phase ${ids[0]}`;
  const num = (flag: string, fallback: number | undefined): number | undefined | string => {
    const v = value(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 ? n : `${flag} wants a whole number, got '${v}'`;
  };
  const seed = num('--seed', 1);
  const max = value('--max') === 'all' ? undefined : num('--max', 40);
  const budget = num('--budget-seconds', undefined);
  const jobs = num('--jobs', Math.max(1, Math.min(2, availableParallelism())));
  for (const v of [seed, max, budget, jobs]) if (typeof v === 'string') return v;
  const operators = (value('--operator') ?? '').split(',').filter((s) => s !== '');
  const unknown = operators.filter((o) => !(o in OPERATORS));
  if (unknown.length > 0) return `unknown operator ${unknown.join(', ')} (known: ${Object.keys(OPERATORS).join(', ')})`;
  return {
    phase,
    seed: seed as number,
    max: max as number | undefined,
    budgetSeconds: budget as number | undefined,
    jobs: Math.max(1, jobs as number),
    only: (value('--only') ?? '').split(',').filter((s) => s !== ''),
    operators,
    file: value('--file'),
    includeEquivalent: argv.includes('--include-equivalent'),
    list: argv.includes('--list'),
    show: value('--show'),
    json: value('--json') ?? join(REPO_ROOT, 'build', 'mutate', `${phase.id}.json`),
  };
}

// Every derived mutant of the phase's reference files.
export function phaseMutants(phase: PhaseInfo): Mutant[] {
  const refs = referenceFiles(phase);
  return [...refs].flatMap(([rel, content]) => mutantsOf(rel, content.toString('utf8')));
}

const base = (file: string): string => file.split('/').pop() ?? file;
const where = (m: { file: string; line: number }): string => `${base(m.file)}:${m.line}`;

// A mutant whose object code is byte for byte the reference's cannot behave differently.
const SAME_CODE = 'compiles to the same object code as the reference';

function verdictOf(trial: Trial, budgetMs: number): Verdict {
  if (!trial.compiled) return 'stillborn';
  if (trial.sameCode) return 'equivalent';
  if (trial.failures.some((t) => t.state === 'failed') || trial.brokenFiles.length > 0) return 'killed';
  // A hang the watchdog caught costs the student the test; the whole budget running out does not.
  if (trial.failures.some((t) => t.state === 'hung')) return trial.seconds * 1000 >= budgetMs ? 'timeout' : 'killed';
  return 'survived';
}

function paint(v: Verdict): string {
  const label = v.padEnd(10);
  if (v === 'killed') return color.green(label);
  if (v === 'survived' || v === 'timeout') return color.red(label);
  return color.dim(label);
}

export async function mutateCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  if (!hasSolutions()) {
    console.error('course mutate needs solutions/: it is not part of the student release.');
    return 2;
  }
  const o = parse(argv);
  if (typeof o === 'string') {
    console.error(`${o}\n\n${USAGE}`);
    return 2;
  }
  const t0 = Date.now();
  const all = phaseMutants(o.phase);
  const { entries, problems } = readEquivalent(o.phase);
  for (const p of problems) console.log(color.yellow(`note: ${p}`));
  const equivalent = new Map(entries.flatMap((e) => e.ids.map((id) => [id, e.reason] as const)));
  const known = new Set(all.map((m) => m.id));
  const stale = [...equivalent.keys()].filter((id) => !known.has(id));
  if (stale.length > 0) {
    console.log(color.yellow(`note: ${EQUIVALENT_FILE} lists ${stale.length} id(s) the reference no longer yields (its lines changed): ${stale.join(', ')}`));
  }

  if (o.show !== undefined) {
    const m = all.find((x) => x.id === o.show);
    if (m === undefined) {
      console.error(`no mutant ${o.show} in ${o.phase.id}`);
      return 1;
    }
    console.log(`${m.id} ${where(m)} ${m.operator}: ${m.description}\n\n${m.patch}`);
    return 0;
  }

  let pool = all;
  if (o.only.length > 0) {
    const missing = o.only.filter((id) => !known.has(id));
    if (missing.length > 0) {
      console.error(`no such mutant in ${o.phase.id}: ${missing.join(', ')}`);
      return 1;
    }
    pool = pool.filter((m) => o.only.includes(m.id));
  }
  if (o.operators.length > 0) pool = pool.filter((m) => o.operators.includes(m.operator));
  if (o.file !== undefined) pool = pool.filter((m) => m.file.includes(o.file ?? ''));
  const selected = o.only.length > 0 ? pool : selectMutants(pool, o.seed, o.max);
  // Run in file order: neighbouring mutants then share most of their build.
  selected.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));

  console.log(
    color.bold(`course mutate ${o.phase.id}: ${selected.length} of ${all.length} derived mutants`) +
      color.dim(`  (seed ${o.seed}${o.max === undefined ? ', all' : `, max ${o.max}`}${o.operators.length > 0 ? `, ${o.operators.join(',')}` : ''})`),
  );
  if (o.list) {
    for (const m of selected) {
      const eq = equivalent.has(m.id) ? color.dim('  [equivalent]') : '';
      console.log(`  ${m.id}  ${where(m).padEnd(22)} ${m.operator.padEnd(17)} ${m.description}${eq}`);
    }
    return 0;
  }

  const toRun = selected.filter((m) => o.includeEquivalent || !equivalent.has(m.id));
  const jobs = Math.max(1, Math.min(o.jobs, toRun.length));
  const scratchPool = await ScratchPool.open(jobs, `mutate-${o.phase.id}-`);
  const results: MutantResult[] = [];
  let budgetMs = 0;
  let baselineSeconds = 0;
  try {
    // The reference first, in every scratch copy: the suites must pass on it (or a mutant's
    // failure would mean nothing), and it sets the time budget.
    const reference = referenceFiles(o.phase);
    console.log(color.dim(`  the reference against the public and hidden suites, in ${jobs} scratch cop${jobs === 1 ? 'y' : 'ies'}...`));
    const [first, ...others] = scratchPool.slots;
    if (first === undefined) return 1;
    for (const slot of others) {
      slot.build(o.phase, reference);
      slot.snapshot(o.phase);
    }
    const b = await first.trial(o.phase, reference, { hiddenOnly: false, totalTimeoutMs: 20 * 60_000, ...(jobs > 1 ? { maxWorkers: 1 } : {}) });
    if (!b.compiled || b.failures.length > 0 || b.brokenFiles.length > 0 || (b.run?.tests.length ?? 0) === 0) {
      console.error(color.red(`the reference does not pass its own suites in a scratch copy, so mutants would prove nothing:`));
      for (const d of b.diagnostics.slice(0, 10)) console.error(`  ${d}`);
      for (const t of b.failures) console.error(`  ${t.file} > ${t.name}: ${(t.errors[0] ?? '').split('\n')[0]}`);
      for (const f of b.brokenFiles) console.error(`  ${f}: did not load`);
      return 1;
    }
    baselineSeconds = b.seconds;
    first.snapshot(o.phase);
    // From here on each mutant is built before its run: the run itself must not build again.
    process.env.MINIRAY_SKIP_BUILD = '1';
    budgetMs = (o.budgetSeconds ?? Math.max(120, Math.ceil(4 * baselineSeconds))) * 1000;
    console.log(color.dim(`  reference: ${b.run?.tests.length ?? 0} tests pass in ${baselineSeconds.toFixed(0)} s; budget per mutant ${budgetMs / 1000} s`));

    for (const m of selected.filter((x) => !toRun.includes(x))) {
      results.push({ ...summary(m), verdict: 'equivalent', seconds: 0, caughtBy: [], equivalentReason: equivalent.get(m.id) ?? '' });
    }
    let done = 0;
    await scratchPool.map(toRun, async (m, slot) => {
      const files = referenceFiles(o.phase);
      files.set(m.file, Buffer.from(m.content));
      const trial = await slot.trial(o.phase, files, {
        hiddenOnly: false,
        bail: true,
        totalTimeoutMs: budgetMs,
        skipSameCode: true,
        ...(jobs > 1 ? { maxWorkers: 1 } : {}),
      });
      const verdict = verdictOf(trial, budgetMs);
      const sameCode = trial.sameCode ? { equivalentReason: SAME_CODE } : {};
      const r: MutantResult = {
        ...summary(m),
        verdict,
        seconds: Math.round(trial.seconds),
        caughtBy: trial.failures.map((t) => ({ file: t.file, name: t.name, state: t.state, hidden: isHiddenFile(t.file) })),
        ...(equivalent.has(m.id) ? { equivalentReason: equivalent.get(m.id) ?? '' } : sameCode),
        ...(verdict === 'stillborn' ? { diagnostics: trial.diagnostics.slice(0, 5) } : {}),
      };
      results.push(r);
      done += 1;
      const by = r.caughtBy[0];
      const tail = by !== undefined ? color.dim(` by ${by.hidden ? 'hidden' : 'public'} ${by.name}${by.state === 'hung' ? ' (hung)' : ''}`) : '';
      const eq = equivalent.has(m.id) ? color.yellow(' [listed as equivalent]') : trial.sameCode ? color.dim(' (same object code)') : '';
      console.log(`  ${String(done).padStart(3)}/${toRun.length} ${paint(verdict)} ${m.id} ${where(m).padEnd(22)} ${m.operator}: ${m.description} ${color.dim(`(${r.seconds} s)`)}${tail}${eq}`);
    });
  } finally {
    scratchPool.dispose();
  }

  const report = buildReport(o, all.length, selected.length, results, budgetMs, baselineSeconds, (Date.now() - t0) / 1000);
  mkdirSync(dirname(o.json), { recursive: true });
  writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  printReport(report, o);
  console.log(color.dim(`\nJSON report: ${relative(process.env.INIT_CWD ?? process.cwd(), o.json)}`));
  return report.counts.survived + report.counts.timeout > 0 ? 1 : 0;
}

function summary(m: Mutant): Pick<MutantResult, 'id' | 'file' | 'line' | 'operator' | 'description' | 'patch'> {
  return { id: m.id, file: m.file, line: m.line, operator: m.operator, description: m.description, patch: m.patch };
}

function buildReport(
  o: Options,
  generated: number,
  selected: number,
  results: readonly MutantResult[],
  budgetMs: number,
  baselineSeconds: number,
  seconds: number,
): MutationReport {
  const counts: Record<Verdict, number> = { killed: 0, survived: 0, timeout: 0, stillborn: 0, equivalent: 0 };
  const byOperator: Record<string, { killed: number; survived: number; timeout: number }> = {};
  for (const r of results) {
    // A listed equivalent that a test now kills is not equivalent: it counts as killed.
    const v = r.equivalentReason !== undefined && r.verdict === 'survived' ? 'equivalent' : r.verdict;
    counts[v] += 1;
    if (v === 'killed' || v === 'survived' || v === 'timeout') {
      const b = (byOperator[r.operator] ??= { killed: 0, survived: 0, timeout: 0 });
      b[v] += 1;
    }
  }
  const scored = counts.killed + counts.survived + counts.timeout;
  const hash = createHash('sha1');
  for (const [rel, content] of referenceFiles(o.phase)) hash.update(rel).update(content);
  const order: Record<Verdict, number> = { survived: 0, timeout: 1, killed: 2, equivalent: 3, stillborn: 4 };
  return {
    phase: o.phase.id,
    seed: o.seed,
    max: o.max ?? null,
    reference: hash.digest('hex'),
    generated,
    selected,
    budgetSeconds: budgetMs / 1000,
    baselineSeconds: Math.round(baselineSeconds),
    seconds: Math.round(seconds),
    counts,
    score: scored === 0 ? null : counts.killed / scored,
    byOperator,
    mutants: [...results].sort((a, b) => order[a.verdict] - order[b.verdict] || (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1)),
  };
}

function printReport(r: MutationReport, o: Options): void {
  const survivors = r.mutants.filter((m) => (m.verdict === 'survived' || m.verdict === 'timeout') && m.equivalentReason === undefined);
  const revived = r.mutants.filter((m) => m.equivalentReason !== undefined && m.verdict === 'killed');
  if (survivors.length > 0) {
    console.log(color.bold(`\nsurvivors (${survivors.length}): a test should catch each, or ${EQUIVALENT_FILE} should say why none can`));
    for (const m of survivors) {
      console.log(color.red(`\n${m.id}  ${m.verdict}  ${where(m)}  ${m.operator}: ${m.description}`));
      console.log(m.patch.trimEnd());
    }
  }
  if (revived.length > 0) {
    console.log(color.yellow(`\nlisted in ${EQUIVALENT_FILE} but killed now (remove them there): ${revived.map((m) => m.id).join(', ')}`));
  }
  const c = r.counts;
  console.log(color.bold(`\n${o.phase.id}: mutation score ${r.score === null ? 'n/a' : `${(r.score * 100).toFixed(1)}%`}`) +
    ` (${c.killed} killed / ${c.killed + c.survived + c.timeout} scored: ${c.survived} survived, ${c.timeout} over budget)` +
    color.dim(`; ${c.equivalent} equivalent, ${c.stillborn} do not compile; ${r.selected} of ${r.generated} mutants, ${r.seconds} s`));
  const ops = Object.entries(r.byOperator).sort(([a], [b]) => (a < b ? -1 : 1));
  if (ops.length > 0) console.log(color.dim(`  by operator: ${ops.map(([k, v]) => `${k} ${v.killed}/${v.killed + v.survived + v.timeout}`).join(', ')}`));
}
