// The shape of bench-report.json, and its rendering as a terminal table and as Markdown.
//
// Every number is measured once per round (see rounds.ts); a row gives the median over the rounds
// and the spread (the lowest and highest round), and every ratio is taken within a round, then
// summarised the same way. A ratio whose spread lies on both sides of its target is "unstable":
// the machine was too noisy to tell.
import type { Impl, PhaseId } from '../../lib/phases.js';

export const REPORT_SCHEMA = 'miniray-bench/2';

// What a run measures besides the baselines: the phases, and mini-Ray's demo (runtime/demo/bench.ts).
export type BenchPart = PhaseId | 'demo';
export type RowPhase = BenchPart | 'baseline';

// A number measured once per round, summarised.
export interface Spread {
  // The median over the rounds.
  readonly median: number;
  // The lowest and the highest round.
  readonly min: number;
  readonly max: number;
  // Each round's value, in the order of the rounds.
  readonly rounds: readonly number[];
}

export interface Row {
  readonly phase: RowPhase;
  // put, create_seal, get, get_other_process, memcpy, ipc_roundtrip, napi_noop, step_*, ...
  readonly op: string;
  readonly bytes: number;
  // The median over rounds of each round's median, and the lowest / highest round median.
  readonly median_ns: number;
  readonly min_ns: number;
  readonly max_ns: number;
  // The median over rounds of each round's 90th percentile.
  readonly p90_ns: number;
  // Each round's median, in round order.
  readonly rounds_ns: readonly number[];
  // Samples over all rounds.
  readonly samples: number;
  // Calls per sample: each sample is the mean of `batch` back-to-back calls.
  readonly batch: number;
  // bytes / median, in GB/s (1e9 bytes per second); absent where no bytes move (a zero-copy get).
  readonly bandwidth_gbps?: number;
  // A row timed in pairs with a reference op (harness.ts pairedWith): a get with the N-API no-op
  // (napi_noop), a put with memcpy of the same bytes (memcpy), the glue's contains with a call that
  // reads the id and locks (id_lock_unlock). Each round: the reference's median, and the medians
  // over the pairs of this row / the reference and of this row - the reference. The ratios and
  // steps that involve the reference are taken from these.
  readonly paired_with?: string;
  readonly paired_rounds_ns?: readonly number[];
  readonly paired_ratio_rounds?: readonly number[];
  readonly paired_diff_rounds_ns?: readonly number[];
}

export type RatioName =
  | 'get_vs_noop'
  | 'get_release_vs_noop'
  | 'put_vs_memcpy_bandwidth'
  | 'ipc_vs_get'
  | 'ipc_vs_task_roundtrip'
  | 'task_roundtrip_vs_local'
  // The demo's jobs (phase 'demo'): one process / mini-Ray, and Node IPC / mini-Ray.
  | 'image_speedup'
  | 'image_ipc_vs_miniray'
  | 'words_speedup'
  | 'words_ipc_vs_miniray';

export interface Target {
  // 'le': the ratio must be at most `value`; 'ge': at least.
  readonly cmp: 'le' | 'ge';
  readonly value: number;
}

export type Verdict = 'pass' | 'fail' | 'unstable';

export interface Ratio extends Spread {
  readonly phase: BenchPart;
  readonly name: RatioName;
  readonly bytes: number;
  readonly target: Target;
  // pass / fail when every round lies on one side of the target, unstable when they straddle it
  // or when other processes used much of the machine during a round (`noisy`).
  readonly verdict: Verdict;
  readonly noisy?: true;
}

// One step of a get, in ns: the difference between two rows that differ by that step, taken
// within each round (see steps.ts).
export interface Step extends Spread {
  readonly phase: PhaseId;
  // A short name (call, id_bytes, id_hex, lock, lookup, pin, view, release, hex_id) and a label.
  readonly step: string;
  readonly label: string;
  // What it is the difference of, e.g. "napi_id_bytes - napi_noop".
  readonly from: string;
}

export type PhaseStatus = 'ok' | 'compile-error' | 'not-implemented' | 'error' | 'no-harness';

