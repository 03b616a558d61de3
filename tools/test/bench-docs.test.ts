// The phases' tables the README and the lessons get from a bench report (tools/bench/report.ts):
// a row measured at a size that has no column goes into the workloads table, never as an empty
// line. Pure functions on made-up rows: no timing is asserted.
import { describe, expect, it } from 'vitest';

import { REPORT_SCHEMA, renderMarkdown, type Report, type Row } from '../bench/report.js';
import { summarize } from '../bench/rounds.js';

function row(phase: Row['phase'], op: string, bytes: number, rounds: number[]): Row {
  const s = summarize(rounds);
  return { phase, op, bytes, median_ns: s.median, min_ns: s.min, max_ns: s.max, p90_ns: s.max, rounds_ns: s.rounds, samples: 2, batch: 1 };
}

function report(rows: Row[]): Report {
  return {
    schema: REPORT_SCHEMA,
    created_at: '2026-11-30T12:00:00.000Z',
    quick: false,
    impl: 'solution',
    rounds: 2,
    machine: {
      cpu: 'cpu', cores: 2, memory_gib: 1, node: 'v20', os: 'Linux x64', kernel: '6',
      loadavg_start: [0.1], loadavg_end: [0.1], loadavg_rounds: [0.1, 0.1], foreign_cpu_rounds: [0.01, 0.02],
    },
    sizes: [64, 1 << 20],
    phases: [{ phase: 'phase4', status: 'ok' }],
    rows,
    ratios: [],
    steps: [],
    notes: [],
    duration_s: 1,
  };
}

const rows = [
  row('baseline', 'napi_noop', 0, [20, 30]),
  row('phase2', 'get', 64, [150, 170]),
  row('phase4', 'get', 64, [160, 180]),
  row('phase4', 'small_churn', 2048, [900, 1100]),
  row('phase2', 'small_churn', 2048, [2000, 2200]),
  row('phase4', 'overflow_get', 16384, [2000, 3000]),
];

describe('the bench tables in the README and the lessons', () => {
  it('puts the rows of other sizes in a workloads table, phase 4 beside the phase-2 design, and no empty line', () => {
    const all = renderMarkdown(report(rows));
    expect(all).toContain('| phase4 get | 170 ns (160-180) |  |');
    expect(all).toContain('| workload, time per operation | size | phase 4 | phase-2 design |');
    expect(all).toContain('| small_churn | 2 KiB | 1.00 us (0.90-1.10) | 2.10 us (2.00-2.20) |');
    expect(all).toContain('| overflow_get | 16 KiB | 2.50 us (2.00-3.00) |  |');
    expect(all).not.toMatch(/\| (phase[24] )?(small_churn|overflow_get) \|\s+\|/);
    expect(all.split('\n').filter((l) => /^\| [^|]+(\|\s*)+\|$/.test(l) && !l.startsWith('|---'))).toEqual([]);
  });

  it("shows the workloads only in a block that names phase 4 (the phase-2 lesson's block does not)", () => {
    expect(renderMarkdown(report(rows), ['phase4'])).toContain('| small_churn | 2 KiB |');
    const phase2 = renderMarkdown(report(rows), ['baseline', 'phase2']);
    expect(phase2).toContain('| phase2 get | 160 ns (150-170) |');
    expect(phase2).not.toContain('small_churn');
  });
});
