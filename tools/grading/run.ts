// Runs a phase's suites in a course tree (the repository itself or a scratch copy) and collects one
// outcome per test, whatever happens: a compile error (the tests fail with the compiler's output), a
// crashed or hung test process (the tree's vitest watchdog, testkit/watchdog/, names the test that
// was running, and the signal; the tests its process took with it are run again without it), or a
// run that outlives its time budget (killed whole).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { BuildStatus } from '../../lib/native.js';
import { targetName, type Impl, type PhaseInfo } from '../../lib/phases.js';
import { GRADE_EVENTS_ENV, type CollectedTest, type GradeEvent, type GradedMeta } from '../../testkit/grade-events.js';
import { removeStaleTestSegments } from '../../testkit/segments.js';
import { killTree, sleep, waitGone } from '../../testkit/watchdog/procs.js';
import { WATCHDOG_GRACE_ENV } from '../../testkit/watchdog/shared.js';

export type OutcomeState = 'passed' | 'failed' | 'skipped' | 'not-run' | 'hung';

export interface TestOutcome {
  readonly file: string; // relative to the course root
  readonly fullName: string;
  readonly name: string;
  readonly graded: GradedMeta | undefined;
  readonly state: OutcomeState;
  readonly errors: readonly string[];
  readonly durationMs: number | undefined;
  // Failed by the watchdog: the test whose process crashed or hung (culprit), or one lost with it.
  readonly killed: { readonly kind: 'crash' | 'hang'; readonly culprit: boolean; readonly signal: string | null } | undefined;
}

export interface SuiteRun {
  readonly impl: Impl;
  readonly phases: readonly PhaseInfo[];
  readonly hidden: boolean;
  readonly builds: readonly BuildStatus[];
  readonly tests: readonly TestOutcome[];
  readonly moduleErrors: ReadonlyMap<string, readonly string[]>; // file -> errors loading or running it
  readonly unhandled: readonly string[];
  readonly stopped: string | undefined; // why the run was stopped (its time budget), if it was
  readonly exitCode: number | null;
  readonly log: string; // the tail of vitest's own output, for crashes
  readonly durationMs: number;
}

export interface RunOptions {
  readonly root: string;
  readonly impl: Impl;
  readonly phases: readonly PhaseInfo[];
  readonly hidden: boolean; // also run solutions/<dir>/hidden
  readonly hiddenOnly?: boolean; // run solutions/<dir>/hidden alone (the mutant check)
  readonly build?: boolean; // build the phases' targets first (default true)
  readonly totalTimeoutMs?: number; // the whole run (default 20 min)
  readonly graceMs?: number; // how long past its own timeout a test may run (default 20 s)
  readonly env?: Readonly<Record<string, string>>; // more environment for vitest
  // More environment for the build (make reads variables from it: CXXFLAGS=-O0 compiles faster).
  readonly buildEnv?: Readonly<Record<string, string>>;
  readonly maxWorkers?: number;
  readonly files?: readonly string[]; // run these test files (course-relative) instead of the phases' suites
  readonly bail?: number; // stop after this many failed tests; the rest are 'not-run'
  readonly onEvent?: (event: GradeEvent) => void;
}

const LOG_TAIL_CHARS = 4000;

export function hiddenSuitesPresent(root: string, phase: PhaseInfo): boolean {
  return existsSync(join(root, 'solutions', phase.dir, 'hidden'));
}

function readStatus(root: string, target: string): BuildStatus | undefined {
  const file = join(root, 'build', 'status', `${target}.json`);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as BuildStatus;
}

