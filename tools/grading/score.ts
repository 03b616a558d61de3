// Points: every checklist item's points are shared by the graded tests tagged with it, public and
// hidden together, in proportion to their weights (graded()'s `weight`, by Severity: a test that
// catches lost data, a crash or a hang weighs more than one that checks an error code). The
// checklist in <phase>/checklist.ts is the one place points are declared. Shares are whole
// hundredths handed out by largest remainder, so they add up exactly.
import type { BuildStatus } from '../../lib/native.js';
import type { PhaseInfo } from '../../lib/phases.js';
import type { ChecklistItem } from '../../testkit/checklist.js';
import { isHiddenFile, type PhaseManifest } from './manifest.js';
import type { SuiteRun, TestOutcome } from './run.js';

export interface ScoredTest {
  readonly phase: PhaseInfo;
  readonly item: string;
  readonly file: string;
  readonly fullName: string;
  readonly name: string;
  readonly hidden: boolean;
  readonly passed: boolean;
  readonly state: TestOutcome['state'] | 'missing';
  readonly weight: number;
  readonly maxScore: number;
  readonly score: number;
  readonly output: string;
}

export interface ItemScore {
  readonly item: ChecklistItem;
  readonly tests: readonly ScoredTest[];
  readonly passed: number;
  readonly score: number;
  readonly maxScore: number;
}

export interface PhaseScore {
  readonly phase: PhaseInfo;
  readonly items: readonly ItemScore[];
  readonly score: number;
  readonly maxScore: number;
  readonly build: BuildStatus | undefined;
  readonly notes: readonly string[];
}

const cents = (x: number): number => Math.round(x * 100);
export const round2 = (x: number): number => Math.round(x * 100) / 100;

// Splits `points` into shares of whole hundredths in proportion to `weights`, adding up to `points`
// exactly: each gets the floor of its exact share, and the hundredths left over go to the largest
// remainders (the earlier test on a tie).
export function shares(points: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  if (weights.length === 0 || !(sum > 0)) return weights.map(() => 0);
  const total = cents(points);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map((x) => Math.floor(x + 1e-9));
  let left = total - out.reduce((s, x) => s + x, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x + 1e-9) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0 && k < order.length; k += 1, left -= 1) {
    const i = order[k]?.i ?? 0;
    out[i] = (out[i] ?? 0) + 1;
  }
  return out.map((c) => c / 100);
}

export interface ScoreOptions {
  readonly phase: PhaseInfo;
  readonly checklist: readonly ChecklistItem[];
  readonly manifest: PhaseManifest | undefined;
  readonly run: SuiteRun;
  readonly build: BuildStatus | undefined;
}

