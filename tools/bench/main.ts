// npm run bench: the object store against memcpy, Node's IPC and its own earlier phases.
//
//   npm run bench                      every phase that has a benchmark, on the student's code
//   npm run bench -- phase2            one phase (the baselines always run)
//   npm run bench -- demo              mini-Ray's demo jobs alone (runtime/demo/bench.ts); a run that
//                                      names nothing measures every phase and the demo
//   npm run bench -- --solution        the reference solution (MINIRAY_IMPL=solution does the same)
//   npm run bench -- --quick           few samples, sizes up to 1 MiB: checks that it all runs
//   npm run bench -- --update-docs     also rewrites the <!-- bench:begin --> ... <!-- bench:end -->
//                                      block of README.md and phase2-objects/README.md
//   npm run bench -- --out FILE        write the report elsewhere (default bench-report.json)
//
//   npm run bench -- --rounds N        measure every row N times, interleaved (default 7; --quick: 2)
//
// Every row is measured once per round, all rows in the same order, so that a ratio of two rows is
// taken within a round; the report gives the median over rounds and the spread (rounds.ts,
// targets.ts). Within a round a row is the median of many samples after a warm-up, measured by
// tinybench (harness.ts). Benchmarks are never tests: a missed target is reported, never an exit
// status.
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { isMiniRayError } from '../../lib/errors.js';
import { PHASES, REPO_ROOT, currentImpl, type Impl, type PhaseId } from '../../lib/phases.js';
import { build } from '../build.js';
import { idBytes, randomObjectId } from '../../lib/ids.js';
import { cleanupAll, installCleanupHandlers } from './cleanup.js';
import {
  DEFAULT_ROUNDS,
  QUICK_ROUNDS,
  aligned,
  meter,
  poolBytes,
  poolSlots,
  testBytes,
  type BenchContext,
  type Meter,
  type MeterSet,
} from './context.js';
import { updateDocs } from './docs.js';
import { measureBatched, type Budget, type Stats } from './harness.js';
import { describeMachine } from './machine.js';
import { loadBenchNative, type BenchNative } from './native.js';
import { PHASE_BENCHES } from './phases/index.js';
import { ipcMeters, otherProcessMeters, serveInOtherProcess } from './procs.js';
import {
  KiB,
  MiB,
  REPORT_SCHEMA,
  fmtBytes,
  renderTerminal,
  type BenchPart,
  type DemoInfo,
  type PhaseResult,
  type Ratio,
  type Report,
  type Row,
  type Step,
} from './report.js';
import { runRounds, type Group } from './rounds.js';
import { NOISY_SHARE } from './noise.js';
import { demoRatios, ratiosFor, setQuiet, stepsFor } from './targets.js';

interface Args {
  readonly impl: Impl;
  readonly phases: readonly PhaseId[];
  readonly demo: boolean;
  readonly all: boolean; // nothing named: every phase with a benchmark, and the demo
  readonly quick: boolean;
  readonly rounds: number;
  readonly updateDocs: boolean;
  readonly out: string;
}

const USAGE = 'usage: npm run bench -- [phase1 phase2 ... demo] [--solution] [--quick] [--rounds N] [--update-docs] [--out FILE]';

function parseArgs(argv: readonly string[]): Args {
  let impl: Impl = currentImpl();
  const phases: PhaseId[] = [];
  let demo = false;
  let quick = false;
  let rounds: number | undefined;
  let updateDocs = false;
  let out = join(REPO_ROOT, 'bench-report.json');
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    if (a === '--solution') impl = 'solution';
    else if (a === '--student') impl = 'student';
    else if (a === '--quick') quick = true;
    else if (a === '--update-docs') updateDocs = true;
    else if (a === '--out') out = argv[(i += 1)] ?? out;
    else if (a === '--rounds') {
      rounds = Number(argv[(i += 1)]);
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) {
        console.error(`bench: --rounds takes a whole number from 1 to 100\n${USAGE}`);
        process.exit(2);
      }
    } else if (/^phase[1-4]$/.test(a)) phases.push(a as PhaseId);
    else if (a === 'demo') demo = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`bench: unknown argument ${a} (try --help)`);
      process.exit(2);
    }
  }
  // Naming nothing measures everything: every phase with a benchmark, and the demo.
  const all = phases.length === 0 && !demo;
  return { impl, phases, demo: demo || all, all, quick, rounds: rounds ?? (quick ? QUICK_ROUNDS : DEFAULT_ROUNDS), updateDocs, out };
}

