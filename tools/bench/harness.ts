// The measuring loop every benchmark row goes through, on top of tinybench.
//
// Fast operations (a get is ~100 ns, near the timer's own cost) are timed in batches: one tinybench
// sample is the mean of `batch` back-to-back calls, timed with process.hrtime.bigint(), so the
// timer's overhead is spread over the batch. Slow ones (a 64 MiB copy) use a batch of 1. tinybench
// does the warm-up, keeps sampling until both a time budget and a minimum sample count are met,
// and retains the samples; the median and p90 are computed here from those samples.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { Bench, type Task } from 'tinybench';

export interface Budget {
  // Sampling time per row in milliseconds (only the timed part counts).
  readonly timeMs: number;
  readonly warmupMs: number;
  readonly minSamples: number;
  // Warm-up calls of the task (each a whole batch) before sampling starts.
  readonly warmupIterations: number;
  // A batch should take about this long, so the timer's cost is negligible.
  readonly targetBatchNs: number;
}

export interface Stats {
  readonly median_ns: number;
  readonly p90_ns: number;
  readonly min_ns: number;
  readonly max_ns: number;
  readonly samples: number;
  readonly batch: number;
  // With BatchOptions.pairedWith: the median of that reference op, timed in batches that alternate
  // with this op's in the same window (per call, like median_ns) ...
  readonly paired_median_ns?: number;
  // ... and the medians, over the pairs (a batch of the reference, then a batch of this op), of
  // this op's time divided by the reference's and of the difference (per call). A pair is taken
  // microseconds apart, so a change of the machine's speed between pairs cancels out of both.
  readonly paired_ratio?: number;
  readonly paired_diff_ns?: number;
}

export interface BatchOptions {
  // Called (untimed) before each timed batch, to make room for `batch` more operations.
  readonly prepare?: (batch: number) => void | Promise<void>;
  // Called (untimed) after each timed batch, e.g. to release what the batch pinned.
  readonly finish?: (batch: number) => void;
  // Largest batch the caller can prepare room for.
  readonly maxBatch?: number;
  readonly batch?: number;
  // A reference op (the N-API no-op; memcpy of the same bytes for a put) timed in a batch of its own
  // right before every batch of this op, so that a ratio of the two compares calls made
  // microseconds apart: this machine runs at times twice as slow for seconds on end, which two rows
  // measured seconds apart turn into a ratio off by 2x.
  readonly pairedWith?: () => void;
}

const nowNs = (): bigint => process.hrtime.bigint();

// Linear interpolation between order statistics, as tinybench does for its percentiles.
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (b - a) * (pos - lo);
}

function statsOf(task: Task, batch: number): Stats {
  const r = task.result;
  if (r.state === 'errored') throw r.error;
  if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') {
    throw new Error(`benchmark ${task.name} ended in state ${r.state}`);
  }
  const samples = [...(r.latency.samples ?? [])].map((ms) => ms * 1e6).sort((a, b) => a - b);
  if (samples.length === 0) throw new Error(`benchmark ${task.name} recorded no samples`);
  return {
    median_ns: quantile(samples, 0.5),
    p90_ns: quantile(samples, 0.9),
    min_ns: samples[0] ?? Number.NaN,
    max_ns: samples[samples.length - 1] ?? Number.NaN,
    samples: samples.length,
    batch,
  };
}

function newBench(budget: Budget): Bench {
  return new Bench({
    time: budget.timeMs,
    iterations: budget.minSamples,
    warmup: true,
    warmupTime: budget.warmupMs,
    warmupIterations: budget.warmupIterations,
    retainSamples: true,
    throws: true,
  });
}