export function scorePhase(o: ScoreOptions): PhaseScore {
  const notes: string[] = [];
  const k = (file: string, fullName: string): string => `${file}::${fullName}`;
  const outcomes = new Map<string, TestOutcome>();
  for (const t of o.run.tests) if (t.graded?.phase === o.phase.id) outcomes.set(k(t.file, t.fullName), t);
  // Expected: the manifest (hidden entries only when hidden suites ran) plus whatever was collected.
  // A test's weight: as it ran, else as the manifest recorded it (a test that never ran still has one).
  const expected = new Map<string, { file: string; fullName: string; item: string; weight: number }>();
  for (const e of o.manifest?.tests ?? []) {
    if (e.hidden && !o.run.hidden) continue;
    expected.set(k(e.file, e.fullName), { ...e, weight: outcomes.get(k(e.file, e.fullName))?.graded?.weight ?? e.weight ?? 1 });
  }
  for (const [key, t] of outcomes) {
    if (!expected.has(key)) expected.set(key, { file: t.file, fullName: t.fullName, item: t.graded?.item ?? '', weight: t.graded?.weight ?? 1 });
  }
  // Public suites first, then hidden ones; files in path order; tests in declaration order.
  const order = [...expected.values()];
  const ordered = order
    .map((e, i) => ({ e, i }))
    .sort((a, b) => {
      const ha = isHiddenFile(a.e.file) ? 1 : 0;
      const hb = isHiddenFile(b.e.file) ? 1 : 0;
      if (ha !== hb) return ha - hb;
      if (a.e.file !== b.e.file) return a.e.file < b.e.file ? -1 : 1;
      return a.i - b.i;
    })
    .map((x) => x.e);
  if (o.manifest === undefined) {
    notes.push(`no manifest of expected tests for ${o.phase.id}: a test file that fails to load costs nothing (npm run course -- manifest)`);
  }
  const known = new Set(o.checklist.map((i) => i.id));
  for (const e of expected.values()) {
    if (!known.has(e.item)) notes.push(`'${e.fullName}' names checklist item ${e.item}, which ${o.phase.dir}/checklist.ts does not declare`);
  }
  const items: ItemScore[] = o.checklist.map((item) => {
    const mine = ordered.filter((e) => e.item === item.id);
    const pts = shares(item.points, mine.map((e) => e.weight));
    const tests: ScoredTest[] = mine.map((e, i) => {
      const t = outcomes.get(k(e.file, e.fullName));
      const passed = t?.state === 'passed';
      const maxScore = pts[i] ?? 0;
      let output: string;
      if (t === undefined) {
        const fileErrors = o.run.moduleErrors.get(e.file);
        output = [
          `not run: ${e.file} did not report this test`,
          ...(fileErrors ?? []),
          ...(o.run.stopped === undefined ? [] : [`the run was stopped: ${o.run.stopped}`]),
          ...o.run.unhandled,
        ].join('\n');
      } else {
        output = passed ? '' : t.errors.join('\n\n');
      }
      return {
        phase: o.phase,
        item: item.id,
        file: e.file,
        fullName: e.fullName,
        name: t?.name ?? e.fullName.split(' > ').at(-1) ?? e.fullName,
        hidden: isHiddenFile(e.file),
        passed,
        state: t?.state ?? 'missing',
        weight: e.weight,
        maxScore,
        score: passed ? maxScore : 0,
        output,
      };
    });
    if (tests.length === 0) notes.push(`item ${item.id} has no graded tests: its ${item.points} points cannot be earned`);
    const score = round2(tests.reduce((s, t) => s + t.score, 0));
    return { item, tests, passed: tests.filter((t) => t.passed).length, score, maxScore: item.points };
  });
  const maxScore = o.checklist.reduce((s, i) => s + i.points, 0);
  return {
    phase: o.phase,
    items,
    score: round2(items.reduce((s, i) => s + i.score, 0)),
    maxScore,
    build: o.build,
    notes,
  };
}

// ---- Gradescope's results.json ----------------------------------------------------------------

export type Visibility = 'visible' | 'hidden' | 'after_due_date' | 'after_published';

export interface GradescopeTest {
  readonly name: string;
  readonly number: string;
  readonly score: number;
  readonly max_score: number;
  readonly status: 'passed' | 'failed';
  readonly output: string;
  readonly visibility: Visibility;
  readonly tags: readonly string[];
}

export interface GradescopeResults {
  readonly score: number;
  readonly max_score: number;
  readonly execution_time: number; // seconds
  readonly output: string;
  readonly visibility: Visibility;
  readonly stdout_visibility: Visibility;
  readonly tests: readonly GradescopeTest[];
  readonly extra_data: {
    readonly impl: string;
    readonly hidden_suites: boolean;
    readonly phases: ReadonlyArray<{
      readonly phase: string;
      readonly score: number;
      readonly max_score: number;
      readonly compiled: boolean | null;
      readonly items: ReadonlyArray<{ readonly item: string; readonly title: string; readonly passed: number; readonly tests: number; readonly score: number; readonly max_score: number }>;
    }>;
  };
}

const MAX_OUTPUT = 8000;
const clip = (s: string): string => (s.length > MAX_OUTPUT ? `${s.slice(0, MAX_OUTPUT)}\n... (truncated)` : s);