const log = (message: string): void => {
  process.stderr.write(`  ${message}\n`);
};

// memcpy of `bytes` into the next slot of a pre-faulted shared region far larger than the caches,
// as put writes into its segment: the limit for any put. `call(bytes)` is one such copy per call
// (the reference a put is paired with), `measure` a row of them.
function memcpyMeter(native: BenchNative, quick: boolean): {
  call: (bytes: number) => () => void;
  measure: (bytes: number, budget: Budget) => Promise<Stats>;
} {
  let region: Uint8Array | undefined;
  const call = (bytes: number): (() => void) => {
    // Shared memory like a segment's, populated before anything is timed (a fresh page costs ~10x
    // the copy on first touch).
    region ??= native.sharedRegion(poolBytes(quick));
    const dst = region;
    const src = testBytes(bytes);
    const slots = poolSlots(bytes, quick);
    let slot = 0;
    const copy = (): void => {
      native.memcpy(dst, slot * aligned(bytes), src, bytes);
      slot = slot + 1 === slots ? 0 : slot + 1;
    };
    copy();
    if (Buffer.compare(dst.subarray(0, bytes), src) !== 0) throw new Error('memcpy helper is broken');
    return copy;
  };
  return { call, measure: (bytes, budget) => measureBatched(`memcpy ${bytes}`, call(bytes), budget) };
}

// The floors under a store call (an empty N-API call, an id argument in either form, the lock, a
// system call, a view made in C++) and the limit for moving bytes (memcpy).
function baselineMeters(native: BenchNative, memcpy: (bytes: number, budget: Budget) => Promise<Stats>, sizes: readonly number[]): Meter[] {
  const hex = randomObjectId();
  const bytes = idBytes(hex);
  native.hold(Buffer.alloc(64 * 1024, 1));
  const fast = (op: string, fn: () => unknown): Meter => meter('baseline', op, 0, false, (budget) => measureBatched(op, fn, budget));
  const meters: Meter[] = [
    fast('napi_noop', () => native.noop()),
    fast('napi_id_bytes', () => native.idArg(bytes)),
    fast('napi_id_hex', () => native.idArg(hex)),
    fast('syscall_getpid', () => native.getpid()),
    fast('napi_view', () => native.view(4096, 64)),
  ];
  const lockUnlock = native.lockUnlock;
  if (lockUnlock !== undefined) meters.splice(3, 0, fast('lock_unlock', () => lockUnlock()));
  for (const n of sizes) {
    meters.push(meter('baseline', 'memcpy', n, true, (budget) => memcpy(n, budget)));
    // The same destination every time: cache-hot below the cache's size, an upper bound.
    const src = testBytes(n);
    const dst = Buffer.alloc(n, 1);
    meters.push(meter('baseline', 'memcpy_hot', n, true, (budget) => measureBatched(`memcpy hot ${n}`, () => native.memcpy(dst, 0, src, n), budget)));
  }
  return meters;
}

// Builds the phase and sets up its meters; a phase that does not compile or is not implemented is
// reported and left out.
async function preparePhase(phase: PhaseId, args: Args, ctx: BenchContext): Promise<{ result: PhaseResult; set?: MeterSet }> {
  const label = `${phase} (${args.impl})`;
  const info = PHASES.find((p) => p.id === phase);
  const load = PHASE_BENCHES[phase];
  if (info === undefined || load === undefined || !existsSync(join(REPO_ROOT, info.dir, 'index.ts'))) {
    return { result: { phase, status: 'no-harness' } };
  }
  if (process.env.MINIRAY_SKIP_BUILD !== '1') {
    const [status] = build({ impls: [args.impl], phases: [phase], quiet: true });
    if (status !== undefined && !status.ok) {
      const first = status.diagnostics.slice(0, 3).join('; ');
      console.error(`bench: ${label} does not compile, skipped (npm run build shows why)`);
      return { result: { phase, status: 'compile-error', message: `does not compile: ${first}` } };
    }
  }
  console.error(`bench: ${label}: setting up...`);
  try {
    const bench = await load();
    return { result: { phase, status: 'ok' }, set: await bench.prepare(ctx) };
  } catch (e) {
    return { result: failure(phase, label, e) };
  }
}

