// Several consecutive `npm run bench -- --solution` runs, each started only once the machine is
// quiet, and whether they agree.
//
//   npx tsx tools/bench/repeat.ts [--runs 5] [--max-load 1.5] [--wait-min 30] [--update-docs] [bench args...]
//
// Before each run it waits (up to --wait-min minutes) until the 1-minute load average is below
// --max-load, and records the load each run started at. The runs' reports go to
// build/bench-runs/run-<k>.json; the last one also to bench-report.json (and the docs with
// --update-docs). Then it prints, for every row and ratio, whether the runs agree: each run's
// median lies within the lowest-highest round of every other run; and whether every run gave the
// same verdicts.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

import { REPO_ROOT } from '../../lib/phases.js';
import { updateDocs } from './docs.js';
import { rowLabel, type Report } from './report.js';

function option(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  argv.splice(i, 2);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} takes a positive number`);
  return v;
}

async function waitQuiet(maxLoad: number, waitMin: number): Promise<number> {
  const deadline = Date.now() + waitMin * 60_000;
  for (;;) {
    const load = loadavg()[0] ?? 0;
    if (load < maxLoad) return load;
    if (Date.now() > deadline) {
      console.error(`repeat: load ${load.toFixed(2)} still >= ${maxLoad} after ${waitMin} min; running anyway (its verdicts will say so)`);
      return load;
    }
    process.stderr.write(`repeat: load ${load.toFixed(2)} >= ${maxLoad}, waiting...\n`);
    await new Promise((resolve) => setTimeout(resolve, 20_000));
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const runs = option(argv, '--runs', 5);
  const maxLoad = option(argv, '--max-load', 1.5);
  const waitMin = option(argv, '--wait-min', 30);
  const docs = argv.includes('--update-docs');
  const benchArgs = argv.filter((a) => a !== '--update-docs');
  if (!benchArgs.includes('--solution') && !benchArgs.includes('--student')) benchArgs.push('--solution');
  const dir = join(REPO_ROOT, 'build', 'bench-runs');
  mkdirSync(dir, { recursive: true });
  const reports: Report[] = [];
  const startLoads: number[] = [];
  for (let k = 1; k <= runs; k += 1) {
    startLoads.push(await waitQuiet(maxLoad, waitMin));
    const out = join(dir, `run-${k}.json`);
    console.error(`repeat: run ${k}/${runs} (load ${startLoads[k - 1]?.toFixed(2)})`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tools/bench/main.ts'), ...benchArgs, '--out', out], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) {
      console.error(`repeat: run ${k} failed (exit ${r.status ?? r.signal ?? '?'})`);
      return 1;
    }
    reports.push(JSON.parse(readFileSync(out, 'utf8')) as Report);
  }
  const last = reports[reports.length - 1] as Report;
  copyFileSync(join(dir, `run-${runs}.json`), join(REPO_ROOT, 'bench-report.json'));

  console.log(`runs: ${runs}; load at each start: ${startLoads.map((x) => x.toFixed(2)).join(', ')}`);
  console.log(`other processes' share of the machine per round: ${reports.map((r) => `[${r.machine.foreign_cpu_rounds.map((x) => (x === null ? '?' : `${Math.round(x * 100)}%`)).join(' ')}]`).join(' ')}`);
  let disagree = 0;
  for (const row of last.rows) {
    const same = reports.map((r) => r.rows.find((x) => rowLabel(x) === rowLabel(row) && x.bytes === row.bytes));
    if (same.some((x) => x === undefined)) continue;
    const ok = same.every((a) => same.every((b) => a !== undefined && b !== undefined && a.median_ns >= b.min_ns && a.median_ns <= b.max_ns));
    if (!ok) {
      disagree += 1;
      console.log(`  rows disagree: ${rowLabel(row)} ${row.bytes} B: medians ${same.map((x) => x?.median_ns).join(', ')} ns`);
    }
  }
  let verdicts = 0;
  for (const ratio of last.ratios) {
    const same = reports.map((r) => r.ratios.find((x) => x.phase === ratio.phase && x.name === ratio.name && x.bytes === ratio.bytes));
    const ok = same.every((a) => same.every((b) => a !== undefined && b !== undefined && a.median >= b.min && a.median <= b.max));
    const words = same.map((x) => x?.verdict ?? '-');
    if (!ok || new Set(words).size > 1) verdicts += 1;
    console.log(`  ${ratio.phase} ${ratio.name} @ ${ratio.bytes}: ${words.join(' ')}; medians ${same.map((x) => x?.median).join(', ')}${ok ? '' : '  (disagree)'}`);
  }
  console.log(`${disagree} of ${last.rows.length} rows and ${verdicts} of ${last.ratios.length} ratios disagree between runs`);
  if (docs) for (const line of updateDocs(last)) console.log(line);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`repeat failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
