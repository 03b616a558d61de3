// The demo's part of a bench report (runtime/demo/bench.ts, tools/bench): its ratios taken within
// each round, the checker's demands, and the page's table written from the report. Pure functions
// on made-up rows: no timing is asserted.
import { describe, expect, it } from 'vitest';

import { checkReport } from '../bench/check-report.js';
import { renderDoc } from '../bench/docs.js';
import { REPORT_SCHEMA, type Report, type Row } from '../bench/report.js';
import { summarize } from '../bench/rounds.js';
import { demoRatios, setQuiet } from '../bench/targets.js';

function row(phase: Row['phase'], op: string, bytes: number, rounds: number[]): Row {
  const s = summarize(rounds);
  return { phase, op, bytes, median_ns: s.median, min_ns: s.min, max_ns: s.max, p90_ns: s.max, rounds_ns: s.rounds, samples: 2, batch: 1 };
}

const MS = 1e6;

// The baselines the checker always wants, and the demo's six rows over two rounds. Image: one
// process 900 and 1000 ms, mini-Ray 400 and 500 ms, IPC 1000 and 1000 ms.
function demoReport(): Report {
  const rows = [
    row('baseline', 'napi_noop', 0, [20, 20]),
    row('baseline', 'napi_id_bytes', 0, [30, 32]),
    row('baseline', 'napi_id_hex', 0, [80, 82]),
    row('baseline', 'memcpy', 64, [100, 100]),
    row('baseline', 'ipc_roundtrip', 64, [100_000, 100_000]),
    row('demo', 'image_one_process', 0, [900 * MS, 1000 * MS]),
    row('demo', 'image_miniray', 0, [400 * MS, 500 * MS]),
    row('demo', 'image_ipc', 0, [1000 * MS, 1000 * MS]),
    row('demo', 'words_one_process', 0, [1200 * MS, 1300 * MS]),
    row('demo', 'words_miniray', 0, [700 * MS, 650 * MS]),
    row('demo', 'words_ipc', 0, [800 * MS, 800 * MS]),
  ];
  return {
    schema: REPORT_SCHEMA,
    created_at: '2026-11-30T12:00:00.000Z',
    quick: true,
    impl: 'solution',
    rounds: 2,
    machine: {
      cpu: 'cpu', cores: 2, memory_gib: 1, node: 'v20', os: 'Linux x64', kernel: '6',
      loadavg_start: [0.1], loadavg_end: [0.1], loadavg_rounds: [0.1, 0.1], foreign_cpu_rounds: [0.01, 0.02],
    },
    sizes: [64],
    phases: [{ phase: 'demo', status: 'ok' }],
    rows,
    ratios: demoRatios(rows),
    steps: [],
    notes: [],
    duration_s: 1,
    demo: {
      workers: 2,
      start_ms: { miniray: 900, ipc: 800 },
      jobs: [
        { job: 'image', label: 'image 3072x2048, 8 frames, 96 tiles', checksum: '99a4f83117914685' },
        { job: 'words', label: 'word count, 32 x 1024 KiB', checksum: 'aad3f3fd91514e7c' },
      ],
    },
  };
}