// The demo's jobs (runtime/demo/bench.ts, which comes with the runtime in a release through phase
// 3; loaded by a computed name so that an earlier release still typechecks).
interface DemoSet extends MeterSet {
  describe(): DemoInfo;
}

const DEMO_BENCH = join(REPO_ROOT, 'runtime', 'demo', 'bench.ts');

async function prepareDemo(args: Args): Promise<{ result: PhaseResult; set?: DemoSet }> {
  if (!existsSync(DEMO_BENCH)) return { result: { phase: 'demo', status: 'no-harness' } };
  const label = `demo (${args.impl})`;
  if (process.env.MINIRAY_SKIP_BUILD !== '1') {
    const broken = build({ impls: [args.impl], phases: ['phase2', 'phase3'], quiet: true }).find((s) => !s.ok);
    if (broken !== undefined) {
      console.error(`bench: ${label} needs phase 2 and phase 3, and ${broken.target} does not compile: skipped`);
      return { result: { phase: 'demo', status: 'compile-error', message: `${broken.target} does not compile: ${broken.diagnostics.slice(0, 3).join('; ')}` } };
    }
  }
  console.error(`bench: ${label}: setting up...`);
  try {
    const mod = (await import(pathToFileURL(DEMO_BENCH).href)) as {
      prepareDemoBench(options: { quick: boolean; log: (message: string) => void }): Promise<DemoSet>;
    };
    return { result: { phase: 'demo', status: 'ok' }, set: await mod.prepareDemoBench({ quick: args.quick, log }) };
  } catch (e) {
    return { result: failure('demo', label, e) };
  }
}