// Picks the batch size from the fastest of a few probes (the minimum shrugs off a scheduler hiccup
// that would otherwise leave a fast op timed one call at a time).
async function calibrate(op: () => void, budget: Budget, options: BatchOptions): Promise<number> {
  if (options.batch !== undefined) return options.batch;
  const maxBatch = Math.max(1, Math.min(options.maxBatch ?? 100_000, 100_000));
  const probe = Math.min(16, maxBatch);
  let perOp = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round += 1) {
    await options.prepare?.(probe);
    const t0 = nowNs();
    for (let i = 0; i < probe; i += 1) op();
    perOp = Math.min(perOp, Number(nowNs() - t0) / probe);
    options.finish?.(probe);
    if (round >= 1 && perOp > budget.targetBatchNs) break; // slow: one call per sample anyway
  }
  const want = Math.round(budget.targetBatchNs / Math.max(perOp, 1));
  return Math.max(1, Math.min(maxBatch, want));
}

// Measures a synchronous operation, timed in batches; the returned times are per call. (The task
// is async only so that `prepare` may yield; the timed loop itself never awaits.)
export async function measureBatched(
  name: string,
  op: () => void,
  budget: Budget,
  options: BatchOptions = {},
): Promise<Stats> {
  const batch = await calibrate(op, budget, options);
  const paired = options.pairedWith;
  const pairedBatch = paired === undefined ? 0 : await calibrate(paired, budget, {});
  const pairedSamples: number[] = [];
  const opSamples: number[] = [];
  const bench = newBench(budget);
  let yielded = Date.now();
  bench.add(name, async () => {
    // Untimed: let the event loop run now and then, so that Ctrl-C reaches the cleanup handlers
    // (tinybench's own awaits only run microtasks).
    if (Date.now() - yielded > 25) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      yielded = Date.now();
    }
    await options.prepare?.(batch);
    if (paired !== undefined) {
      const p0 = nowNs();
      for (let i = 0; i < pairedBatch; i += 1) paired();
      pairedSamples.push(Number(nowNs() - p0) / pairedBatch);
    }
    const t0 = nowNs();
    for (let i = 0; i < batch; i += 1) op();
    const total = Number(nowNs() - t0) / 1e6;
    options.finish?.(batch);
    if (paired !== undefined) opSamples.push((total * 1e6) / batch);
    return { overriddenDuration: total / batch, overriddenIterationCost: total };
  });
  await bench.run();
  const task = bench.getTask(name);
  if (task === undefined) throw new Error(`benchmark ${name} vanished`);
  const stats = statsOf(task, batch);
  if (paired === undefined || pairedSamples.length === 0) return stats;
  // tinybench's warm-up ran the task too: only as many of the last pairs as there are samples.
  const ref = pairedSamples.slice(-stats.samples);
  const own = opSamples.slice(-stats.samples);
  const sorted = (xs: number[]): number[] => xs.sort((a, b) => a - b);
  return {
    ...stats,
    paired_median_ns: quantile(sorted([...ref]), 0.5),
    paired_ratio: quantile(sorted(own.map((x, i) => x / (ref[i] ?? Number.NaN))), 0.5),
    paired_diff_ns: quantile(sorted(own.map((x, i) => x - (ref[i] ?? Number.NaN))), 0.5),
  };
}

// Measures an asynchronous operation (one call per sample: these take microseconds or more).
export async function measureAsync(name: string, op: () => Promise<void>, budget: Budget): Promise<Stats> {
  const bench = newBench(budget);
  bench.add(name, async () => {
    const t0 = nowNs();
    await op();
    const total = Number(nowNs() - t0) / 1e6;
    return { overriddenDuration: total, overriddenIterationCost: total };
  });
  await bench.run();
  const task = bench.getTask(name);
  if (task === undefined) throw new Error(`benchmark ${name} vanished`);
  return statsOf(task, 1);
}

let gc: (() => void) | undefined;

// A full garbage collection, then a turn of the event loop so that finalizers run: a closed
// segment's mapping is only unmapped when its ArrayBuffer is collected, and V8 does not know how
// much memory hides behind it. Without this, a put benchmark keeps gigabytes of /dev/shm alive.
export async function collectGarbage(): Promise<void> {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