export function gradescope(
  phases: readonly PhaseScore[],
  run: { readonly impl: string; readonly hidden: boolean; readonly seconds: number; readonly output: string },
): GradescopeResults {
  const tests: GradescopeTest[] = [];
  for (const p of phases) {
    if (p.build !== undefined && !p.build.ok) {
      tests.push({
        name: `${p.phase.id}: build (${p.build.target})`,
        number: `${p.phase.id.replace('phase', '')}.0`,
        score: 0,
        max_score: 0,
        status: 'failed',
        output: clip(`does not compile:\n${p.build.diagnostics.join('\n')}`),
        visibility: 'visible',
        tags: [p.phase.id, 'build'],
      });
    }
    for (const item of p.items) {
      for (const t of item.tests) {
        tests.push({
          name: `${p.phase.id} ${t.name}${t.hidden ? ' (hidden)' : ''}`,
          number: item.item.id,
          score: t.score,
          max_score: t.maxScore,
          status: t.passed ? 'passed' : 'failed',
          output: clip(t.output),
          visibility: t.hidden ? 'after_published' : 'visible',
          tags: [p.phase.id, item.item.id, t.file],
        });
      }
    }
  }
  return {
    score: round2(phases.reduce((s, p) => s + p.score, 0)),
    max_score: phases.reduce((s, p) => s + p.maxScore, 0),
    execution_time: Math.round(run.seconds),
    output: clip(run.output),
    visibility: 'visible',
    stdout_visibility: 'visible',
    tests,
    extra_data: {
      impl: run.impl,
      hidden_suites: run.hidden,
      phases: phases.map((p) => ({
        phase: p.phase.id,
        score: p.score,
        max_score: p.maxScore,
        compiled: p.build === undefined ? null : p.build.ok,
        items: p.items.map((i) => ({
          item: i.item.id,
          title: i.item.title,
          passed: i.passed,
          tests: i.tests.length,
          score: i.score,
          max_score: i.maxScore,
        })),
      })),
    },
  };
}

// ---- terminal tables ------------------------------------------------------------------------------

export const color = {
  enabled: process.stdout.isTTY && process.env.NO_COLOR === undefined,
  wrap(code: string, s: string): string {
    return this.enabled ? `\u001b[${code}m${s}\u001b[0m` : s;
  },
  green(s: string): string {
    return this.wrap('32', s);
  },
  red(s: string): string {
    return this.wrap('31', s);
  },
  yellow(s: string): string {
    return this.wrap('33', s);
  },
  bold(s: string): string {
    return this.wrap('1', s);
  },
  dim(s: string): string {
    return this.wrap('2', s);
  },
};

export const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function clipTitle(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

// A build's warnings, a few of them: they do not stop a student's build, but they are worth a look.
export function warningLines(build: BuildStatus | undefined, shown = 3): string[] {
  const w = build?.ok === true ? (build.warnings ?? []) : [];
  if (w.length === 0) return [];
  return [
    color.yellow(`  ${w.length} compiler warning${w.length === 1 ? '' : 's'} (not fatal; npm run build lists them):`),
    ...w.slice(0, shown).map((x) => color.yellow(`    ${x}`)),
  ];
}

// One table per phase: item, title, tests passed, points.
export function renderPhaseTable(p: PhaseScore): string {
  const lines: string[] = [];
  lines.push(color.bold(`${p.phase.id}  ${p.phase.title}`));
  if (p.build !== undefined && !p.build.ok) {
    lines.push(color.red(`  does not compile (${p.build.target}):`));
    for (const d of p.build.diagnostics.slice(0, 12)) lines.push(`    ${d}`);
  }
  lines.push(...warningLines(p.build));
  lines.push(color.dim(`  ${pad('item', 6)}${pad('checklist', 62)}${pad('tests', 9)}points`));
  let passed = 0;
  let total = 0;
  for (const i of p.items) {
    passed += i.passed;
    total += i.tests.length;
    const full = i.tests.length > 0 && i.passed === i.tests.length;
    const tests = `${i.passed}/${i.tests.length}`;
    const mark = full ? color.green('✓') : i.passed > 0 ? color.yellow('~') : color.red('✗');
    lines.push(`${mark} ${pad(i.item.id, 6)}${pad(clipTitle(i.item.title, 60), 62)}${pad(tests, 9)}${fmt(i.score)}/${fmt(i.maxScore)}`);
  }
  lines.push(`  ${pad('total', 68)}${pad(`${passed}/${total}`, 9)}${color.bold(`${fmt(p.score)}/${fmt(p.maxScore)}`)}`);
  for (const n of p.notes) lines.push(color.yellow(`  note: ${n}`));
  return lines.join('\n');
}
