// Whether several runs of the benchmark agree (repeat.ts), item by item (a ratio, a row, a step).
//
// The criterion: an item agrees when each run's median lies within the lowest-highest round of the
// other runs together (leave one run out). Why this one:
// - The spread a run reports is its lowest and highest round. Asking that each run's median lie
//   within every *other single* run's spread sounds natural, but it fails by chance alone: with 5
//   rounds a run and 5 runs (20 ordered pairs), a perfectly steady machine whose rounds differ only
//   by random noise makes 84% of items "disagree" (a simulation of independent rounds; 56% with 7
//   rounds, 4% with 15). It measures how few rounds there are, not whether runs differ.
// - Leaving one run out asks the question that matters, whether a run is an outlier against what
//   the others saw, and with the same steady machine it fails on 3.9% of items at 5 rounds, 0.7%
//   at 7 and under 0.1% at 9, while a run whose rounds all lie above or below every other run's
//   still fails, however narrow or wide its own spread.
// The pairwise count is printed too, for comparison.
import { rowLabel, type Ratio, type Report, type Row, type Step } from './report.js';

export interface RunValue {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: readonly number[];
}

export interface Agreement {
  readonly label: string;
  readonly medians: readonly number[];
  // Leave one run out (the criterion).
  readonly agree: boolean;
  // Each run's median within every other single run's lowest-highest round (for comparison).
  readonly pairwise: boolean;
  // Ratios: each run's verdict.
  readonly verdicts?: readonly string[];
}

// `values` holds one entry per run (undefined where a run lacks the item).
export function agreementOf(label: string, values: readonly (RunValue | undefined)[], verdicts?: readonly string[]): Agreement | undefined {
  if (values.length < 2 || values.some((v) => v === undefined)) return undefined;
  const runs = values as readonly RunValue[];
  const agree = runs.every((a, i) => {
    const others = runs.flatMap((b, j) => (j === i ? [] : [...b.rounds, b.min, b.max]));
    return a.median >= Math.min(...others) && a.median <= Math.max(...others);
  });
  const pairwise = runs.every((a) => runs.every((b) => a.median >= b.min && a.median <= b.max));
  return { label, medians: runs.map((r) => r.median), agree, pairwise, ...(verdicts === undefined ? {} : { verdicts }) };
}

const ratioKey = (r: Ratio): string => `${r.phase} ${r.name} @ ${r.bytes}`;
const rowKey = (r: Row): string => `${rowLabel(r)} ${r.bytes} B`;
const stepKey = (s: Step): string => `${s.phase} step ${s.step}`;

export interface RunsAgreement {
  readonly ratios: Agreement[];
  // Informational: absolute times drift with the machine's speed; only ratios carry targets.
  readonly rows: Agreement[];
  readonly steps: Agreement[];
}

export function compareRuns(reports: readonly Report[]): RunsAgreement {
  const last = reports[reports.length - 1];
  if (last === undefined) return { ratios: [], rows: [], steps: [] };
  const ratios = last.ratios.flatMap((ratio) => {
    const same = reports.map((r) => r.ratios.find((x) => ratioKey(x) === ratioKey(ratio)));
    const a = agreementOf(ratioKey(ratio), same, same.map((x) => x?.verdict ?? '-'));
    return a === undefined ? [] : [a];
  });
  const rows = last.rows.flatMap((row) => {
    const same = reports.map((r) => r.rows.find((x) => rowKey(x) === rowKey(row)));
    const a = agreementOf(
      rowKey(row),
      same.map((x) => (x === undefined ? undefined : { median: x.median_ns, min: x.min_ns, max: x.max_ns, rounds: x.rounds_ns })),
    );
    return a === undefined ? [] : [a];
  });
  const steps = last.steps.flatMap((step) => {
    const same = reports.map((r) => r.steps.find((x) => stepKey(x) === stepKey(step)));
    const a = agreementOf(stepKey(step), same);
    return a === undefined ? [] : [a];
  });
  return { ratios, rows, steps };
}
