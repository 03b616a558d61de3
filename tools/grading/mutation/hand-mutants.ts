// The hand-written mutants under solutions/mutants/<phase>/<name>/ (README.md + mutant.patch), and
// the self-check's stage (c): every one of them must fail at least one hidden test.
//
// Speed: each mutant runs first against the hidden test files that caught it last time, recorded in
// solutions/mutants/<phase>/caught-by.json (committed), and stops at the first failure; only when
// those no longer catch it does it fall back to the whole hidden suite (and the record is updated).
// A failure in a subset is a failure of the suite, so the verdict is exactly that of a full run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { REPO_ROOT, type PhaseInfo } from '../../../lib/phases.js';
import { isHiddenFile } from '../manifest.js';
import { hiddenSuitesPresent, type TestOutcome } from '../run.js';
import { color } from '../score.js';
import { selectMutants } from './operators.js';
import { referenceFiles, type ScratchPool, type Trial } from './runner.js';

const MIN_MUTANTS = 6;
const MUTANT_RUN_TIMEOUT_MS = 5 * 60_000;
export const CAUGHT_BY_FILE = 'caught-by.json';

export interface HandMutant {
  readonly phase: PhaseInfo;
  readonly name: string; // phase1/no-robust
  readonly dir: string;
  readonly bug: string; // README's first line
  readonly files: ReadonlyMap<string, Buffer>; // repo-relative student file -> content
  readonly problems: readonly string[];
}

export interface MutantVerdict {
  readonly mutant: HandMutant;
  readonly caught: boolean;
  readonly hiddenFailures: readonly TestOutcome[];
  readonly publicFailures: readonly TestOutcome[];
  readonly problem: string | undefined; // does not compile, or an invalid mutant
  readonly seconds: number;
  readonly fastPath: boolean; // caught by the recorded files alone
  readonly fileSeconds: ReadonlyMap<string, number>; // how long each hidden file ran
}

// Of the files whose tests caught a mutant, the one that ran the shortest time.
function cheapestFile(failures: readonly TestOutcome[], fileSeconds: ReadonlyMap<string, number>): string {
  const files = [...new Set(failures.map((t) => t.file))];
  files.sort((a, b) => (fileSeconds.get(a) ?? Infinity) - (fileSeconds.get(b) ?? Infinity) || (a < b ? -1 : 1));
  return files[0] ?? '';
}

function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(dir, path));
    else if (e.isFile()) out.push(path);
  }
  return out;
}

// A mutant is a patch against the reference (solutions/<student path>): it keeps applying as the
// reference evolves, and it shows the bug and nothing else. `mutant.patch` uses student paths
// (a/phase1-shm/src/shm_store.cc); applying it yields the mutated copies of those files.
export function loadMutants(phase: PhaseInfo): HandMutant[] {
  const base = join(REPO_ROOT, 'solutions', 'mutants', phase.id);
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((n) => statSync(join(base, n)).isDirectory())
    .sort()
    .map((n) => {
      const dir = join(base, n);
      const problems: string[] = [];
      const readme = join(dir, 'README.md');
      const bug = existsSync(readme) ? (readFileSync(readme, 'utf8').split('\n')[0] ?? '').trim() : '';
      if (bug === '') problems.push('no README.md whose first line says what the bug is');
      const others = listFiles(dir).filter((rel) => rel !== 'README.md' && rel !== 'mutant.patch');
      if (others.length > 0) problems.push(`unexpected files (a mutant is README.md + mutant.patch): ${others.join(', ')}`);
      const patch = join(dir, 'mutant.patch');
      const files = existsSync(patch) ? applyMutantPatch(phase, patch, problems) : new Map<string, Buffer>();
      if (!existsSync(patch)) problems.push('no mutant.patch');
      else if (files.size === 0 && problems.length === 0) problems.push('mutant.patch changes no student file');
      return { phase, name: `${phase.id}/${n}`, dir, bug, files, problems };
    });
}

