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
//   3. a point with more passages than that (a journal record inside a long sweep) is sampled,
//      deterministically: its last passage n is found by doubling and bisection (each probe is a
//      trial like the others, verified too), then `spread` more passages evenly spaced from
//      maxPassages to n, the last one included. Every point is thus killed at its first
//      maxPassages passages, at its last, and evenly in between; the same ones in every run.
// `npm run verify` samples further (MINIRAY_CRASH_SAMPLE=K, see sampleFromEnv): every point is still
// killed at its first K passages and its last, and at K more passages in between drawn with a fixed
// seed (MINIRAY_CRASH_SEED, default 1); the output says how many passages of how many were killed at.
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
  // Passages killed at; `complete` when every passage was (else a sample, see the top).
  readonly killed: number;
  readonly complete: boolean;
  // How many times the operation passes the point.
  readonly passages: number;
}

export interface ScenarioReport {
  readonly scenario: string;
  readonly points: readonly PointCoverage[];
  readonly trials: number;
}

export interface ExploreOptions {
  // Passages of one point all killed at (default 120); a point that has more is sampled beyond.
  readonly maxPassages?: number;
  // Passages killed at beyond maxPassages, evenly spread to the last (default 80).
  readonly spread?: number;
  // With a seed, the `spread` passages beyond maxPassages are drawn at random (this seed and the
  // point's name make the draw, so a run can be repeated) instead of evenly spaced; the last
  // passage is always one of them.
  readonly seed?: number;
}

export const CRASH_SAMPLE_ENV = 'MINIRAY_CRASH_SAMPLE';
export const CRASH_SEED_ENV = 'MINIRAY_CRASH_SEED';

// The sampling `npm run verify` asks for: MINIRAY_CRASH_SAMPLE=K kills every point at its first K
// passages, its last, and K drawn from the rest (seeded by MINIRAY_CRASH_SEED, default 1). Unset
// (the instructor's run): the defaults above, every passage up to the 120th.
export function sampleFromEnv(env: NodeJS.ProcessEnv = process.env): ExploreOptions {
  const k = Number(env[CRASH_SAMPLE_ENV] ?? '');
  if (!Number.isInteger(k) || k < 1) return {};
  const seed = Number(env[CRASH_SEED_ENV] ?? '1');
  return { maxPassages: k, spread: k, seed: Number.isFinite(seed) ? seed : 1 };
}

// A small seeded generator (mulberry32), seeded by the run's seed and the point's name.
function seededRandom(seed: number, point: string): () => number {
  let a = seed >>> 0;
  for (const ch of point) a = Math.imul(a ^ ch.charCodeAt(0), 2654435761) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The passages past maxPassages to kill at: `spread` of them, the last one included, evenly spaced
// or (with a seed) drawn at random.
function passagesBeyond(point: string, maxPassages: number, last: number, spread: number, seed: number | undefined): number[] {
  const beyond = last - maxPassages;
  if (beyond <= spread) return Array.from({ length: beyond }, (_, i) => maxPassages + i + 1);
  if (seed === undefined) return Array.from({ length: spread }, (_, i) => maxPassages + Math.round(((i + 1) * beyond) / spread));
  const random = seededRandom(seed, point);
  const chosen = new Set<number>([last]);
  while (chosen.size < spread) chosen.add(maxPassages + 1 + Math.floor(random() * beyond));
  return [...chosen].sort((x, y) => x - y);
}

// A point passed more often than this is a loop that never ends.
const MAX_PASSAGES_EVER = 1_000_000;

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
  const maxPassages = options.maxPassages ?? 120;
  const spread = options.spread ?? 80;
  const points = listCrashPoints(scenario);
  const coverage: PointCoverage[] = [];
  let trials = 1;
  for (const point of points) {
    // Kills the child at `passage` of `point` and verifies; false when it completed instead.
    const killedAt = new Set<number>();
    const kill = (passage: number): boolean => {
      trials += 1;
      let died = false;
      run(scenario, (state) => {
        const result = scenario.trial(state, `${point}:${passage}`, '');
        if (result.outcome === 'completed') {
          scenario.verify(state, undefined, result);
          return;
        }
        if (result.outcome !== 'killed' || result.signal !== SIGKILL) {
          throw new Error(`${scenario.name}: armed at ${point}:${passage}, the child ${describe(result)}`);
        }
        died = true;
        try {
          scenario.verify(state, { point, passage }, result);
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e);
          throw new Error(`${scenario.name}: killed at ${point} (passage ${passage}): ${message}`, { cause: e });
        }
      });
      if (died) killedAt.add(passage);
      return died;
    };
    let last = 0; // the last passage known to kill
    while (last < maxPassages && kill(last + 1)) last += 1;
    let complete = last < maxPassages;
    if (!complete) {
      // More passages than maxPassages: find the last one (doubling, then bisection)...
      let hi = last * 2;
      while (kill(hi)) {
        last = hi;
        hi *= 2;
        if (hi > MAX_PASSAGES_EVER) throw new Error(`${scenario.name}: ${point} is passed more than ${MAX_PASSAGES_EVER} times`);
      }
      while (hi - last > 1) {
        const mid = last + Math.floor((hi - last) / 2);
        if (kill(mid)) last = mid;
        else hi = mid;
      }
      // ...then kill at `spread` passages after maxPassages, the last one included.
      for (const passage of passagesBeyond(point, maxPassages, last, spread, options.seed)) {
        if (passage > maxPassages && !killedAt.has(passage) && !kill(passage)) {
          throw new Error(`${scenario.name}: ${point} has ${last} passages in one run and fewer in another`);
        }
      }
      complete = killedAt.size === last;
    }
    if (last === 0) throw new Error(`${scenario.name}: ${point} was listed but never killed the child`);
    coverage.push({ point, killed: killedAt.size, complete, passages: last });
  }
  return { scenario: scenario.name, points: coverage, trials };
}

// One line per point, for a test's output: "phase2.alloc.split x2".
export function formatCoverage(report: ScenarioReport): string {
  const rows = report.points.map(
    (p) => `  ${p.point} x${p.killed}${p.complete ? '' : ` of ${p.passages} passages (sampled)`}`,
  );
  const killed = report.points.reduce((n, p) => n + p.killed, 0);
  const passages = report.points.reduce((n, p) => n + p.passages, 0);
  const sampled = report.points.filter((p) => !p.complete).length;
  const how = sampled === 0 ? 'every passage' : `${sampled} of ${report.points.length} points sampled`;
  return `${report.scenario}: ${report.trials} trials; killed at ${killed} of ${passages} passages of ${report.points.length} points (${how})\n${rows.join('\n')}`;
}
