// npm run bench: the object store against memcpy, Node's IPC and its own earlier phases.
//
//   npm run bench                      every phase that has a benchmark, on the student's code
//   npm run bench -- phase2            one phase (the baselines always run)
//   npm run bench -- --solution        the reference solution (MINIRAY_IMPL=solution does the same)
//   npm run bench -- --quick           few samples, sizes up to 1 MiB: checks that it all runs
//   npm run bench -- --update-docs     also rewrites the <!-- bench:begin --> ... <!-- bench:end -->
//                                      block of README.md and phase2-objects/README.md
//   npm run bench -- --out FILE        write the report elsewhere (default bench-report.json)
//
// Numbers are medians (and p90) over many samples after a warm-up, measured by tinybench; see
// harness.ts. Benchmarks are never tests: missing a target is reported, never an exit status.
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

import { isMiniRayError } from '../../lib/errors.js';
import { PHASES, REPO_ROOT, currentImpl, type Impl, type PhaseId } from '../../lib/phases.js';
import { build } from '../build.js';
import { cleanupAll, installCleanupHandlers } from './cleanup.js';
import { aligned, budgetFor, poolBytes, poolSlots, testBytes, toRow, type BenchContext } from './context.js';
import { updateDocs } from './docs.js';
import { measureBatched, type Stats } from './harness.js';
import { describeMachine } from './machine.js';
import { loadBenchNative, type BenchNative } from './native.js';
import { PHASE_BENCHES } from './phases/index.js';
import { ipcRows, otherProcessRows } from './procs.js';
import {
  KiB,
  MiB,
  REPORT_SCHEMA,
  fmtBytes,
  renderTerminal,
  type PhaseResult,
  type Ratio,
  type Report,
  type Row,
} from './report.js';

interface Args {
  readonly impl: Impl;
  readonly phases: readonly PhaseId[];
  readonly quick: boolean;
  readonly updateDocs: boolean;
  readonly out: string;
}

function parseArgs(argv: readonly string[]): Args {
  let impl: Impl = currentImpl();
  const phases: PhaseId[] = [];
  let quick = false;
  let updateDocs = false;
  let out = join(REPO_ROOT, 'bench-report.json');
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i] ?? '';
    if (a === '--solution') impl = 'solution';
    else if (a === '--student') impl = 'student';
    else if (a === '--quick') quick = true;
    else if (a === '--update-docs') updateDocs = true;
    else if (a === '--out') out = argv[(i += 1)] ?? out;
    else if (/^phase[1-4]$/.test(a)) phases.push(a as PhaseId);
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [phase1 phase2 ...] [--solution] [--quick] [--update-docs] [--out FILE]');
      process.exit(0);
    } else {
      console.error(`bench: unknown argument ${a} (try --help)`);
      process.exit(2);
    }
  }
  return { impl, phases, quick, updateDocs, out };
}

const log = (message: string): void => {
  process.stderr.write(`  ${message}\n`);
};

// memcpy of `bytes` into the next slot of a pre-faulted shared region far larger than the caches,
// as put writes into its segment: the limit for any put.
function memcpyMeter(native: BenchNative, quick: boolean): (bytes: number) => Promise<Stats> {
  let region: Uint8Array | undefined;
  return async (bytes) => {
    // Shared memory like a segment's, populated before anything is timed (a fresh page costs ~10x
    // the copy on first touch).
    region ??= native.sharedRegion(poolBytes(quick));
    const dst = region;
    const src = testBytes(bytes);
    const slots = poolSlots(bytes, quick);
    let slot = 0;
    const s = await measureBatched(
      `memcpy ${bytes}`,
      () => {
        native.memcpy(dst, slot * aligned(bytes), src, bytes);
        slot = slot + 1 === slots ? 0 : slot + 1;
      },
      budgetFor(bytes, quick),
    );
    if (Buffer.compare(dst.subarray(0, bytes), src) !== 0) throw new Error('memcpy helper is broken');
    return s;
  };
}

