// The rounds of a run. Every meter is measured once per round, in the same order (the baselines
// first, then each phase's rows), so that a ratio of two rows can be taken within one round, where
// both saw the same load. A row then reports the median of its round medians and the lowest and
// highest round (the spread); see targets.ts for the ratios and the steps.
import { loadavg } from 'node:os';

import { cpuSnapshot, foreignShare } from './noise.js';

import { budgetFor, type Meter } from './context.js';
import { quantile, type Stats } from './harness.js';
import type { Row, RowPhase, Spread } from './report.js';

// The meters of one phase (or of the baselines): when one fails, the group's rows are dropped.
export interface Group {
  readonly name: RowPhase;
  readonly meters: readonly Meter[];
}

export interface RoundsResult {
  readonly rows: Row[];
  // The 1-minute load average as each round began.
  readonly load: number[];
  // The share of the machine other processes used during each round (noise.ts), when known.
  readonly foreign: (number | null)[];
  // Groups that failed, with the error.
  readonly failed: Map<RowPhase, unknown>;
}

export interface RoundsOptions {
  readonly rounds: number;
  readonly quick: boolean;
  readonly log: (message: string) => void;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

// Median, lowest and highest of per-round values, each rounded by `round` first (so that every
// round lies within [min, max] as printed).
export function summarize(values: readonly number[], round: (x: number) => number = round1): Spread {
  const rounded = values.map(round);
  const sorted = [...rounded].sort((a, b) => a - b);
  return {
    median: round(quantile(sorted, 0.5)),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    rounds: rounded,
  };
}

export function toRow(m: Meter, stats: readonly Stats[]): Row {
  const s = summarize(stats.map((x) => x.median_ns));
  const p90 = summarize(stats.map((x) => x.p90_ns)).median;
  const row: Row = {
    phase: m.phase,
    op: m.op,
    bytes: m.bytes,
    median_ns: s.median,
    min_ns: s.min,
    max_ns: s.max,
    p90_ns: Math.max(p90, s.median),
    rounds_ns: s.rounds,
    samples: stats.reduce((a, x) => a + x.samples, 0),
    batch: stats[stats.length - 1]?.batch ?? 1,
  };
  const paired = stats.map((x) => x.paired_median_ns);
  const ratio = stats.map((x) => x.paired_ratio);
  const diff = stats.map((x) => x.paired_diff_ns);
  const all = <T>(xs: (T | undefined)[]): xs is T[] => xs.every((x) => x !== undefined);
  const withPaired =
    m.paired !== undefined && all(paired) && all(ratio) && all(diff) && paired.every((x) => x > 0)
      ? {
          ...row,
          paired_with: m.paired,
          paired_rounds_ns: paired.map(round1),
          paired_ratio_rounds: ratio.map((x) => Number(x.toPrecision(4))),
          paired_diff_rounds_ns: diff.map(round1),
        }
      : row;
  return m.movesBytes && m.bytes > 0 ? { ...withPaired, bandwidth_gbps: Number((m.bytes / s.median).toPrecision(4)) } : withPaired;
}

export async function runRounds(groups: readonly Group[], options: RoundsOptions): Promise<RoundsResult> {
  const stats = new Map<Meter, Stats[]>();
  const failed = new Map<RowPhase, unknown>();
  const load: number[] = [];
  const foreign: (number | null)[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    load.push(Math.round((loadavg()[0] ?? 0) * 100) / 100);
    const started = Date.now();
    const before = cpuSnapshot();
    for (const group of groups) {
      if (failed.has(group.name)) continue;
      try {
        for (const m of group.meters) {
          const s = await m.measure(budgetFor(m.bytes, options.quick));
          const list = stats.get(m) ?? [];
          list.push(s);
          stats.set(m, list);
        }
      } catch (e) {
        failed.set(group.name, e);
      }
    }
    const share = foreignShare(before, cpuSnapshot());
    foreign.push(share === undefined ? null : Math.round(share * 1000) / 1000);
    options.log(
      `round ${round + 1}/${options.rounds} done in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(load ${load[round]?.toFixed(2)}, other processes used ${share === undefined ? '?' : `${(share * 100).toFixed(0)}%`} of the machine)`,
    );
  }
  const rows: Row[] = [];
  for (const group of groups) {
    if (failed.has(group.name)) continue;
    for (const m of group.meters) {
      const list = stats.get(m);
      if (list !== undefined && list.length === options.rounds) rows.push(toRow(m, list));
    }
  }
  return { rows, load, foreign, failed };
}