// Builds the phases' targets for `impl` in `root` with that tree's own build tool.
// `env` adds to the build's environment (make takes e.g. CXXFLAGS from it, after binding.gyp's flags).
export function buildPhases(root: string, impl: Impl, phases: readonly PhaseInfo[], env: Readonly<Record<string, string>> = {}): BuildStatus[] {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'tools/build.ts', `--${impl}`, ...phases.map((p) => p.id), '--quiet'],
    { cwd: root, encoding: 'utf8', env: { ...process.env, ...env, FORCE_COLOR: '0' } },
  );
  return phases.map((p) => {
    const target = targetName(p.id, impl);
    const status = readStatus(root, target);
    if (status !== undefined) return status;
    return {
      target,
      ok: false,
      diagnostics: [`the build did not run (exit ${r.status ?? r.signal}):`, ...`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-20)],
      builtAt: new Date().toISOString(),
    };
  });
}

function key(file: string, fullName: string): string {
  return `${file}::${fullName}`;
}

// After a crash or a hang, the tests that the dead test process took with it get another run (at
// most this many), without the tests that killed it, so that one crash costs its own points and not
// those of every test after it in the file.
const MAX_RERUNS = 2;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function runSuites(options: RunOptions): Promise<SuiteRun> {
  const started = Date.now();
  const builds = options.build === false ? [] : buildPhases(options.root, options.impl, options.phases, options.buildEnv);
  const filters = options.files ?? options.phases.map((p) => (options.hiddenOnly === true ? `solutions/${p.dir}/hidden/` : `${p.dir}/`));
  let run = await runOnce(options, builds, filters, undefined, started);
  const culprits = new Set<string>();
  for (let i = 0; i < MAX_RERUNS && run.stopped === undefined; i += 1) {
    const lost = run.tests.filter((t) => t.killed !== undefined && !t.killed.culprit);
    run.tests.filter((t) => t.killed?.culprit === true).forEach((t) => culprits.add(t.name));
    if (lost.length === 0) break;
    const pattern = culprits.size === 0 ? undefined : `^(?!.*(${[...culprits].map(escapeRegExp).join('|')})$)`;
    const again = await runOnce({ ...options, hiddenOnly: false }, builds, [...new Set(lost.map((t) => t.file))], pattern, Date.now());
    const byKey = new Map(again.tests.map((t) => [key(t.file, t.fullName), t]));
    run = {
      ...run,
      tests: run.tests.map((t) => {
        const later = byKey.get(key(t.file, t.fullName));
        return t.killed !== undefined && !t.killed.culprit && later !== undefined && later.state !== 'skipped' ? later : t;
      }),
      unhandled: [...run.unhandled, ...again.unhandled],
      stopped: again.stopped,
      durationMs: Date.now() - started,
    };
  }
  return run;
}

async function runOnce(
  options: RunOptions,
  builds: readonly BuildStatus[],
  filters: readonly string[],
  testNamePattern: string | undefined,
  started: number,
): Promise<SuiteRun> {
  const scratch = mkdtempSync(join(tmpdir(), 'miniray-events-'));
  const eventsFile = join(scratch, 'events.jsonl');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    MINIRAY_IMPL: options.impl,
    MINIRAY_SKIP_BUILD: options.build === false ? (process.env.MINIRAY_SKIP_BUILD ?? '') : '1',
    [GRADE_EVENTS_ENV]: eventsFile,
    [WATCHDOG_GRACE_ENV]: String(options.graceMs ?? 20_000),
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  };
  if (options.hidden) env.MINIRAY_HIDDEN = '1';
  else delete env.MINIRAY_HIDDEN;
  const args = [
    join(options.root, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    ...filters,
    // The watchdog's marker first: it fails the tests a dead test process took with it, before the
    // grade reporter records them.
    '--reporter',
    join(options.root, 'testkit', 'watchdog', 'reporter.ts'),
    '--reporter',
    join(options.root, 'testkit', 'grade-reporter.ts'),
    '--passWithNoTests',
    ...(testNamePattern === undefined ? [] : ['--testNamePattern', testNamePattern]),
    ...(options.maxWorkers === undefined ? [] : ['--maxWorkers', String(options.maxWorkers)]),
    ...(options.bail === undefined ? [] : ['--bail', String(options.bail)]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: options.root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer): void => {
    log = (log + d.toString()).slice(-LOG_TAIL_CHARS * 4);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let done = false;
  let exitCode: number | null = null;
  void exited.then((c) => {
    done = true;
    exitCode = c;
  });

  const events: GradeEvent[] = [];
  let consumed = 0;
  // Per test file still running: its tests without a result (for a run stopped at its budget).
  const modules = new Map<string, string[]>();
  const poll = (): void => {
    if (!existsSync(eventsFile)) return;
    const text = readFileSync(eventsFile, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end <= consumed) return;
    for (const line of text.slice(consumed, end).split('\n')) {
      if (line.trim() === '') continue;
      const event = JSON.parse(line) as GradeEvent;
      events.push(event);
      options.onEvent?.(event);
      if (event.type === 'collected') modules.set(event.file, event.tests.map((t) => t.fullName));
      else if (event.type === 'result') modules.set(event.file, (modules.get(event.file) ?? []).filter((n) => n !== event.test.fullName));
      else if (event.type === 'module-end') modules.delete(event.file);
    }
    consumed = end;
  };

  // Hangs and crashes of single tests are the watchdog's (in the tree's vitest.config.ts); what is
  // left here is the budget of the whole run.
  const totalTimeoutMs = options.totalTimeoutMs ?? 20 * 60_000;
  let stopped: string | undefined;
  const hung = new Map<string, string>(); // key -> why
  while (!done) {
    await Promise.race([exited, sleep(250)]);
    poll();
    if (done || Date.now() - started <= totalTimeoutMs) continue;
    for (const [file, pending] of modules) {
      const next = pending[0];
      if (next !== undefined) hung.set(key(file, next), `did not finish: the run took longer than ${Math.round(totalTimeoutMs / 1000)} s`);
    }
    stopped = `the run did not finish within ${Math.round(totalTimeoutMs / 1000)} s`;
    const killed = killTree(child.pid ?? 0);
    await Promise.race([exited, sleep(5000)]);
    await waitGone(killed, 5000);
    removeStaleTestSegments(); // what the killed processes left in /dev/shm
    break;
  }
  poll();
  rmSync(scratch, { recursive: true, force: true });
  return collect(options, builds, events, hung, stopped, exitCode, log.slice(-LOG_TAIL_CHARS), Date.now() - started);
}

// The SuiteRun of a vitest run made elsewhere, from the events file its grade reporter wrote (`npm
// run verify` runs every suite once, with testkit/grade-reporter.ts among its reporters, and the
// course check reads that run instead of making its own). Only the phases' files are kept, as a run
// of runSuites would have selected them (`<dir>/` anywhere in the path: the phase's public suites and
// its hidden ones). The builds are not known here: the caller built before that run.
export function suiteRunFromEvents(eventsFile: string, options: Pick<RunOptions, 'impl' | 'phases' | 'hidden'>): SuiteRun {
  const inPhases = (file: string | undefined): boolean => file === undefined || options.phases.some((p) => file.includes(`${p.dir}/`));
  const events: GradeEvent[] = [];
  for (const line of readFileSync(eventsFile, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as GradeEvent;
    if (e.type === 'start') events.push({ ...e, files: e.files.filter(inPhases) });
    else if (e.type === 'end' || inPhases(e.file)) events.push(e);
  }
  const ended = events.some((e) => e.type === 'end');
  return collect(
    { ...options, root: '' },
    [],
    events,
    new Map(),
    ended ? undefined : `the run that wrote ${eventsFile} did not finish`,
    null,
    '',
    0,
  );
}

function collect(
  options: RunOptions,
  builds: readonly BuildStatus[],
  events: readonly GradeEvent[],
  hung: ReadonlyMap<string, string>,
  stopped: string | undefined,
  exitCode: number | null,
  log: string,
  durationMs: number,
): SuiteRun {
  const collected = new Map<string, { file: string; test: CollectedTest }>();
  const results = new Map<string, Extract<GradeEvent, { type: 'result' }>>();
  const moduleErrors = new Map<string, string[]>();
  const started = new Set<string>();
  const finishedModules = new Set<string>();
  let unhandled: readonly string[] = [];
  let ended = false;
  for (const e of events) {
    if (e.type === 'start') e.files.forEach((f) => started.add(f));
    else if (e.type === 'collected') for (const t of e.tests) collected.set(key(e.file, t.fullName), { file: e.file, test: t });
    else if (e.type === 'result') {
      results.set(key(e.file, e.test.fullName), e);
      if (!collected.has(key(e.file, e.test.fullName))) collected.set(key(e.file, e.test.fullName), { file: e.file, test: e.test });
    } else if (e.type === 'module-end') {
      finishedModules.add(e.file);
      if (e.errors.length > 0) moduleErrors.set(e.file, [...e.errors]);
    } else if (e.type === 'killed' && e.file !== undefined) {
      moduleErrors.set(e.file, [...(moduleErrors.get(e.file) ?? []), e.message]);
    } else if (e.type === 'end') {
      ended = true;
      unhandled = e.unhandled;
    }
  }
  // A file that started but never reported its tests crashed or hung while loading.
  for (const file of started) {
    const hasTests = [...collected.values()].some((c) => c.file === file);
    if (!hasTests && !moduleErrors.has(file)) {
      moduleErrors.set(file, [
        stopped !== undefined
          ? `the file did not finish loading before the run was stopped: ${stopped}`
          : 'the file did not load: its test process crashed or never reported back',
      ]);
    }
  }
  // vitest's own word on a dead test process adds nothing to the watchdog's.
  if (events.some((e) => e.type === 'killed')) unhandled = unhandled.filter((u) => !/\[vitest-pool\]: Worker \S+ emitted error/.test(u));
  const crashNote =
    !ended && stopped === undefined
      ? `vitest stopped without finishing (exit ${exitCode}); its output ends with:\n${log.trim().split('\n').slice(-30).join('\n')}`
      : undefined;
  const tests: TestOutcome[] = [];
  for (const [k, { file, test }] of collected) {
    const r = results.get(k);
    if (r !== undefined && r.state === 'pending' && options.bail !== undefined) {
      // vitest's --bail stopped the run before this test
      tests.push({ file, fullName: test.fullName, name: test.name, graded: test.graded, state: 'not-run', errors: ['not run: the run stopped at the first failure (--bail)'], durationMs: undefined, killed: undefined });
      continue;
    }
    if (r !== undefined && r.state !== 'pending') {
      const errors = [...r.errors];
      if (r.state === 'failed' && errors.length === 0) {
        errors.push(...(moduleErrors.get(file) ?? unhandled), ...(crashNote === undefined ? [] : [crashNote]));
      }
      const hang = r.killed?.kind === 'hang' && r.killed.culprit;
      tests.push({
        file,
        fullName: test.fullName,
        name: test.name,
        graded: test.graded,
        state: hang ? 'hung' : r.state,
        errors,
        durationMs: r.durationMs,
        killed: r.killed,
      });
      continue;
    }
    const why: string[] = [];
    const hangWhy = hung.get(k);
    if (hangWhy !== undefined) why.push(hangWhy);
    else if (stopped !== undefined) why.push(`not run: the grader stopped the run because ${stopped}`);
    why.push(...(moduleErrors.get(file) ?? []));
    if (crashNote !== undefined) why.push(crashNote);
    if (why.length === 0) why.push(...(unhandled.length > 0 ? unhandled : ['the test did not run (its file stopped early)']));
    tests.push({
      file,
      fullName: test.fullName,
      name: test.name,
      graded: test.graded,
      // Without a watchdog stop, a test that never reported was lost with its crashed process.
      state: hung.has(k) ? 'hung' : stopped === undefined ? 'failed' : 'not-run',
      errors: why,
      durationMs: undefined,
      killed: undefined,
    });
  }
  if (crashNote !== undefined) unhandled = [...unhandled, crashNote];
  return {
    impl: options.impl,
    phases: options.phases,
    hidden: options.hidden,
    builds,
    tests,
    moduleErrors,
    unhandled,
    stopped,
    exitCode,
    log,
    durationMs,
  };
}