// The floors under a store call (an empty N-API call, reading a 40-digit id, a system call,
// handing out a view) and the limit for moving bytes (memcpy).
async function baselineRows(
  native: BenchNative,
  memcpy: (bytes: number) => Promise<Stats>,
  sizes: readonly number[],
  quick: boolean,
): Promise<Row[]> {
  const rows: Row[] = [];
  const small = budgetFor(64, quick);
  rows.push(toRow('baseline', 'napi_noop', 0, await measureBatched('napi noop', () => native.noop(), small), false));
  const hex = 'f'.repeat(40);
  rows.push(toRow('baseline', 'napi_id_arg', 0, await measureBatched('napi id', () => native.idArg(hex), small), false));
  rows.push(toRow('baseline', 'syscall_getpid', 0, await measureBatched('getpid', () => native.getpid(), small), false));
  native.hold(Buffer.alloc(64 * 1024, 1));
  rows.push(toRow('baseline', 'napi_view', 0, await measureBatched('napi view', () => native.view(4096, 64), small), false));
  for (const bytes of sizes) {
    rows.push(toRow('baseline', 'memcpy', bytes, await memcpy(bytes), true));
    // The same destination every time: cache-hot below the cache's size, an upper bound.
    const src = testBytes(bytes);
    const dst = Buffer.alloc(bytes, 1);
    const h = await measureBatched(`memcpy hot ${bytes}`, () => native.memcpy(dst, 0, src, bytes), budgetFor(bytes, quick));
    rows.push(toRow('baseline', 'memcpy_hot', bytes, h, true));
  }
  return rows;
}