// Applies `patch` to the phase's reference files in a scratch folder; returns the files it changed.
function applyMutantPatch(phase: PhaseInfo, patch: string, problems: string[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const text = readFileSync(patch, 'utf8');
  const touched = [...text.matchAll(/^\+\+\+ b\/(\S+)/gm)].map((m) => m[1] ?? '');
  for (const rel of touched) {
    if (!phase.studentFiles.includes(rel)) problems.push(`${rel} is not a student-editable file of ${phase.id}`);
  }
  if (problems.length > 0) return files;
  const work = mkdtempSync(join(tmpdir(), 'miniray-mutant-'));
  try {
    for (const [rel, content] of referenceFiles(phase)) {
      mkdirSync(dirname(join(work, rel)), { recursive: true });
      writeFileSync(join(work, rel), content);
    }
    const r = spawnSync('git', ['apply', '--whitespace=nowarn', patch], { cwd: work, encoding: 'utf8' });
    if (r.status !== 0) {
      problems.push(`mutant.patch no longer applies to the reference: ${(r.stderr || r.stdout).trim()}`);
      return files;
    }
    for (const rel of touched) files.set(rel, readFileSync(join(work, rel)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return files;
}

// ---- the record of which hidden files caught each mutant ----------------------------------------

interface CaughtBy {
  readonly note: string;
  readonly mutants: Record<string, readonly string[]>; // mutant dir name -> hidden test files
}

const NOTE =
  'Written by `npm run course -- check`: the hidden test files that caught each mutant last time. ' +
  'The check runs those first and falls back to the whole hidden suite. Commit it when it changes.';

function caughtByPath(phase: PhaseInfo): string {
  return join(REPO_ROOT, 'solutions', 'mutants', phase.id, CAUGHT_BY_FILE);
}

function readCaughtBy(phase: PhaseInfo): Record<string, readonly string[]> {
  const file = caughtByPath(phase);
  if (!existsSync(file)) return {};
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as CaughtBy).mutants ?? {};
  } catch {
    return {};
  }
}

function writeCaughtBy(phase: PhaseInfo, mutants: Record<string, readonly string[]>): void {
  const sorted = Object.fromEntries(Object.entries(mutants).sort(([a], [b]) => (a < b ? -1 : 1)));
  const body: CaughtBy = { note: NOTE, mutants: sorted };
  writeFileSync(caughtByPath(phase), `${JSON.stringify(body, null, 2)}\n`);
}

// ---- stage (c) --------------------------------------------------------------------------------

const shortName = (m: HandMutant): string => m.name.slice(m.phase.id.length + 1);

async function runMutant(m: HandMutant, pool: ScratchPool, slotIndex: number, recorded: readonly string[]): Promise<MutantVerdict> {
  const t0 = Date.now();
  const base = { mutant: m, hiddenFailures: [], publicFailures: [], fastPath: false, fileSeconds: new Map<string, number>() };
  if (m.problems.length > 0) {
    return { ...base, caught: false, problem: `invalid mutant: ${m.problems.join('; ')}`, seconds: 0 };
  }
  const slot = pool.slots[slotIndex];
  if (slot === undefined) throw new Error(`no scratch slot ${slotIndex}`);
  const files = referenceFiles(m.phase);
  for (const [rel, content] of m.files) files.set(rel, content);
  const options = {
    hiddenOnly: true, // the verdict is about hidden tests; a public hang must not keep them from running
    bail: true,
    totalTimeoutMs: MUTANT_RUN_TIMEOUT_MS,
    ...(pool.slots.length > 1 ? { maxWorkers: 1 } : {}),
  };
  const first = recorded.filter((f) => existsSync(join(REPO_ROOT, f)));
  let trial: Trial | undefined;
  let fastPath = false;
  if (first.length > 0) {
    trial = await slot.trial(m.phase, files, { ...options, files: first });
    fastPath = trial.compiled && trial.failures.some((t) => isHiddenFile(t.file));
  }
  // No record, or it no longer catches: the whole hidden suite, to the end, so that the record can
  // name the cheapest file that catches the mutant.
  if (trial === undefined || (trial.compiled && !fastPath)) trial = await slot.trial(m.phase, files, { ...options, bail: false });
  const seconds = (Date.now() - t0) / 1000;
  if (!trial.compiled) {
    return { ...base, caught: false, problem: `does not compile (a mutant must be a plausible bug that builds): ${trial.diagnostics[0] ?? ''}`, seconds };
  }
  // Only a test that ran and failed (or hung) catches a mutant; one the watchdog never let run does not.
  const hiddenFailures = trial.failures.filter((t) => isHiddenFile(t.file));
  const fileSeconds = new Map<string, number>();
  // A hang costs the watchdog's whole wait: count it as a minute.
  for (const t of trial.run?.tests ?? []) fileSeconds.set(t.file, (fileSeconds.get(t.file) ?? 0) + (t.state === 'hung' ? 60 : (t.durationMs ?? 0) / 1000));
  return {
    fileSeconds,
    mutant: m,
    caught: hiddenFailures.length > 0,
    hiddenFailures,
    publicFailures: trial.failures.filter((t) => !isHiddenFile(t.file)),
    problem: undefined,
    seconds,
    fastPath,
  };
}

function printVerdict(v: MutantVerdict): void {
  const head = `${v.mutant.name}`;
  if (v.problem !== undefined) {
    console.log(color.red(`    ✗ ${head}: ${v.problem}`));
    return;
  }
  const t = color.dim(`(${v.seconds.toFixed(0)} s${v.fastPath ? '' : ', whole hidden suite'})`);
  if (!v.caught) {
    console.log(color.red(`    ✗ ${head} SURVIVED`) + ` ${t}: ${v.mutant.bug}`);
    if (v.publicFailures.length > 0) console.log(`        only public tests fail: ${v.publicFailures.map((x) => x.name).join('; ')}`);
    return;
  }
  console.log(`    ${color.green('✓')} ${head} caught ${t}`);
  console.log(color.dim(`        bug: ${v.mutant.bug}`));
  for (const f of v.hiddenFailures) console.log(`        hidden ${f.name}${f.state === 'hung' ? ' (hung)' : ''}`);
}

// `npm run verify` samples the mutants (the instructor's `npm run course -- check` runs every one):
// MINIRAY_MUTANT_SAMPLE=K runs K mutants of each phase, drawn by MINIRAY_MUTANT_SEED, which
// defaults to the commit checked out, so that successive commits check different mutants and a run
// can be repeated exactly. Every mutant's patch is still applied and checked by the tools' tests.
export const MUTANT_SAMPLE_ENV = 'MINIRAY_MUTANT_SAMPLE';
export const MUTANT_SEED_ENV = 'MINIRAY_MUTANT_SEED';

interface MutantSample {
  readonly perPhase: number;
  readonly seed: number;
  readonly seedFrom: string;
}

function mutantSample(env: NodeJS.ProcessEnv): MutantSample | undefined {
  const k = Number(env[MUTANT_SAMPLE_ENV] ?? '');
  if (!Number.isInteger(k) || k <= 0) return undefined;
  const given = env[MUTANT_SEED_ENV];
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed)) throw new Error(`${MUTANT_SEED_ENV}=${given}: an integer expected`);
    return { perPhase: k, seed, seedFrom: MUTANT_SEED_ENV };
  }
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const hex = head.status === 0 ? head.stdout.trim().slice(0, 8) : '';
  return /^[0-9a-f]{8}$/.test(hex) ? { perPhase: k, seed: parseInt(hex, 16), seedFrom: `commit ${hex}` } : { perPhase: k, seed: 1, seedFrom: 'no commit' };
}

