// What a phase's benchmark gets to work with, what it hands back (meters), and the budgets every
// measurement runs under.
//
// A benchmark is a list of meters. A meter measures one row (an op at one size) once; the run
// calls every meter once per round, in the same order, for several rounds (see rounds.ts), so that
// the baselines and the store rows of one round are measured minutes apart at most and every ratio
// is taken within a round.
import { randomFillSync } from 'node:crypto';

import type { ErrorCode } from '../../lib/errors.js';
import type { PhaseId } from '../../lib/phases.js';
import type { Budget, Stats } from './harness.js';
import type { BenchNative } from './native.js';
import { MiB, type RowPhase } from './report.js';

// One round's budget for a row of `bytes`. A run of R rounds gives each row R times this: the
// default 7 rounds of 85 ms give a row a little less time than 5 rounds of 150 ms did, in more,
// shorter rounds (agreement.ts: why more rounds), so that a run still takes about 4 minutes with
// the demo's extra rounds and the puts' paired memcpy.
export function budgetFor(bytes: number, quick: boolean): Budget {
  if (quick) return { timeMs: 20, warmupMs: 5, warmupIterations: 2, minSamples: 3, targetBatchNs: 10_000 };
  if (bytes >= 16 * MiB) {
    // A 64 MiB sample takes 5 ms (a copy) to 0.3 s (an IPC round trip): few samples per round.
    return { timeMs: 100, warmupMs: 0, warmupIterations: 1, minSamples: 3, targetBatchNs: 25_000 };
  }
  return { timeMs: 85, warmupMs: 15, warmupIterations: 5, minSamples: 15, targetBatchNs: 25_000 };
}

// Rounds of a run unless --rounds says otherwise.
export const DEFAULT_ROUNDS = 7;
export const QUICK_ROUNDS = 2;

// Puts (and the memcpy baseline) write into this many bytes of pre-faulted memory before reusing
// any: far more than the last-level cache, so neither a put nor the memcpy it is compared with
// writes into cache-hot lines the previous sample left behind.
export const poolBytes = (quick: boolean): number => (quick ? 64 : 256) * MiB;

// From this size on, a phase re-measures memcpy right before its put: the put/memcpy ratio then
// compares two numbers taken seconds apart.
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

// One row, measured once per round.
export interface Meter {
  readonly phase: RowPhase;
  readonly op: string;
  readonly bytes: number;
  // Bytes move (a copy, an IPC message): the row gets a bandwidth.
  readonly movesBytes: boolean;
  // The reference op its batches are paired with (harness.ts pairedWith), by its row's op name.
  readonly paired?: string;
  measure(budget: Budget): Promise<Stats>;
}

export function meter(
  phase: RowPhase,
  op: string,
  bytes: number,
  movesBytes: boolean,
  measure: (budget: Budget) => Promise<Stats>,
  paired?: string,
): Meter {
  return { phase, op, bytes, movesBytes, measure, ...(paired === undefined ? {} : { paired }) };
}

// What a phase sets up once (segments, second processes) and the meters that use it.
export interface MeterSet {
  readonly meters: readonly Meter[];
  close(): Promise<void>;
}

// One object of the get segment, as the second process needs to find and check it.
export interface ObjectRef {
  readonly bytes: number;
  readonly id: string;
  readonly sha1: string;
}

// What the second process is asked to open.
export interface ChildOpenRequest {
  readonly kind: 'open';
  readonly phase: PhaseId;
  readonly name: string;
  readonly objects: readonly ObjectRef[];
  readonly quick: boolean;
  // What else a phase's childGet needs (phase 4: which store, which workload, when to start).
  readonly params?: Readonly<Record<string, string | number>>;
}

// The messages the parent sends a second process after 'open' (see procs.ts and child.ts).
export type ChildRequest =
  | ChildOpenRequest
  | { readonly kind: 'measure'; readonly index: number; readonly budget: Budget }
  | { readonly kind: 'close' };

export type ChildReply =
  | { readonly kind: 'opened'; readonly meters: readonly { readonly op: string; readonly bytes: number }[] }
  | { readonly kind: 'stats'; readonly stats: Stats }
  | { readonly kind: 'closed' }
  | { readonly kind: 'error'; readonly message: string; readonly code?: ErrorCode };

export interface BenchContext {
  readonly sizes: readonly number[];
  readonly quick: boolean;
  readonly native: BenchNative;
  // memcpy of `bytes` to fresh pre-faulted shared memory, as the baseline measures it: a phase
  // measures it right before its put of 1 MiB and more (PAIRED_MEMCPY_FROM).
  memcpy(bytes: number, budget: Budget): Promise<Stats>;
  // One such memcpy per call (each to the next slot): the reference a put of 1 MiB and more is
  // paired with (harness.ts pairedWith).
  memcpyCall(bytes: number): () => void;
  // Opens the segment in a second process (childMeters there); its meters run in that process.
  otherProcess(request: ChildOpenRequest): Promise<MeterSet>;
  // Runs a phase's serve() in a second process until it returns (phase 3's workers).
  serve(request: ChildOpenRequest): Promise<void>;
  log(message: string): void;
}

export interface PhaseBench {
  readonly phase: PhaseId;
  // Sets up the phase's segments and second processes, and returns its meters.
  prepare(ctx: BenchContext): Promise<MeterSet>;
  // In the second process: opens the segment, checks every object's bytes, returns its meters.
  childMeters?(request: ChildOpenRequest, native: BenchNative): Promise<MeterSet>;
  // In a second process: serves the phase (phase 3: a worker) until told to stop.
  serve?(request: ChildOpenRequest): Promise<void>;
}
