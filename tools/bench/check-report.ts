// Checks that a bench report is well-formed (npm run verify runs it after `bench --quick`).
// It never judges the numbers: benchmarks are not tests.
//
//   npx tsx tools/bench/check-report.ts [bench-report.json] [--expect-ok]
//
// --expect-ok also requires every benchmarked phase to have status 'ok' (for the solution build).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { REPO_ROOT } from '../../lib/phases.js';
import { REPORT_SCHEMA } from './report.js';
import { verdictOf } from './targets.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: Json | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: Json | undefined): v is string => typeof v === 'string' && v.length > 0;

export function checkReport(report: Json, expectOk: boolean): string[] {
  const errors: string[] = [];
  const fail = (m: string): void => {
    errors.push(m);
  };
  if (!isObj(report)) return ['the report is not a JSON object'];
  if (report.schema !== REPORT_SCHEMA) fail(`schema is ${JSON.stringify(report.schema)}, expected ${REPORT_SCHEMA}`);
  if (!isStr(report.created_at) || Number.isNaN(Date.parse(report.created_at))) fail('created_at is not a date');
  if (typeof report.quick !== 'boolean') fail('quick is not a boolean');
  if (report.impl !== 'student' && report.impl !== 'solution') fail('impl is neither student nor solution');

  const m = report.machine;
  if (!isObj(m)) fail('machine is missing');
  else {
    for (const k of ['cpu', 'node', 'os', 'kernel']) if (!isStr(m[k])) fail(`machine.${k} is missing`);
    for (const k of ['cores', 'memory_gib']) if (!isNum(m[k]) || (m[k] as number) <= 0) fail(`machine.${k} is missing`);
  }

  const sizes = report.sizes;
  if (!Array.isArray(sizes) || sizes.length === 0 || !sizes.every((s) => isNum(s) && s > 0)) fail('sizes is not a list of sizes');

  const rounds = report.rounds;
  if (!isNum(rounds) || rounds < 1 || !Number.isInteger(rounds)) fail('rounds is not a count');
  if (isObj(m) && (!Array.isArray(m.loadavg_rounds) || m.loadavg_rounds.length !== rounds || !m.loadavg_rounds.every(isNum))) {
    fail('machine.loadavg_rounds does not give one load per round');
  }
  const spreadErrors = (at: string, o: Obj, key: string, suffix: string): void => {
    const med = o[`${key}${suffix}`];
    const lo = o[`min${suffix}`];
    const hi = o[`max${suffix}`];
    const list = o[suffix === '' ? 'rounds' : 'rounds_ns'];
    if (!isNum(med) || !isNum(lo) || !isNum(hi) || lo > med || med > hi) fail(`${at}: not min <= median <= max`);
    if (!Array.isArray(list) || list.length !== rounds || !list.every(isNum)) fail(`${at}: not one value per round`);
    else if (isNum(lo) && isNum(hi) && list.some((x) => (x as number) < lo || (x as number) > hi)) fail(`${at}: a round lies outside min-max`);
  };

  const rows = report.rows;
  if (!Array.isArray(rows) || rows.length === 0) return [...errors, 'rows is empty'];
  rows.forEach((r, i) => {
    const at = `rows[${i}]`;
    if (!isObj(r)) return fail(`${at} is not an object`);
    if (!isStr(r.phase) || !isStr(r.op)) fail(`${at} lacks phase or op`);
    if (!isNum(r.bytes) || r.bytes < 0 || !Number.isInteger(r.bytes)) fail(`${at}.bytes is not a byte count`);
    if (!isNum(r.median_ns) || r.median_ns <= 0) fail(`${at}.median_ns is not a positive number`);
    spreadErrors(at, r, 'median', '_ns');
    if (!isNum(r.p90_ns) || !isNum(r.median_ns) || r.p90_ns < r.median_ns) fail(`${at}.p90_ns is missing or below the median`);
    if (!isNum(r.samples) || r.samples < 1 || !Number.isInteger(r.samples)) fail(`${at}.samples is not a count`);
    if (!isNum(r.batch) || r.batch < 1) fail(`${at}.batch is not a count`);
    if (r.bandwidth_gbps !== undefined && (!isNum(r.bandwidth_gbps) || r.bandwidth_gbps <= 0)) fail(`${at}.bandwidth_gbps is malformed`);
    if (r.paired_with !== undefined || r.paired_rounds_ns !== undefined) {
      if (!isStr(r.paired_with)) fail(`${at}.paired_with does not name the reference op`);
      const perRound = (key: string, positive: boolean): void => {
        const v = r[key];
        if (!Array.isArray(v) || v.length !== rounds || !v.every((x) => isNum(x) && (!positive || x > 0))) {
          fail(`${at}.${key} does not give one ${positive ? 'positive ' : ''}value per round`);
        }
      };
      perRound('paired_rounds_ns', true);
      perRound('paired_ratio_rounds', true);
      perRound('paired_diff_rounds_ns', false);
    }
  });
  const has = (phase: string, op: string, bytes: number): boolean =>
    rows.some((r) => isObj(r) && r.phase === phase && r.op === op && r.bytes === bytes);
  const sizeList = Array.isArray(sizes) ? sizes.filter(isNum) : [];
  for (const bytes of sizeList) {
    for (const op of ['memcpy', 'ipc_roundtrip']) if (!has('baseline', op, bytes)) fail(`no baseline ${op} row for ${bytes} bytes`);
  }
  for (const op of ['napi_noop', 'napi_id_bytes', 'napi_id_hex']) if (!has('baseline', op, 0)) fail(`no baseline ${op} row`);

  const phases = report.phases;
  if (!Array.isArray(phases)) fail('phases is missing');
  else {
    for (const p of phases) {
      if (!isObj(p) || !isStr(p.phase) || !isStr(p.status)) {
        fail('a phases entry lacks phase or status');
        continue;
      }
      if (p.status !== 'ok') {
        if (expectOk) fail(`${p.phase}: status ${p.status}${isStr(p.message) ? `: ${p.message}` : ''}`);
        continue;
      }
      if (p.phase === 'demo') {
        checkDemo(report, has, fail);
        continue;
      }
      if (p.phase === 'phase3') {
        for (const op of ['task_roundtrip', 'task_local', 'tasks_1_worker', 'tasks_2_workers', 'tasks_4_workers']) {
          if (!has(p.phase, op, 0)) fail(`${p.phase}: no ${op} row`);
        }
        continue;
      }
      if (p.phase === 'phase4') {
        // Phase 4 against the phase-2 design, side by side (tools/bench/phases/phase4.ts).
        for (const bytes of [64, 1 << 20]) for (const op of ['get', 'get_release']) if (!has('phase4', op, bytes)) fail(`phase4: no ${op} row for ${bytes} bytes`);
        const pairs: Array<[string, number]> = [['small_churn', 2048], ['overflow_get', 16 * 1024]];
        for (const w of ['distinct', 'shared']) for (const n of [1, 2, 4]) pairs.push([`churn_${w}_${n}p`, 2048]);
        for (const [op, bytes] of pairs) {
          for (const design of ['phase4', 'phase2']) if (!has(design, op, bytes)) fail(`phase4: no ${design} ${op} row`);
        }
        continue;
      }
      const ops = ['put', 'get', 'get_other_process', ...(p.phase === 'phase1' ? [] : ['create_seal', 'get_release'])];
      for (const bytes of sizeList) for (const op of ops) if (!has(p.phase, op, bytes)) fail(`${p.phase}: no ${op} row for ${bytes} bytes`);
      const stepOps = ['step_locate', ...(p.phase === 'phase1' ? [] : ['step_contains'])];
      for (const op of stepOps) if (!has(p.phase, op, 0)) fail(`${p.phase}: no ${op} row`);
      const steps = report.steps;
      if (!Array.isArray(steps) || !steps.some((x) => isObj(x) && x.phase === p.phase)) fail(`${p.phase}: no steps`);
    }
  }

  const ratios = report.ratios;
  if (!Array.isArray(ratios)) fail('ratios is missing');
  else {
    ratios.forEach((r, i) => {
      const at = `ratios[${i}]`;
      if (!isObj(r) || !isStr(r.name) || !isStr(r.phase) || !isObj(r.target) || !isStr(r.verdict)) return fail(`${at} is malformed`);
      spreadErrors(at, r, 'median', '');
      const t = r.target;
      if ((t.cmp !== 'le' && t.cmp !== 'ge') || !isNum(t.value)) return fail(`${at}.target is malformed`);
      if (r.noisy !== undefined && (r.noisy !== true || r.verdict !== 'unstable')) fail(`${at}: noisy but not unstable`);
      if (r.noisy === undefined && isNum(r.min) && isNum(r.max) && r.verdict !== verdictOf(r.min, r.max, { cmp: t.cmp, value: t.value })) {
        fail(`${at}.verdict ${r.verdict} does not follow from its spread and target`);
      }
    });
    if (Array.isArray(phases) && phases.some((p) => isObj(p) && p.status === 'ok') && ratios.length === 0) fail('no ratios although a phase ran');
  }
  const steps = report.steps;
  if (!Array.isArray(steps)) fail('steps is missing');
  else {
    steps.forEach((x, i) => {
      if (!isObj(x) || !isStr(x.phase) || !isStr(x.step) || !isStr(x.from)) return fail(`steps[${i}] is malformed`);
      spreadErrors(`steps[${i}]`, x, 'median', '');
    });
  }
  return errors;
}

