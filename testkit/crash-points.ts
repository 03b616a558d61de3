// The crash-point runner: kills an operation at every crash point it passes, at every passage, and
// checks after each death that what it left behind is whole. Phase-independent: a phase's suite
// describes its scenarios (how to make the state before the operation, how to run the operation
// in a child that can be killed, and what must hold afterwards); this module explores them.
//
// For each scenario:
//   1. one run with nothing armed and MINIRAY_CRASH_LOG set lists the points the operation passes;
//   2. for every point p and k = 1, 2, ...: a fresh state, a child armed with MINIRAY_CRASH_AT=p:k,
//      which dies at the k-th passage of p; then `verify` (the checker, the data, keep using);
//      k grows until the child completes (p has fewer than k passages) or reaches maxPassages.
// Children are forked by the phase's fault-injection build (native-common/crash_trial.h), so a
// trial costs milliseconds and every passage of every point can be afforded.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// How a child of a trial ended (the fault-injection build's report).
export interface TrialResult {
  readonly outcome: 'completed' | 'killed' | 'failed' | 'timeout';
  readonly signal: number;
  readonly error: string;
}

// Where the child was killed, when it was.
export interface Death {
  readonly point: string;
  readonly passage: number;
}

export interface CrashScenario<S> {
  readonly name: string;
  // A fresh store in the state before the operation (deterministic: every call the same).
  prepare(): S;
  // Runs the operation in a child with MINIRAY_CRASH_AT=crashAt and MINIRAY_CRASH_LOG=crashLog
  // (either may be '': not set).
  trial(state: S, crashAt: string, crashLog: string): TrialResult;
  // Throws when what the child left behind is not whole. `death` is undefined when it completed.
  verify(state: S, death: Death | undefined, result: TrialResult): void;
  dispose(state: S): void;
}

export interface PointCoverage {
  readonly point: string;
  // Passages killed at; `complete` when the point was armed past its last passage.
  readonly killed: number;
  readonly complete: boolean;
}

export interface ScenarioReport {
  readonly scenario: string;
  readonly points: readonly PointCoverage[];
  readonly trials: number;
}

export interface ExploreOptions {
  // Passages of one point killed at, at most (a point inside a long loop is sampled beyond it).
  readonly maxPassages?: number;
}

const SIGKILL = 9;

function describe(result: TrialResult): string {
  return result.outcome === 'failed'
    ? `failed: ${result.error}`
    : result.outcome === 'killed'
      ? `killed by signal ${result.signal}`
      : result.outcome;
}

function run<S>(scenario: CrashScenario<S>, body: (state: S) => void): void {
  const state = scenario.prepare();
  try {
    body(state);
  } finally {
    scenario.dispose(state);
  }
}

// The points an operation passes, in the order it first passes them.
export function listCrashPoints<S>(scenario: CrashScenario<S>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'miniray-crash-log-'));
  const log = join(dir, 'points');
  try {
    let points: string[] = [];
    run(scenario, (state) => {
      const result = scenario.trial(state, '', log);
      if (result.outcome !== 'completed') {
        throw new Error(`${scenario.name}: the operation does not complete with nothing armed (${describe(result)})`);
      }
      scenario.verify(state, undefined, result);
      points = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
    });
    if (points.length === 0) throw new Error(`${scenario.name}: the operation passes no crash point (a build without them?)`);
    return points;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function exploreCrashPoints<S>(scenario: CrashScenario<S>, options: ExploreOptions = {}): ScenarioReport {
  const maxPassages = options.maxPassages ?? 200;
  const points = listCrashPoints(scenario);
  const coverage: PointCoverage[] = [];
  let trials = 1;
  for (const point of points) {
    let killed = 0;
    let complete = false;
    for (let passage = 1; passage <= maxPassages; passage += 1) {
      trials += 1;
      let ended = false;
      run(scenario, (state) => {
        const result = scenario.trial(state, `${point}:${passage}`, '');
        if (result.outcome === 'completed') {
          scenario.verify(state, undefined, result);
          ended = true;
          return;
        }
        if (result.outcome !== 'killed' || result.signal !== SIGKILL) {
          throw new Error(`${scenario.name}: armed at ${point}:${passage}, the child ${describe(result)}`);
        }
        try {
          scenario.verify(state, { point, passage }, result);
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          throw new Error(`${scenario.name}: killed at ${point} (passage ${passage}): ${message}`, { cause: e });
        }
      });
      if (ended) {
        complete = true;
        break;
      }
      killed += 1;
    }
    if (killed === 0) throw new Error(`${scenario.name}: ${point} was listed but never killed the child`);
    coverage.push({ point, killed, complete });
  }
  return { scenario: scenario.name, points: coverage, trials };
}

// One line per point, for a test's output: "phase2.alloc.split x2".
export function formatCoverage(report: ScenarioReport): string {
  const rows = report.points.map((p) => `  ${p.point} x${p.killed}${p.complete ? '' : ' (sampled)'}`);
  return `${report.scenario}: ${report.trials} trials\n${rows.join('\n')}`;
}