describe('the demo in the bench report', () => {
  it('each job gives one process / mini-Ray and Node IPC / mini-Ray, taken within each round, with verdicts from their spread', () => {
    setQuiet(true);
    const ratios = demoRatios(demoReport().rows);
    const get = (name: string): (typeof ratios)[number] | undefined => ratios.find((r) => r.name === name);
    expect(ratios.map((r) => r.name)).toEqual(['image_speedup', 'image_ipc_vs_miniray', 'words_speedup', 'words_ipc_vs_miniray']);
    expect(get('image_speedup')).toMatchObject({ phase: 'demo', rounds: [2.25, 2], verdict: 'pass' }); // 900/400, 1000/500
    expect(get('image_ipc_vs_miniray')).toMatchObject({ rounds: [2.5, 2], verdict: 'pass' }); // target >= 2
    expect(get('words_ipc_vs_miniray')).toMatchObject({ rounds: [1.14, 1.23], verdict: 'pass' });
    setQuiet(false);
    expect(demoRatios(demoReport().rows).every((r) => r.verdict === 'unstable' && r.noisy === true)).toBe(true);
    setQuiet(true);
  });

  it('the checker accepts a well-formed demo, and names a missing section, row or ratio', () => {
    setQuiet(true);
    const good = JSON.parse(JSON.stringify(demoReport())) as Record<string, unknown>;
    expect(checkReport(good as never, true)).toEqual([]);

    const noSection = JSON.parse(JSON.stringify(demoReport())) as Record<string, unknown>;
    delete noSection.demo;
    expect(checkReport(noSection as never, true)).toContain('demo: ran (status ok) but the report has no demo section');

    const noRow = JSON.parse(JSON.stringify(demoReport())) as { rows: Row[] };
    noRow.rows = noRow.rows.filter((r) => r.op !== 'image_ipc');
    expect(checkReport(noRow as never, true)).toContain('demo: no image_ipc row');

    const noRatio = JSON.parse(JSON.stringify(demoReport())) as { ratios: { name: string }[] };
    noRatio.ratios = noRatio.ratios.filter((r) => r.name !== 'words_speedup');
    expect(checkReport(noRatio as never, true)).toContain('demo: no words_speedup ratio');

    const failed = JSON.parse(JSON.stringify(demoReport())) as { phases: { phase: string; status: string; message?: string }[] };
    failed.phases = [{ phase: 'demo', status: 'not-implemented', message: 'mini-Ray needs phase 3 (the scheduler): not implemented' }];
    expect(checkReport(failed as never, true)).toContain('demo: status not-implemented: mini-Ray needs phase 3 (the scheduler): not implemented');
  });

  it('the page takes its table and figures from the report; a report without the demo leaves them as they were', () => {
    setQuiet(true);
    const page = [
      '<!-- bench:begin demo -->',
      'old table',
      '<!-- bench:end -->',
      'The image job ran <!-- bench:fig ratio:demo:image_ipc_vs_miniray:0 -->?<!-- /bench --> faster than Node IPC (<!-- bench:fig verdict:demo:image_ipc_vs_miniray:0 -->?<!-- /bench -->).',
    ].join('\n');
    const out = renderDoc(demoReport(), page);
    expect(out.missing).toEqual([]);
    expect(out.text).toContain('| image 3072x2048, 8 frames, 96 tiles | 950 ms (900-1000) | 450 ms (400-500) | 1.00 s | 2.13x (2.00x-2.25x) | 2.25x (2.00x-2.50x) |');
    expect(out.text).toContain('- met: image: Node IPC / mini-Ray = 2.25x (2.00x-2.50x) (target >= 2.00x)');
    expect(out.text).toContain('| word count, 32 x 1024 KiB | 1.25 s (1.20-1.30) | 675 ms (650-700) | 800 ms |');
    expect(out.text).toContain('in 2 rounds, 2 workers');
    expect(out.text).toContain('ran <!-- bench:fig ratio:demo:image_ipc_vs_miniray:0 -->2.25x (2.00x-2.50x)<!-- /bench --> faster');
    expect(out.text).toContain('(<!-- bench:fig verdict:demo:image_ipc_vs_miniray:0 -->met<!-- /bench -->)');

    // A run of the demo alone leaves the phases' tables as they were.
    const phasesTable = '<!-- bench:begin -->\nold\n<!-- bench:end -->\n<!-- bench:begin baseline phase2 -->\nold\n<!-- bench:end -->';
    const untouched = renderDoc(demoReport(), phasesTable);
    expect(untouched.text).toBe(phasesTable);
    expect(untouched.missing).toEqual(['table of every phase', 'table of baseline phase2']);

    const without = { ...demoReport(), demo: undefined, rows: [], ratios: [] } as unknown as Report;
    const kept = renderDoc(without, page);
    expect(kept.text).toBe(page);
    expect(kept.missing).toEqual(['demo table', 'ratio:demo:image_ipc_vs_miniray:0', 'verdict:demo:image_ipc_vs_miniray:0']);
  });
});