// The next mutant for a scratch copy that last built `last`: of the queue's mutants in its first
// group (those without a record run first), one of the same phase, best one that changes the same
// files, else the first. A copy then recompiles only what differs from its last build: the phase's
// reference files once per copy (not once per copy and phase each time the phases alternate), and
// one changed file per mutant rather than the last mutant's file put back as well.
function nextFor(queue: HandMutant[], last: HandMutant | undefined, group: (m: HandMutant) => number): HandMutant | undefined {
  if (queue.length === 0) return undefined;
  const files = (m: HandMutant): string => [...m.files.keys()].sort().join('\n');
  const score = (m: HandMutant): number =>
    last === undefined ? 0 : (m.phase.id === last.phase.id ? 2 : 0) + (m.phase.id === last.phase.id && files(m) === files(last) ? 1 : 0);
  let best = 0;
  for (let i = 1; i < queue.length; i += 1) {
    const m = queue[i] as HandMutant;
    if (group(m) !== group(queue[0] as HandMutant)) break;
    if (score(m) > score(queue[best] as HandMutant)) best = i;
  }
  return queue.splice(best, 1)[0];
}

// Stage (c) of the self-check. Appends a line to `failures` for every problem.
export async function checkMutants(phases: readonly PhaseInfo[], pool: ScratchPool, failures: string[]): Promise<MutantVerdict[]> {
  const all = phases.flatMap((p) => loadMutants(p));
  const sample = mutantSample(process.env);
  const mutants =
    sample === undefined
      ? all
      : phases.flatMap((p) =>
          selectMutants(
            all.filter((m) => m.phase.id === p.id).map((m) => ({ id: m.name, m })),
            sample.seed,
            sample.perPhase,
          ).map((x) => x.m),
        );
  console.log(color.bold(`\n(c) every mutant fails at least one hidden test  (${mutants.length} mutants, ${pool.slots.length} at a time)`));
  if (sample !== undefined) {
    console.log(
      `    sampled: ${mutants.length} of ${all.length} mutants, ${sample.perPhase} a phase at most, seed ${sample.seed} (${sample.seedFrom}); ` +
        `${MUTANT_SEED_ENV}=${sample.seed} repeats this sample, and without ${MUTANT_SAMPLE_ENV} every mutant runs`,
    );
  }
  for (const p of phases) {
    const n = all.filter((m) => m.phase.id === p.id).length;
    if (hiddenSuitesPresent(REPO_ROOT, p) && n < MIN_MUTANTS) failures.push(`${p.id} has ${n} mutants under solutions/mutants/${p.id}/, at least ${MIN_MUTANTS} expected`);
  }
  const records = new Map(phases.map((p) => [p.id, readCaughtBy(p)]));
  // Mutants without a record (the slow ones: the whole suite) first, so they overlap the fast ones.
  const recorded = (m: HandMutant): number => ((records.get(m.phase.id)?.[shortName(m)]?.length ?? 0) > 0 ? 1 : 0);
  const order = [...mutants].sort((a, b) => recorded(a) - recorded(b));
  const verdicts: MutantVerdict[] = [];
  const queue = [...order];
  await Promise.all(
    pool.slots.map(async (_, slotIndex) => {
      let last: HandMutant | undefined;
      for (let m = nextFor(queue, last, recorded); m !== undefined; m = nextFor(queue, last, recorded)) {
        const v = await runMutant(m, pool, slotIndex, records.get(m.phase.id)?.[shortName(m)] ?? []);
        verdicts.push(v);
        printVerdict(v);
        last = m;
      }
    }),
  );
  for (const v of verdicts) {
    if (v.problem !== undefined) failures.push(`mutant ${v.mutant.name}: ${v.problem}`);
    else if (!v.caught) failures.push(`mutant ${v.mutant.name} SURVIVED: no hidden test fails (${v.mutant.bug})`);
  }
  for (const p of phases) {
    const old = records.get(p.id) ?? {};
    const fresh: Record<string, readonly string[]> = {};
    for (const m of all.filter((x) => x.phase.id === p.id)) {
      const v = verdicts.find((x) => x.mutant === m);
      const kept = old[shortName(m)] ?? [];
      fresh[shortName(m)] = v === undefined || !v.caught || v.fastPath ? kept : [cheapestFile(v.hiddenFailures, v.fileSeconds)];
    }
    const changed = JSON.stringify(Object.entries(fresh).sort()) !== JSON.stringify(Object.entries(old).sort());
    if (changed && all.some((m) => m.phase.id === p.id)) {
      writeCaughtBy(p, fresh);
      console.log(color.yellow(`    recorded which hidden files catch each mutant: solutions/mutants/${p.id}/${CAUGHT_BY_FILE} (commit it)`));
    }
  }
  return verdicts.sort((a, b) => (a.mutant.name < b.mutant.name ? -1 : 1));
}
