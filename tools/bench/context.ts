// What a phase's benchmark gets to work with, and the budgets every row is measured under.
import { randomFillSync } from 'node:crypto';

import type { ErrorCode } from '../../lib/errors.js';
import type { PhaseId } from '../../lib/phases.js';
import type { Budget, Stats } from './harness.js';
import type { BenchNative } from './native.js';
import { MiB, type Row, type RowPhase } from './report.js';

export function budgetFor(bytes: number, quick: boolean): Budget {
  if (quick) return { timeMs: 40, warmupMs: 10, warmupIterations: 2, minSamples: 5, targetBatchNs: 10_000 };
  if (bytes >= 16 * MiB) {
    // A 64 MiB sample takes 10 ms (a copy) to 0.5 s (an IPC round trip): few samples, said so.
    return { timeMs: 400, warmupMs: 0, warmupIterations: 2, minSamples: 12, targetBatchNs: 25_000 };
  }
  return { timeMs: 600, warmupMs: 100, warmupIterations: 10, minSamples: 30, targetBatchNs: 25_000 };
}

// Puts (and the memcpy baseline) write into this many bytes of pre-faulted memory before reusing
// any: far more than the last-level cache, so neither a put nor the memcpy it is compared with
// writes into cache-hot lines the previous sample left behind.
export const poolBytes = (quick: boolean): number => (quick ? 64 : 256) * MiB;

// From this size on, a phase re-measures memcpy right before its put (see BenchContext.memcpy).
export const PAIRED_MEMCPY_FROM = MiB;

// Room for `bytes` rounded up to 64, the stores' alignment.
export const aligned = (bytes: number): number => Math.ceil(bytes / 64) * 64;

// Slots of `bytes` in a pool (at least 2; at most 65,536, a metadata table's worth).
export const poolSlots = (bytes: number, quick: boolean): number =>
  Math.max(2, Math.min(65_536, Math.floor(poolBytes(quick) / aligned(bytes))));

// Random bytes (never all zeros: a store that forgot to copy would still look right on zeros).
export function testBytes(bytes: number): Buffer {
  return randomFillSync(Buffer.allocUnsafe(bytes));
}

export { sha1 } from '../../testkit/data.js';

export function toRow(phase: RowPhase, op: string, bytes: number, s: Stats, movesBytes: boolean): Row {
  const row: Row = {
    phase,
    op,
    bytes,
    median_ns: round(s.median_ns),
    p90_ns: round(s.p90_ns),
    min_ns: round(s.min_ns),
    samples: s.samples,
    batch: s.batch,
  };
  return movesBytes && bytes > 0 ? { ...row, bandwidth_gbps: Number((bytes / s.median_ns).toPrecision(4)) } : row;
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// One object of the get segment, as the second process needs to find and check it.
export interface ObjectRef {
  readonly bytes: number;
  readonly id: string;
  readonly sha1: string;
}

export interface ChildGetRequest {
  readonly kind: 'get';
  readonly phase: PhaseId;
  readonly name: string;
  readonly objects: readonly ObjectRef[];
  readonly quick: boolean;
  // What else a phase's childGet needs (phase 4: which store, which workload, when to start).
  readonly params?: Readonly<Record<string, string | number>>;
}

export type ChildReply =
  | { readonly kind: 'rows'; readonly rows: readonly Row[] }
  | { readonly kind: 'error'; readonly message: string; readonly code?: ErrorCode };

export interface BenchContext {
  readonly sizes: readonly number[];
  readonly quick: boolean;
  readonly native: BenchNative;
  // memcpy of `bytes` measured now, as the baseline is: a phase measures it right before its put
  // of 1 MiB and more, so that the put/memcpy ratio compares two numbers taken under the same load.
  memcpy(bytes: number): Promise<Stats>;
  // Runs the phase's childGet in a second process that opens the segment.
  otherProcess(request: ChildGetRequest): Promise<readonly Row[]>;
  log(message: string): void;
}

export interface PhaseBench {
  readonly phase: PhaseId;
  // Measured in this process: put (and create_seal), get, then get from a second process.
  run(ctx: BenchContext): Promise<Row[]>;
  // Runs in the second process: opens the segment, checks every object's bytes, times get.
  childGet(request: ChildGetRequest): Promise<Row[]>;
}