export interface PhaseResult {
  readonly phase: BenchPart;
  readonly status: PhaseStatus;
  readonly message?: string;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory_gib: number;
  readonly node: string;
  readonly os: string;
  readonly kernel: string;
  readonly loadavg_start: readonly number[];
  readonly loadavg_end: readonly number[];
  // The 1-minute load average as each round started.
  readonly loadavg_rounds: readonly number[];
  // The share of the machine (0-1) that other processes used during each round; null if unknown.
  readonly foreign_cpu_rounds: readonly (number | null)[];
}

export type DemoJobName = 'image' | 'words';

// The demo's part of a report: what its rows ran (the rows themselves are phase 'demo').
export interface DemoInfo {
  readonly workers: number;
  // How long mini-Ray (store, scheduler, workers) and the Node-IPC pool took to start, once per
  // run, before the rounds; not part of the rows. `preallocate`: the part of mini-Ray's start
  // spent writing the store's pages once (init({ preallocate: true }), while the workers boot),
  // and `preallocated_mib` how much it wrote (absent in reports made before it existed).
  readonly start_ms: { readonly miniray: number; readonly ipc: number; readonly preallocate?: number; readonly preallocated_mib?: number };
  // Each job, and the checksum every run of it (all rounds, all three ways) gave.
  readonly jobs: readonly { readonly job: DemoJobName; readonly label: string; readonly checksum: string }[];
}

