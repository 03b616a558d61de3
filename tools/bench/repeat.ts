// Several consecutive `npm run bench -- --solution` runs, each started only once the machine is
// quiet, and whether they agree.
//
//   npx tsx tools/bench/repeat.ts [--runs 5] [--max-load 1.5] [--wait-min 30] [--update-docs] [bench args...]
//   npx tsx tools/bench/repeat.ts --compare REPORT.json REPORT.json...   (reports made earlier)
//
// Before each run it waits (up to --wait-min minutes) until the 1-minute load average is below
// --max-load, and records the load each run started at. The runs' reports go to
// build/bench-runs/run-<k>.json; the last one also to bench-report.json (and the docs with
// --update-docs). Then it prints, for every ratio, whether the runs agree: each run's median lies
// within the lowest-highest round of the other runs together (agreement.ts says why this test and
// not each other run alone), and each run's verdict; the same for the rows and the steps, which
// are informational (absolute times follow the machine's speed; only ratios carry targets); and a
// verdict line: AGREE when every ratio agrees.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

import { REPO_ROOT } from '../../lib/phases.js';
import { compareRuns, type Agreement } from './agreement.js';
import { updateDocs } from './docs.js';
import type { Report } from './report.js';

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
  // --compare FILE...: the agreement of reports made earlier, without running anything.
  const compare = argv.indexOf('--compare');
  if (compare >= 0) {
    const files = argv.slice(compare + 1);
    if (files.length < 2) throw new Error('--compare takes two or more report files');
    const reports = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Report);
    printAgreement(reports, reports.map((r) => r.machine.loadavg_start[0] ?? Number.NaN));
    return 0;
  }
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
  printAgreement(reports, startLoads);
  if (docs) for (const line of updateDocs(last)) console.log(line);
  return 0;
}

function printAgreement(reports: readonly Report[], startLoads: readonly number[]): void {
  const runs = reports.length;
  console.log(`runs: ${runs}; load at each start: ${startLoads.map((x) => x.toFixed(2)).join(', ')}; rounds per run: ${reports.map((r) => r.rounds).join(', ')}`);
  console.log(`other processes' share of the machine per round: ${reports.map((r) => `[${r.machine.foreign_cpu_rounds.map((x) => (x === null ? '?' : `${Math.round(x * 100)}%`)).join(' ')}]`).join(' ')}`);
  const { ratios, rows, steps } = compareRuns(reports);
  const fmt = (xs: readonly number[]): string => xs.map((x) => String(x)).join(' / ');
  console.log(`\nratios (they carry the targets): each run's median within the other runs' lowest-highest round`);
  for (const a of ratios) {
    const words = new Set(a.verdicts);
    console.log(
      `  ${a.agree ? 'agree   ' : 'DISAGREE'} ${a.label}: medians ${fmt(a.medians)}; ${a.verdicts?.join(' ')}${words.size > 1 ? ' (verdicts differ: its spread touches the target)' : ''}`,
    );
  }
  const informational = (title: string, list: readonly Agreement[]): void => {
    const off = list.filter((a) => !a.agree);
    console.log(`\n${title}: ${list.length - off.length} of ${list.length} agree`);
    for (const a of off) console.log(`  disagree ${a.label}: medians ${fmt(a.medians)}`);
  };
  informational('rows (informational: absolute times follow the machine\'s speed)', rows);
  informational('steps of a get (informational, ns)', steps);
  const ratioOff = ratios.filter((a) => !a.agree).length;
  const verdictsDiffer = ratios.filter((a) => new Set(a.verdicts).size > 1).length;
  console.log(
    `\nfor comparison, each run's median within every other single run's spread: ${ratios.filter((a) => !a.pairwise).length} of ${ratios.length} ratios and ${rows.filter((a) => !a.pairwise).length} of ${rows.length} rows disagree (this test fails by chance alone with few rounds; see agreement.ts)`,
  );
  console.log(
    `verdict: ${ratioOff === 0 ? 'AGREE' : 'DISAGREE'}: ${ratios.length - ratioOff} of ${ratios.length} ratios agree across ${runs} runs` +
      `; rows ${rows.filter((a) => a.agree).length} of ${rows.length}, steps ${steps.filter((a) => a.agree).length} of ${steps.length} (informational)` +
      `; ${verdictsDiffer} ratio${verdictsDiffer === 1 ? '' : 's'} changed verdict between runs`,
  );
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
