// The benchmark's method (tools/bench): verdicts from spreads, ratios taken within a round, steps
// as differences of rows, the report's checker, and the docs written from a report. Pure functions
// on made-up rows: no timing is asserted anywhere.
import { describe, expect, it } from 'vitest';

import { agreementOf } from '../bench/agreement.js';
import { checkReport } from '../bench/check-report.js';
import { figure, renderDoc } from '../bench/docs.js';
import { REPORT_SCHEMA, type Report, type Row } from '../bench/report.js';
import { summarize } from '../bench/rounds.js';
import { ratiosFor, setQuiet, stepsFor, verdictOf } from '../bench/targets.js';

function row(phase: Row['phase'], op: string, bytes: number, rounds: number[]): Row {
  const s = summarize(rounds);
  return { phase, op, bytes, median_ns: s.median, min_ns: s.min, max_ns: s.max, p90_ns: s.max, rounds_ns: s.rounds, samples: 30, batch: 100 };
}

// noop 20 ns in every round; get 150 ns (7.5x) in round 1 and `second` in round 2.
function rows(second: number): Row[] {
  return [
    row('baseline', 'napi_noop', 0, [20, 20]),
    row('baseline', 'napi_id_bytes', 0, [30, 32]),
    row('baseline', 'napi_id_hex', 0, [80, 82]),
    row('baseline', 'lock_unlock', 0, [45, 45]),
    row('baseline', 'memcpy', 64, [100, 100]),
    row('baseline', 'ipc_roundtrip', 64, [100_000, 100_000]),
    row('phase2', 'step_contains', 0, [90, 90]),
    row('phase2', 'step_locate', 0, [110, 112]),
    row('phase2', 'get', 64, [150, second]),
    row('phase2', 'get_release', 64, [230, 230]),
    row('phase2', 'get_hex_id', 64, [200, 200]),
  ];
}