export interface Report {
  readonly schema: typeof REPORT_SCHEMA;
  readonly created_at: string;
  readonly quick: boolean;
  readonly impl: Impl;
  readonly rounds: number;
  readonly machine: Machine;
  readonly sizes: readonly number[];
  readonly phases: readonly PhaseResult[];
  readonly rows: readonly Row[];
  readonly ratios: readonly Ratio[];
  readonly steps: readonly Step[];
  readonly notes: readonly string[];
  readonly duration_s: number;
  // Present when the demo ran (runtime/demo/bench.ts).
  readonly demo?: DemoInfo;
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

export function fmtBytes(n: number): string {
  if (n === 0) return '-';
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} B`;
}

export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return 'n/a';
  if (Math.abs(ns) < 1_000) return `${ns.toFixed(Math.abs(ns) < 10 ? 1 : 0)} ns`;
  if (Math.abs(ns) < 1_000_000) return `${(ns / 1_000).toFixed(Math.abs(ns) < 10_000 ? 2 : 1)} us`;
  if (Math.abs(ns) < 1_000_000_000) return `${(ns / 1_000_000).toFixed(Math.abs(ns) < 10_000_000 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

// "272 ns (265-281)": the median and the spread over rounds, in the median's unit.
export function fmtNsSpread(median: number, min: number, max: number): string {
  const m = fmtNs(median);
  const unit = m.split(' ')[1] ?? 'ns';
  const scale = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[unit] ?? 1;
  const digits = (m.split(' ')[0] ?? '').split('.')[1]?.length ?? 0;
  const f = (x: number): string => (x / scale).toFixed(digits);
  if (min === max) return m;
  return min < 0 ? `${m} (${f(min)} to ${f(max)})` : `${m} (${f(min)}-${f(max)})`;
}

// A whole run's time (the demo's rows): "950 ms (900-1000)", "1.25 s (1.20-1.30)".
export function fmtRunSpread(median: number, min: number, max: number): string {
  const inSeconds = median >= 1e9;
  const f = (ns: number): string => (inSeconds ? (ns / 1e9).toFixed(2) : (ns / 1e6).toFixed(0));
  const unit = inSeconds ? 's' : 'ms';
  return f(min) === f(max) ? `${f(median)} ${unit}` : `${f(median)} ${unit} (${f(min)}-${f(max)})`;
}

export function fmtBandwidth(gbps: number): string {
  return gbps >= 1 ? `${gbps.toFixed(2)} GB/s` : `${(gbps * 1000).toPrecision(3)} MB/s`;
}

const DEMO_RATIOS: ReadonlySet<RatioName> = new Set(['image_speedup', 'image_ipc_vs_miniray', 'words_speedup', 'words_ipc_vs_miniray']);

function fmtRatioValue(name: RatioName, v: number): string {
  if (name === 'put_vs_memcpy_bandwidth') return `${(v * 100).toFixed(0)}%`;
  if (v >= 100) return `${Math.round(v).toLocaleString('en-US')}x`;
  return `${v.toFixed(DEMO_RATIOS.has(name) ? 2 : 1)}x`;
}

export function fmtRatio(r: Ratio): string {
  const v = fmtRatioValue(r.name, r.median);
  if (r.min === r.max) return v;
  return `${v} (${fmtRatioValue(r.name, r.min)}-${fmtRatioValue(r.name, r.max)})`;
}

export function fmtTarget(r: Ratio): string {
  return `${r.target.cmp === 'le' ? '<=' : '>='} ${fmtRatioValue(r.name, r.target.value)}`;
}

export function ratioLabel(r: Ratio): string {
  switch (r.name) {
    case 'get_vs_noop':
      return `get / N-API no-op call @ ${fmtBytes(r.bytes)}`;
    case 'get_release_vs_noop':
      return `get + release / N-API no-op call @ ${fmtBytes(r.bytes)}`;
    case 'put_vs_memcpy_bandwidth':
      return `put bandwidth / memcpy bandwidth @ ${fmtBytes(r.bytes)}`;
    case 'ipc_vs_get':
      return `IPC round trip / get @ ${fmtBytes(r.bytes)}`;
    case 'ipc_vs_task_roundtrip':
      return `IPC round trip @ ${fmtBytes(r.bytes)} / task round trip`;
    case 'task_roundtrip_vs_local':
      return 'task round trip / the same calls in one process';
    case 'image_speedup':
      return 'image: one process / mini-Ray';
    case 'image_ipc_vs_miniray':
      return 'image: Node IPC / mini-Ray';
    case 'words_speedup':
      return 'word count: one process / mini-Ray';
    case 'words_ipc_vs_miniray':
      return 'word count: Node IPC / mini-Ray';
  }
}

const VERDICT_WORD: Record<Verdict, string> = { pass: 'PASS', fail: 'MISS', unstable: 'UNSTABLE' };

function table(header: readonly string[], body: readonly (readonly string[])[], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function rowLabel(row: Row): string {
  return row.phase === 'baseline' ? row.op : `${row.phase} ${row.op}`;
}

// How far the rounds spread around the median, in percent of it.
export function spreadPct(s: { readonly median: number; readonly min: number; readonly max: number }): number {
  return s.median === 0 ? 0 : (Math.max(s.max - s.median, s.median - s.min) / Math.abs(s.median)) * 100;
}

const rowSpread = (r: Row): Spread => ({ median: r.median_ns, min: r.min_ns, max: r.max_ns, rounds: r.rounds_ns });

export // ", of which 150 ms writing the store's 328 MiB once", when the run preallocated the store.
function preallocLine(d: DemoInfo): string {
  const { preallocate, preallocated_mib: mib } = d.start_ms;
  return preallocate === undefined || mib === undefined ? '' : `, ${preallocate} ms of it writing the store's ${mib} MiB once`;
}

function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.os} ${m.kernel}, Node ${m.node}`;
}

export function loadLine(report: Report): string {
  const m = report.machine;
  const rounds = m.loadavg_rounds.map((x) => x.toFixed(2)).join(', ');
  const foreign = m.foreign_cpu_rounds.map((x) => (x === null ? '?' : `${(x * 100).toFixed(0)}%`)).join(', ');
  return (
    `load average ${m.loadavg_start[0]?.toFixed(2) ?? '?'} at the start, ${rounds} as each round began, ` +
    `${m.loadavg_end[0]?.toFixed(2) ?? '?'} at the end; other processes used ${foreign} of the machine in each round`
  );
}

export function renderTerminal(report: Report): string {
  const out: string[] = [];
  out.push(`machine: ${machineLine(report.machine)}`);
  out.push(`${loadLine(report)}`);
  out.push(
    `impl: ${report.impl}, ${report.rounds} round${report.rounds === 1 ? '' : 's'}${report.quick ? ' (--quick: few samples, sizes up to 1 MiB)' : ''}`,
  );
  out.push('');
  const body = report.rows.map((r) => [
    r.phase,
    r.op,
    fmtBytes(r.bytes),
    fmtNs(r.median_ns),
    `${fmtNs(r.min_ns)} - ${fmtNs(r.max_ns)}`,
    `${spreadPct(rowSpread(r)).toFixed(0)}%`,
    fmtNs(r.p90_ns),
    r.bandwidth_gbps === undefined ? '-' : fmtBandwidth(r.bandwidth_gbps),
    `${r.samples} x ${r.batch}`,
  ]);
  out.push(
    table(
      ['phase', 'op', 'size', 'median', 'rounds min - max', '+-', 'p90', 'bandwidth', 'samples x batch'],
      body,
      new Set([2, 3, 4, 5, 6, 7, 8]),
    ),
  );
  out.push('');
  const why: Record<PhaseStatus, string> = {
    ok: '',
    'compile-error': 'does not compile (npm run build shows the errors)',
    'not-implemented': 'not implemented yet',
    error: 'failed',
    'no-harness': 'has no benchmark yet',
  };
  for (const p of report.phases) {
    if (p.status !== 'ok') out.push(`${p.phase} (${report.impl}) ${why[p.status]}${p.message === undefined ? '' : `: ${p.message}`}`);
  }
  if (report.impl === 'student' && report.phases.some((p) => p.status === 'not-implemented' || p.status === 'compile-error')) {
    out.push("(the reference solution's numbers: npm run bench -- --solution)");
  }
  if (report.steps.length > 0) {
    out.push('the steps of one get (differences of rows, taken within each round; median (lowest-highest round)):');
    for (const s of report.steps) {
      out.push(`  ${s.phase} ${s.label.padEnd(36)} ${fmtNsSpread(s.median, s.min, s.max).padStart(22)}   ${s.from}`);
    }
  }
  if (report.ratios.length > 0) {
    out.push('the ratios that matter, taken within each round (targets are for the reference solution):');
    for (const r of report.ratios) {
      out.push(
        `  [${VERDICT_WORD[r.verdict]}] ${r.phase} ${ratioLabel(r).padEnd(46)} ${fmtRatio(r).padStart(22)}   target ${fmtTarget(r)}`,
      );
    }
    if (report.ratios.some((r) => r.noisy === true)) {
      out.push('  (UNSTABLE: other processes used much of the machine during a round: no verdict; run again when it is quiet)');
    } else if (report.ratios.some((r) => r.verdict === 'unstable')) {
      out.push('  (UNSTABLE: the rounds lie on both sides of the target; run again on a quieter machine)');
    }
  }
  if (report.demo !== undefined) {
    const d = report.demo;
    out.push(
      `demo: ${d.workers} workers; started in ${d.start_ms.miniray} ms (mini-Ray${preallocLine(d)}) and ${d.start_ms.ipc} ms (Node IPC), not in the rows; ` +
        d.jobs.map((j) => `${j.label}: checksum ${j.checksum} in every run`).join('; '),
    );
  }
  for (const n of report.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

// The Markdown block for the README and the lessons: one line per op, one column per size, each
// cell the median over rounds with the lowest and highest round; then the steps and the ratios.
export function renderMarkdown(report: Report, phases?: readonly RowPhase[]): string {
  const sizes = report.sizes;
  // The demo's rows have a table of their own (renderDemoMarkdown).
  const shown = (phase: RowPhase): boolean => (phases === undefined ? phase !== 'demo' : phases.includes(phase));
  // A row measured at a size of its own (phase 4's workloads: 256 B objects, a 16 KiB working set)
  // has no column in the table of sizes: those go in a table of workloads after it.
  const inColumns = (r: Row): boolean => r.bytes === 0 || sizes.includes(r.bytes);
  const rows = report.rows.filter((r) => shown(r.phase) && inColumns(r));
  const keys: string[] = [];
  for (const r of rows) if (!keys.includes(rowLabel(r))) keys.push(rowLabel(r));
  const lines: string[] = [];
  lines.push(`| median (lowest-highest round) | ${sizes.map(fmtBytes).join(' | ')} |`);
  lines.push(`|---|${sizes.map(() => '---:').join('|')}|`);
  for (const key of keys) {
    const cells = sizes.map((s) => {
      const r = rows.find((x) => rowLabel(x) === key && (x.bytes === s || x.bytes === 0));
      if (r === undefined) return '';
      if (r.bytes === 0 && s !== sizes[0]) return '';
      return fmtNsSpread(r.median_ns, r.min_ns, r.max_ns);
    });
    lines.push(`| ${key} | ${cells.join(' | ')} |`);
  }
  if (phases === undefined || phases.includes('phase4')) lines.push(...workloadTable(report, inColumns));
  const steps = report.steps.filter((s) => phases === undefined || phases.includes(s.phase));
  if (steps.length > 0) {
    lines.push('');
    lines.push('| step of one get | ns | measured as |');
    lines.push('|---|---:|---|');
    for (const s of steps) lines.push(`| ${s.phase} ${s.label} | ${fmtNsSpread(s.median, s.min, s.max)} | ${s.from} |`);
  }
  lines.push('');
  const ratios = report.ratios.filter((r) => shown(r.phase));
  const word: Record<Verdict, string> = { pass: 'met', fail: '**not met**', unstable: '**unstable**' };
  for (const r of ratios) {
    lines.push(`- ${word[r.verdict]}: ${r.phase} ${ratioLabel(r)} = ${fmtRatio(r)} (target ${fmtTarget(r)})`);
  }
  if (ratios.length > 0) lines.push('');
  lines.push(
    `Measured ${report.created_at.slice(0, 10)} with \`npm run bench${report.impl === 'solution' ? ' -- --solution' : ''}\` ` +
      `in ${report.rounds} rounds on ${machineLine(report.machine)}; ${loadLine(report)}.`,
  );
  return lines.join('\n');
}

// Phase 4's workloads, each measured on the phase-4 store and on the phase-2 design in the same run
// (tools/bench/phases/phase4.ts): one line per workload, the time of one operation on each design.
function workloadTable(report: Report, inColumns: (r: Row) => boolean): string[] {
  const mine = report.rows.filter((r) => r.phase === 'phase4' && !inColumns(r));
  if (mine.length === 0) return [];
  const cell = (r: Row | undefined): string => (r === undefined ? '' : fmtNsSpread(r.median_ns, r.min_ns, r.max_ns));
  const lines = ['', '| workload, time per operation | size | phase 4 | phase-2 design |', '|---|---:|---:|---:|'];
  for (const r of mine) {
    const other = report.rows.find((x) => x.phase === 'phase2' && x.op === r.op && x.bytes === r.bytes);
    lines.push(`| ${r.op} | ${fmtBytes(r.bytes)} | ${cell(r)} | ${cell(other)} |`);
  }
  return lines;
}

// The demo's table for docs/putting-it-together.md (<!-- bench:begin demo -->): one line per job,
// each way's time (median, lowest-highest round), then the ratios taken within each round.
export function renderDemoMarkdown(report: Report): string {
  const lines: string[] = [];
  const d = report.demo;
  const row = (op: string): Row | undefined => report.rows.find((r) => r.phase === 'demo' && r.op === op);
  const ratio = (name: RatioName): Ratio | undefined => report.ratios.find((r) => r.phase === 'demo' && r.name === name);
  if (d === undefined) return '';
  lines.push('| job | one process | mini-Ray | Node IPC | one process / mini-Ray | Node IPC / mini-Ray |');
  lines.push('|---|---:|---:|---:|---:|---:|');
  for (const j of d.jobs) {
    const cell = (way: string): string => {
      const r = row(`${j.job}_${way}`);
      return r === undefined ? '' : fmtRunSpread(r.median_ns, r.min_ns, r.max_ns);
    };
    const rc = (name: RatioName): string => {
      const r = ratio(name);
      return r === undefined ? '' : fmtRatio(r);
    };
    lines.push(`| ${j.label} | ${cell('one_process')} | ${cell('miniray')} | ${cell('ipc')} | ${rc(`${j.job}_speedup`)} | ${rc(`${j.job}_ipc_vs_miniray`)} |`);
  }
  lines.push('');
  const word: Record<Verdict, string> = { pass: 'met', fail: '**not met**', unstable: '**unstable**' };
  for (const r of report.ratios.filter((x) => x.phase === 'demo')) lines.push(`- ${word[r.verdict]}: ${ratioLabel(r)} = ${fmtRatio(r)} (target ${fmtTarget(r)})`);
  lines.push('');
  lines.push(
    `Measured ${report.created_at.slice(0, 10)} with \`npm run bench${report.impl === 'solution' ? ' -- --solution' : ''}\` ` +
      `in ${report.rounds} rounds, ${d.workers} workers, on ${machineLine(report.machine)}; ${loadLine(report)}. ` +
      `Starting the workers took ${d.start_ms.miniray} ms for mini-Ray${preallocLine(d)} and ${d.start_ms.ipc} ms for Node IPC (not in the table).`,
  );
  return lines.join('\n');
}