function ratiosFor(phase: PhaseId, rows: readonly Row[]): Ratio[] {
  const find = (p: string, op: string, bytes: number): Row | undefined =>
    rows.find((r) => r.phase === p && r.op === op && r.bytes === bytes);
  const out: Ratio[] = [];
  for (const bytes of [MiB, 64 * MiB]) {
    const put = find(phase, 'put', bytes);
    // The memcpy measured just before this phase's put (same load on a busy machine), else the baseline.
    const memcpy = find(phase, 'memcpy', bytes) ?? find('baseline', 'memcpy', bytes);
    if (put !== undefined && memcpy !== undefined) {
      const value = memcpy.median_ns / put.median_ns;
      out.push({ phase, name: 'put_vs_memcpy_bandwidth', bytes, value: round3(value), target: '>= 50%', pass: value >= 0.5 });
    }
  }
  for (const r of rows) {
    if (r.phase === phase && r.op === 'get') {
      out.push({ phase, name: 'get_median_ns', bytes: r.bytes, value: r.median_ns, target: '< 300 ns', pass: r.median_ns < 300 });
    }
  }
  // Phase 3: a task there and back between two processes against one 64-byte IPC message.
  const task = find(phase, 'task_roundtrip', 0);
  const ipc64 = find('baseline', 'ipc_roundtrip', 64);
  if (task !== undefined && ipc64 !== undefined) {
    const value = ipc64.median_ns / task.median_ns;
    out.push({ phase, name: 'ipc_vs_task_roundtrip', bytes: 64, value: round3(value), target: '>= 10x', pass: value >= 10 });
  }
  const get = find(phase, 'get', MiB);
  const ipc = find('baseline', 'ipc_roundtrip', MiB);
  if (get !== undefined && ipc !== undefined) {
    const value = ipc.median_ns / get.median_ns;
    out.push({ phase, name: 'ipc_vs_get', bytes: MiB, value: Math.round(value), target: '>= 1000x', pass: value >= 1000 });
  }
  return out;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

async function benchPhase(phase: PhaseId, args: Args, ctx: BenchContext): Promise<{ result: PhaseResult; rows: Row[] }> {
  const label = `${phase} (${args.impl})`;
  const info = PHASES.find((p) => p.id === phase);
  const load = PHASE_BENCHES[phase];
  if (info === undefined || load === undefined || !existsSync(join(REPO_ROOT, info.dir, 'index.ts'))) {
    return { result: { phase, status: 'no-harness' }, rows: [] };
  }
  if (process.env.MINIRAY_SKIP_BUILD !== '1') {
    const [status] = build({ impls: [args.impl], phases: [phase], quiet: true });
    if (status !== undefined && !status.ok) {
      const first = status.diagnostics.slice(0, 3).join('; ');
      console.error(`bench: ${label} does not compile, skipped (npm run build shows why)`);
      return { result: { phase, status: 'compile-error', message: `does not compile: ${first}` }, rows: [] };
    }
  }
  console.error(`bench: ${label}...`);
  try {
    const bench = await load();
    return { result: { phase, status: 'ok' }, rows: await bench.run(ctx) };
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e);
    const status = isMiniRayError(e, 'ERR_NOT_IMPLEMENTED') ? 'not-implemented' : isMiniRayError(e, 'ERR_BUILD_FAILED') ? 'compile-error' : 'error';
    console.error(`bench: ${label}: ${message}; skipped`);
    return { result: { phase, status, message }, rows: [] };
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  process.env.MINIRAY_IMPL = args.impl; // every harness, here and in the children, loads this build
  installCleanupHandlers();
  const started = Date.now();
  const loadStart = loadavg();
  const sizes = args.quick ? [64, 4 * KiB, MiB] : [64, 4 * KiB, MiB, 64 * MiB];
  const native = loadBenchNative(false);
  const notes: string[] = [];

  console.error(`bench: baselines (memcpy, N-API call, Node IPC) for ${sizes.map(fmtBytes).join(', ')}...`);
  const memcpy = memcpyMeter(native, args.quick);
  const rows: Row[] = await baselineRows(native, memcpy, sizes, args.quick);
  rows.push(...(await ipcRows(sizes, args.quick)));

  const ctx: BenchContext = {
    sizes,
    quick: args.quick,
    native,
    memcpy,
    otherProcess: otherProcessRows,
    log,
  };
  const wanted = args.phases.length > 0 ? args.phases : (Object.keys(PHASE_BENCHES) as PhaseId[]);
  const phases: PhaseResult[] = [];
  const ratios: Ratio[] = [];
  for (const phase of wanted) {
    const { result, rows: phaseRows } = await benchPhase(phase, args, ctx);
    phases.push(result);
    rows.push(...phaseRows);
    if (result.status === 'ok') ratios.push(...ratiosFor(phase, rows));
  }

  if (!args.quick) notes.push('64 MiB rows use few samples (12 or more); smaller sizes use hundreds to thousands.');
  notes.push('each sample of a fast op is the mean of `batch` back-to-back calls; bandwidth = bytes / median.');
  notes.push(
    `put and memcpy write into pre-faulted memory (as Ray does with preallocate_plasma_memory), each call to the next slot of ${poolBytes(args.quick) / MiB} MiB, so neither writes into cache-hot lines; memcpy_hot copies to one destination (an upper bound).`,
  );
  const floor = ['napi_noop', 'napi_id_arg'].map((op) => rows.find((r) => r.op === op)?.median_ns ?? 0);
  const syscall = rows.find((r) => r.op === 'syscall_getpid')?.median_ns ?? 0;
  if (ratios.some((r) => r.name === 'get_median_ns' && !r.pass)) {
    notes.push(
      `a get that takes a 40-digit string id costs at least napi_id_arg (an N-API call that reads a 40-digit id) = ${Math.round(floor[1] ?? 0)} ns before any store work, plus a view made in JS over the segment's one ArrayBuffer; a system call on the path (getpid() in every lock, a clock read) adds up to ${Math.round(syscall)} ns here. Phase 2's get_release pays the call, the id and the lock twice.`,
    );
  }
  const report: Report = {
    schema: REPORT_SCHEMA,
    created_at: new Date().toISOString(),
    quick: args.quick,
    impl: args.impl,
    machine: describeMachine(loadStart),
    sizes,
    phases,
    rows,
    ratios,
    notes,
    duration_s: Math.round((Date.now() - started) / 100) / 10,
  };
  writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(renderTerminal(report));
  console.log(`\nreport: ${args.out} (${report.duration_s} s)`);
  if (args.updateDocs) for (const line of updateDocs(report)) console.log(line);
  return 0;
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
