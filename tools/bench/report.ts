// The shape of bench-report.json, and its rendering as a terminal table and as Markdown.
import type { PhaseId, Impl } from '../../lib/phases.js';

export const REPORT_SCHEMA = 'miniray-bench/1';

export type RowPhase = PhaseId | 'baseline';

export interface Row {
  readonly phase: RowPhase;
  // put, create_seal, get, get_other_process, memcpy, ipc_roundtrip, napi_noop, ...
  readonly op: string;
  readonly bytes: number;
  readonly median_ns: number;
  readonly p90_ns: number;
  readonly min_ns: number;
  readonly samples: number;
  // Calls per sample: each sample is the mean of `batch` back-to-back calls.
  readonly batch: number;
  // bytes / median, in GB/s (1e9 bytes per second); absent where no bytes move (a zero-copy get).
  readonly bandwidth_gbps?: number;
}

export interface Ratio {
  readonly phase: PhaseId;
  readonly name: 'put_vs_memcpy_bandwidth' | 'get_median_ns' | 'ipc_vs_get' | 'ipc_vs_task_roundtrip';
  readonly bytes: number;
  readonly value: number;
  readonly target: string;
  readonly pass: boolean;
}

export type PhaseStatus = 'ok' | 'compile-error' | 'not-implemented' | 'error' | 'no-harness';

export interface PhaseResult {
  readonly phase: PhaseId;
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
}

export interface Report {
  readonly schema: typeof REPORT_SCHEMA;
  readonly created_at: string;
  readonly quick: boolean;
  readonly impl: Impl;
  readonly machine: Machine;
  readonly sizes: readonly number[];
  readonly phases: readonly PhaseResult[];
  readonly rows: readonly Row[];
  readonly ratios: readonly Ratio[];
  readonly notes: readonly string[];
  readonly duration_s: number;
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
  if (ns < 1_000) return `${ns.toFixed(ns < 10 ? 1 : 0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 2 : 1)} us`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(ns < 10_000_000 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

export function fmtBandwidth(gbps: number): string {
  return gbps >= 1 ? `${gbps.toFixed(2)} GB/s` : `${(gbps * 1000).toPrecision(3)} MB/s`;
}

function fmtRatio(r: Ratio): string {
  if (r.name === 'get_median_ns') return fmtNs(r.value);
  if (r.name === 'put_vs_memcpy_bandwidth') return `${(r.value * 100).toFixed(0)}%`;
  return `${r.value >= 100 ? Math.round(r.value).toLocaleString('en-US') : r.value.toFixed(1)}x`;
}

export function ratioLabel(r: Ratio): string {
  switch (r.name) {
    case 'put_vs_memcpy_bandwidth':
      return `put bandwidth / memcpy bandwidth @ ${fmtBytes(r.bytes)}`;
    case 'get_median_ns':
      return `get median @ ${fmtBytes(r.bytes)}`;
    case 'ipc_vs_get':
      return `IPC round trip / get @ ${fmtBytes(r.bytes)}`;
    case 'ipc_vs_task_roundtrip':
      return `IPC round trip @ ${fmtBytes(r.bytes)} / task round trip`;
  }
}

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

export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.os} ${m.kernel}, Node ${m.node}, load ${m.loadavg_start
    .map((x) => x.toFixed(2))
    .join(' ')}`;
}

export function renderTerminal(report: Report): string {
  const out: string[] = [];
  out.push(`machine: ${machineLine(report.machine)}`);
  out.push(`impl: ${report.impl}${report.quick ? ' (--quick: few samples, sizes up to 1 MiB)' : ''}`);
  out.push('');
  const body = report.rows.map((r) => [
    r.phase,
    r.op,
    fmtBytes(r.bytes),
    fmtNs(r.median_ns),
    fmtNs(r.p90_ns),
    r.bandwidth_gbps === undefined ? '-' : fmtBandwidth(r.bandwidth_gbps),
    `${r.samples} x ${r.batch}`,
  ]);
  out.push(table(['phase', 'op', 'size', 'median', 'p90', 'bandwidth', 'samples x batch'], body, new Set([2, 3, 4, 5, 6])));
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
    out.push('(the reference solution\'s numbers: npm run bench -- --solution)');
  }
  if (report.ratios.length > 0) {
    out.push('the ratios that matter (targets are for the reference solution):');
    for (const r of report.ratios) {
      out.push(`  [${r.pass ? 'PASS' : 'MISS'}] ${r.phase} ${ratioLabel(r).padEnd(46)} ${fmtRatio(r).padStart(10)}   target ${r.target}`);
    }
  }
  for (const n of report.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

// A compact Markdown table for the README and the phase-2 lesson: one line per op, one column per size.
export function renderMarkdown(report: Report): string {
  const sizes = report.sizes;
  const keys: string[] = [];
  for (const r of report.rows) if (!keys.includes(rowLabel(r))) keys.push(rowLabel(r));
  const lines: string[] = [];
  lines.push(`| median (p90) | ${sizes.map(fmtBytes).join(' | ')} |`);
  lines.push(`|---|${sizes.map(() => '---:').join('|')}|`);
  for (const key of keys) {
    const cells = sizes.map((s) => {
      const r = report.rows.find((x) => rowLabel(x) === key && (x.bytes === s || x.bytes === 0));
      if (r === undefined) return '';
      if (r.bytes === 0 && s !== sizes[0]) return '';
      return `${fmtNs(r.median_ns)} (${fmtNs(r.p90_ns)})`;
    });
    lines.push(`| ${key} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  for (const r of report.ratios) {
    lines.push(`- ${r.pass ? 'met' : '**not met**'}: ${r.phase} ${ratioLabel(r)} = ${fmtRatio(r)} (target ${r.target})`);
  }
  lines.push('');
  lines.push(
    `Measured ${report.created_at.slice(0, 10)} with \`npm run bench${report.impl === 'solution' ? ' -- --solution' : ''}\` on ${machineLine(report.machine)}.`,
  );
  return lines.join('\n');
}