export const DEMO_OPS = ['one_process', 'miniray', 'ipc'] as const;

// The demo's part: its rows (every job three ways), the section saying what they ran, and both
// ratios of every job.
function checkDemo(report: Obj, has: (phase: string, op: string, bytes: number) => boolean, fail: (m: string) => void): void {
  const d = report.demo;
  if (!isObj(d)) return fail('demo: ran (status ok) but the report has no demo section');
  if (!isNum(d.workers) || d.workers < 1 || !Number.isInteger(d.workers)) fail('demo.workers is not a count');
  const start = d.start_ms;
  if (!isObj(start) || !isNum(start.miniray) || !isNum(start.ipc) || start.miniray < 0 || start.ipc < 0) fail('demo.start_ms is malformed');
  else if ((start.preallocate !== undefined || start.preallocated_mib !== undefined) && !(isNum(start.preallocate) && isNum(start.preallocated_mib) && start.preallocate >= 0 && start.preallocate <= start.miniray && start.preallocated_mib > 0)) {
    fail('demo.start_ms.preallocate / preallocated_mib are malformed (both or neither; the time is part of mini-Ray\'s start)');
  }
  const jobs = d.jobs;
  if (!Array.isArray(jobs) || jobs.length === 0) return fail('demo.jobs is empty');
  const ratios = Array.isArray(report.ratios) ? report.ratios : [];
  for (const [i, j] of jobs.entries()) {
    if (!isObj(j) || (j.job !== 'image' && j.job !== 'words') || !isStr(j.label) || !isStr(j.checksum)) {
      fail(`demo.jobs[${i}] is malformed`);
      continue;
    }
    for (const way of DEMO_OPS) if (!has('demo', `${j.job}_${way}`, 0)) fail(`demo: no ${j.job}_${way} row`);
    for (const name of [`${j.job}_speedup`, `${j.job}_ipc_vs_miniray`]) {
      if (!ratios.some((r) => isObj(r) && r.phase === 'demo' && r.name === name)) fail(`demo: no ${name} ratio`);
    }
  }
  if (!jobs.some((j) => isObj(j) && j.job === 'image')) fail('demo: no image job');
}

function main(argv: readonly string[]): number {
  const file = argv.find((a) => !a.startsWith('--')) ?? join(REPO_ROOT, 'bench-report.json');
  let report: Json;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch (e) {
    console.error(`check-report: cannot read ${file}: ${(e as Error).message}`);
    return 1;
  }
  const errors = checkReport(report, argv.includes('--expect-ok'));
  if (errors.length > 0) {
    console.error(`check-report: ${file} is malformed:\n  ${errors.join('\n  ')}`);
    return 1;
  }
  console.log(`check-report: ${file} is well-formed`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = main(process.argv.slice(2));
}