function failure(phase: BenchPart, label: string, e: unknown): PhaseResult {
  const message = e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e);
  const status = isMiniRayError(e, 'ERR_NOT_IMPLEMENTED') ? 'not-implemented' : isMiniRayError(e, 'ERR_BUILD_FAILED') ? 'compile-error' : 'error';
  console.error(`bench: ${label}: ${message}; skipped`);
  return { phase, status, message };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  process.env.MINIRAY_IMPL = args.impl; // every harness, here and in the children, loads this build
  installCleanupHandlers();
  const started = Date.now();
  const loadStart = loadavg();
  const sizes = args.quick ? [64, 4 * KiB, MiB] : [64, 4 * KiB, MiB, 64 * MiB];
  const native = loadBenchNative(false);

  const copies = memcpyMeter(native, args.quick);
  const memcpy = copies.measure;
  const ctx: BenchContext = {
    sizes,
    quick: args.quick,
    native,
    memcpy,
    memcpyCall: copies.call,
    otherProcess: otherProcessMeters,
    serve: serveInOtherProcess,
    log,
  };
  const sets: MeterSet[] = [];
  const phases: PhaseResult[] = [];
  const groups: Group[] = [];
  try {
    console.error(`bench: baselines (memcpy, N-API call, lock, Node IPC) for ${sizes.map(fmtBytes).join(', ')}...`);
    const ipc = await ipcMeters(sizes);
    sets.push(ipc);
    groups.push({ name: 'baseline', meters: [...baselineMeters(native, memcpy, sizes), ...ipc.meters] });
    const wanted = args.all ? (Object.keys(PHASE_BENCHES) as PhaseId[]) : args.phases;
    for (const phase of wanted) {
      const { result, set } = await preparePhase(phase, args, ctx);
      phases.push(result);
      if (set !== undefined) {
        sets.push(set);
        groups.push({ name: phase, meters: set.meters });
      }
    }
    let demo: DemoSet | undefined;
    if (args.demo) {
      const { result, set } = await prepareDemo(args);
      phases.push(result);
      if (set !== undefined) {
        demo = set;
        sets.push(set);
        groups.push({ name: 'demo', meters: set.meters });
      }
    }

    console.error(`bench: ${args.rounds} rounds of ${groups.reduce((a, g) => a + g.meters.length, 0)} rows...`);
    const { rows, load, foreign, failed } = await runRounds(groups, { rounds: args.rounds, quick: args.quick, log });
    const baselineFailed = failed.get('baseline');
    if (baselineFailed !== undefined) throw baselineFailed;
    for (const [i, p] of phases.entries()) {
      const e = failed.get(p.phase);
      if (e !== undefined) phases[i] = failure(p.phase, `${p.phase} (${args.impl})`, e);
    }

    const quiet = foreign.every((x) => x === null || x <= NOISY_SHARE);
    setQuiet(quiet);
    const ratios: Ratio[] = [];
    const steps: Step[] = [];
    for (const p of phases) {
      if (p.status !== 'ok') continue;
      if (p.phase === 'demo') {
        ratios.push(...demoRatios(rows));
        continue;
      }
      ratios.push(...ratiosFor(p.phase, rows, sizes));
      steps.push(...stepsFor(p.phase, rows, sizes));
    }
    const report: Report = {
      schema: REPORT_SCHEMA,
      created_at: new Date().toISOString(),
      quick: args.quick,
      impl: args.impl,
      rounds: args.rounds,
      machine: describeMachine(loadStart, load, foreign),
      sizes,
      phases,
      rows,
      ratios,
      steps,
      notes: notesFor(args, rows, quiet),
      duration_s: Math.round((Date.now() - started) / 100) / 10,
      ...(demo !== undefined && phases.some((p) => p.phase === 'demo' && p.status === 'ok') ? { demo: demo.describe() } : {}),
    };
    writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(renderTerminal(report));
    console.log(`\nreport: ${args.out} (${report.duration_s} s)`);
    if (args.updateDocs) for (const line of updateDocs(report)) console.log(line);
    return 0;
  } finally {
    for (const set of sets.reverse()) {
      try {
        await set.close();
      } catch (e) {
        console.error(`bench: cleanup: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}

function notesFor(args: Args, rows: readonly Row[], quiet: boolean): string[] {
  const notes: string[] = [];
  if (!quiet) {
    notes.push(
      `other processes used more than ${NOISY_SHARE * 100}% of the machine during at least one round: every verdict is 'unstable' (run again when the machine is quiet).`,
    );
  }
  notes.push(
    `every row is measured once per round (${args.rounds} rounds, each measuring every row in the same order); a row shows the median of its round medians and the lowest and highest round, and every ratio is taken within a round before it is summarised the same way.`,
  );
  notes.push('each sample of a fast op is the mean of `batch` back-to-back calls; bandwidth = bytes / median.');
  if (rows.some((r) => r.paired_with !== undefined)) {
    notes.push(
      'a get / N-API no-op ratio, a put / memcpy bandwidth ratio and the lookup step are taken from pairs: each batch of the row follows a batch of its reference (the no-op; memcpy of the same bytes; a call that reads the id and locks), microseconds apart, and a round gives the median over its pairs of the ratio (or the difference). This machine can run twice as slow for seconds at a time, which a ratio of two rows measured seconds apart would turn into a 2x error.',
    );
  }
  notes.push(
    'absolute times are informational: the machine changes speed between runs and within one, so only the ratios (each taken within a round, most within a pair) carry targets. Runs agree (repeat.ts) when each run\'s median of a ratio lies within the lowest-highest round of the other runs.',
  );
  notes.push(
    `put and memcpy write into pre-faulted memory (as Ray does with preallocate_plasma_memory), each call to the next slot of ${poolBytes(args.quick) / MiB} MiB, so neither writes into cache-hot lines; memcpy_hot copies to one destination (an upper bound).`,
  );
  if (rows.some((r) => r.phase === 'demo')) {
    notes.push(
      "the demo's rows time one whole run of a job per round (one process, mini-Ray, Node IPC, one after the other); its workers start once, before the rounds, and every run's checksum must agree.",
    );
  }
  if (rows.some((r) => r.op === 'get')) {
    notes.push('get rows pass the id as its 20 bytes (idBytes(id)); get_hex_id passes the same id as 40 hex digits.');
  }
  return notes;
}

main()
  .then((code) => {
    cleanupAll();
    process.exitCode = code;
  })
  .catch((e: unknown) => {
    cleanupAll();
    console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  });