describe('bench method', () => {
  it('verdicts: pass or fail only when every round lies on one side of the target', () => {
    expect(verdictOf(7, 7.9, { cmp: 'le', value: 8 })).toBe('pass');
    expect(verdictOf(8.1, 9, { cmp: 'le', value: 8 })).toBe('fail');
    expect(verdictOf(7, 9, { cmp: 'le', value: 8 })).toBe('unstable');
    expect(verdictOf(0.9, 1.2, { cmp: 'ge', value: 0.9 })).toBe('pass');
    expect(verdictOf(0.5, 0.89, { cmp: 'ge', value: 0.9 })).toBe('fail');
    expect(verdictOf(0.8, 1, { cmp: 'ge', value: 0.9 })).toBe('unstable');
  });

  it('a ratio is taken within each round: straddling rounds are unstable, agreeing ones pass or fail', () => {
    setQuiet(true);
    const get = (second: number) => ratiosFor('phase2', rows(second), [64]).find((r) => r.name === 'get_vs_noop');
    expect(get(155)).toMatchObject({ verdict: 'pass', rounds: [7.5, 7.8], min: 7.5, max: 7.8 });
    expect(get(200)).toMatchObject({ verdict: 'unstable', min: 7.5, max: 10 });
    setQuiet(false);
    expect(get(155)).toMatchObject({ verdict: 'unstable', noisy: true });
    setQuiet(true);
  });

  it("a get's ratio is the median over its pairs with the no-op, when the row has them: a machine twice as slow for a while cancels out", () => {
    setQuiet(true);
    // Round 2 ran at half speed for the get but not for the no-op row measured seconds earlier.
    const slow = rows(300);
    const plain = ratiosFor('phase2', slow, [64]).find((r) => r.name === 'get_vs_noop');
    expect(plain).toMatchObject({ rounds: [7.5, 15], verdict: 'unstable' });
    const i = slow.findIndex((r) => r.op === 'get');
    const pairs = { paired_with: 'napi_noop', paired_rounds_ns: [20, 40], paired_ratio_rounds: [7.5, 7.4], paired_diff_rounds_ns: [130, 256] };
    slow[i] = { ...(slow[i] as Row), ...pairs };
    const paired = ratiosFor('phase2', slow, [64]).find((r) => r.name === 'get_vs_noop');
    expect(paired).toMatchObject({ rounds: [7.5, 7.4], verdict: 'pass' });
    // Pairs with another reference are not a no-op's.
    slow[i] = { ...(slow[i] as Row), ...pairs, paired_with: 'memcpy' };
    expect(ratiosFor('phase2', slow, [64]).find((r) => r.name === 'get_vs_noop')).toMatchObject({ rounds: [7.5, 15] });
    const json = JSON.parse(JSON.stringify({ ...slow[i], ...pairs, paired_ratio_rounds: [7.5] })) as Row;
    const report = { schema: REPORT_SCHEMA, rounds: 2, rows: [json] };
    expect(checkReport(report as never, false).join('\n')).toContain('paired_ratio_rounds does not give one positive value per round');
  });

  it("put / memcpy bandwidth is memcpy's time over the put's, the median over their pairs when the put has them", () => {
    setQuiet(true);
    const r = [...rows(150), row('phase2', 'memcpy', 1 << 20, [100_000, 100_000]), row('phase2', 'put', 1 << 20, [100_000, 200_000])];
    const put = (): unknown => ratiosFor('phase2', r, [64, 1 << 20]).find((x) => x.name === 'put_vs_memcpy_bandwidth');
    expect(put()).toMatchObject({ rounds: [1, 0.5], verdict: 'unstable' });
    r[r.length - 1] = { ...(r[r.length - 1] as Row), paired_with: 'memcpy', paired_rounds_ns: [100_000, 190_000], paired_ratio_rounds: [1, 1.05], paired_diff_rounds_ns: [0, 10_000] };
    expect(put()).toMatchObject({ rounds: [1, 0.952], verdict: 'pass' });
  });

  it('the lookup step is the median difference over its pairs when measured directly, so a speed change cannot make it negative', () => {
    // Four rows measured seconds apart: the difference reads negative in round 2.
    const r = rows(150).map((x) => (x.op === 'lock_unlock' ? row('baseline', 'lock_unlock', 0, [45, 90]) : x));
    const lookup = (): unknown => stepsFor('phase2', r, [64]).find((s) => s.step === 'lookup');
    expect(lookup()).toMatchObject({ rounds: [35, -12] });
    const i = r.findIndex((x) => x.op === 'step_contains');
    r[i] = { ...(r[i] as Row), paired_with: 'id_lock_unlock', paired_rounds_ns: [70, 71], paired_ratio_rounds: [1.3, 1.3], paired_diff_rounds_ns: [19, 21] };
    expect(lookup()).toMatchObject({ rounds: [19, 21], from: 'phase2 step_contains - id_lock_unlock (paired)' });
  });

  it('steps are differences of rows taken per round', () => {
    const steps = stepsFor('phase2', rows(160), [64]);
    const step = (name: string) => steps.find((s) => s.step === name);
    expect(step('id_bytes')).toMatchObject({ median: 11, rounds: [10, 12] });
    expect(step('lock')).toMatchObject({ median: 25 });
    expect(step('pin')).toMatchObject({ rounds: [20, 22] });
    expect(step('view')).toMatchObject({ rounds: [40, 48] });
    expect(step('hex_id')).toMatchObject({ rounds: [50, 40] });
  });

  it('the checker refuses a verdict that does not follow from its spread, and a round outside min-max', () => {
    setQuiet(true);
    const r = rows(155);
    const report: Report = {
      schema: REPORT_SCHEMA,
      created_at: new Date().toISOString(),
      quick: true,
      impl: 'solution',
      rounds: 2,
      machine: {
        cpu: 'cpu', cores: 2, memory_gib: 1, node: 'v20', os: 'Linux x64', kernel: '6',
        loadavg_start: [0.1], loadavg_end: [0.1], loadavg_rounds: [0.1, 0.1], foreign_cpu_rounds: [0.01, 0.02],
      },
      sizes: [64],
      phases: [],
      rows: r,
      ratios: ratiosFor('phase2', r, [64]),
      steps: stepsFor('phase2', r, [64]),
      notes: [],
      duration_s: 1,
    };
    const json = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    expect(checkReport(json as never, false)).toEqual([]);
    const ratios = json.ratios as { verdict: string }[];
    (ratios[0] as { verdict: string }).verdict = 'fail';
    ((json.rows as { rounds_ns: number[] }[])[0] as { rounds_ns: number[] }).rounds_ns = [1, 20];
    const errors = checkReport(json as never, false).join('\n');
    expect(errors).toContain('ratios[0].verdict fail does not follow');
    expect(errors).toContain('rows[0]: a round lies outside min-max');
  });

  it("runs agree when each run's median lies within the other runs' rounds together; an outlier run does not", () => {
    const run = (rounds: number[]) => ({ ...summarize(rounds), rounds });
    // Three steady runs: run 2's median (6.4) lies outside run 1's spread (6.0-6.3), which the
    // pairwise test calls a disagreement; it lies within what runs 1 and 3 saw together.
    const steady = [run([6.0, 6.1, 6.3]), run([6.2, 6.4, 6.5]), run([6.1, 6.2, 6.6])];
    expect(agreementOf('get', steady)).toMatchObject({ agree: true, pairwise: false, medians: [6.1, 6.4, 6.2] });
    // A run whose every round lies above every other run's.
    const outlier = [...steady, run([7.5, 7.6, 7.8])];
    expect(agreementOf('get', outlier)).toMatchObject({ agree: false });
    expect(agreementOf('get', [steady[0], undefined])).toBeUndefined();
  });

  it('docs take every figure from the report and leave unknown keys as they were', () => {
    setQuiet(true);
    const r = rows(155);
    const report = { rows: r, ratios: ratiosFor('phase2', r, [64]), steps: stepsFor('phase2', r, [64]) } as unknown as Report;
    expect(figure(report, 'row:phase2:get:64')).toBe('153 ns (150-155)');
    expect(figure(report, 'verdict:phase2:get_vs_noop:64')).toBe('met');
    const text = 'a get costs <!-- bench:fig row:phase2:get:64 -->999 ns<!-- /bench --> and <!-- bench:fig row:phase9:x:1 -->old<!-- /bench -->.';
    const out = renderDoc(report, text);
    expect(out.text).toBe(
      'a get costs <!-- bench:fig row:phase2:get:64 -->153 ns (150-155)<!-- /bench --> and <!-- bench:fig row:phase9:x:1 -->old<!-- /bench -->.',
    );
    expect(out.missing).toEqual(['row:phase9:x:1']);
  });
});

describe('ids as 20 bytes (lib/ids.ts)', () => {
  it('idBytes and idHex round-trip, and reject what is not an id', async () => {
    const { idBytes, idHex, objectId, randomObjectId } = await import('../../lib/ids.js');
    const id = randomObjectId();
    const bytes = idBytes(id);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBe(20);
    expect(idHex(bytes)).toBe(id);
    expect(idBytes(bytes)).toBe(bytes);
    expect(idHex(idBytes(objectId('AB'.repeat(20))))).toBe('ab'.repeat(20));
    expect(() => idBytes('xyz' as never)).toThrow(/40 hex digits/);
    expect(() => idHex(new Uint8Array(19) as never)).toThrow(/20 bytes/);
  });
});
