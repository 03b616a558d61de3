// The demo's jobs as benchmark rows (npm run bench; tools/bench/main.ts loads this file when the
// runtime is there). Each job runs once per round three ways, one after the other so that the
// three see the same load: in one process, on mini-Ray, and over Node IPC, with the same workers
// for the whole run. Every run's checksum must equal the first one's, or the benchmark fails.
//
// Rows (phase 'demo', bytes 0): image_one_process, image_miniray, image_ipc, words_one_process,
// words_miniray, words_ipc. The ratios (speed-up over one process, IPC against mini-Ray) are taken
// within each round by tools/bench/targets.ts.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';

import { meter, type Meter, type MeterSet } from '../../tools/bench/context.js';
import type { Stats } from '../../tools/bench/harness.js';
import type { DemoInfo, DemoJobName } from '../../tools/bench/report.js';
import { init } from '../index.js';
import { IpcPool } from './ipc-pool.js';
import * as jobs from './jobs.js';
import type * as tasks from './tasks.js';

export interface DemoBenchSet extends MeterSet {
  describe(): DemoInfo;
}

export interface DemoBenchOptions {
  readonly quick: boolean;
  readonly log: (message: string) => void;
  readonly workers?: number; // default: as the demo, one per core and at least 2
}

// One timed run as a row's statistics for its round.
function once(ms: number): Stats {
  const ns = Math.round(ms * 1e6);
  return { median_ns: ns, p90_ns: ns, min_ns: ns, max_ns: ns, samples: 1, batch: 1 };
}

async function timedMs(fn: () => Promise<unknown> | unknown): Promise<{ value: unknown; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

export async function prepareDemoBench(options: DemoBenchOptions): Promise<DemoBenchSet> {
  const workers = options.workers ?? Math.max(2, availableParallelism());
  jobs.progressBars.enabled = false;
  const image = jobs.imageJob(options.quick);
  const chunks = jobs.corpus(options.quick);
  const corpusBytes = chunks.reduce((n, c) => n + c.length, 0);

  options.log(`demo: starting mini-Ray and the Node-IPC pool, ${workers} workers each...`);
  let t0 = performance.now();
  const rt = await init({ workers, memory: jobs.storeBytesFor(image), preallocate: true });
  const rayStartMs = performance.now() - t0;
  let pool: IpcPool;
  try {
    t0 = performance.now();
    pool = await IpcPool.start(workers);
  } catch (e) {
    await rt.shutdown();
    throw e;
  }
  const ipcStartMs = performance.now() - t0;
  const close = async (): Promise<void> => {
    pool.close();
    await rt.shutdown();
  };
  try {
    // Every worker of both kinds imports the task module once, untimed (as the demo does).
    const warm = rt.remote<typeof tasks.countWords>(new URL('./tasks.ts', import.meta.url), 'countWords');
    await rt.get(Array.from({ length: 2 * workers }, () => warm.remote(Buffer.from('warm up'))), { timeoutMs: 120_000 });
    await Promise.all(Array.from({ length: 2 * workers }, () => pool.call('countWords', Buffer.from('warm up'))));
  } catch (e) {
    await close();
    throw e;
  }

  const expected = new Map<DemoJobName, string>();
  const check = (job: DemoJobName, how: string, sum: string): void => {
    const first = expected.get(job);
    if (first === undefined) expected.set(job, sum);
    else if (first !== sum) throw new Error(`demo: the ${job} job gave checksum ${sum} ${how}, ${first} before: the runs disagree`);
  };
  // The checksum is taken after the clock stops (the image job's frames are 384 MiB), then the
  // run's frames are let go (mini-Ray's objects freed), untimed.
  const row = <T>(job: DemoJobName, way: 'one_process' | 'miniray' | 'ipc', run: () => Promise<T> | T, sum: (value: T) => string, release?: (value: T) => void): Meter =>
    meter('demo', `${job}_${way}`, 0, false, async () => {
      const { value, ms } = await timedMs(run);
      try {
        check(job, way.replace('_', ' '), sum(value as T));
      } finally {
        release?.(value as T);
      }
      return once(ms);
    });
  const frames = (f: jobs.ImageFrames): void => f.release();
  const meters: Meter[] = [
    row('image', 'one_process', () => jobs.imageOneProcess(image), jobs.framesChecksum, frames),
    row('image', 'miniray', () => jobs.imageMiniRay(rt, image), jobs.framesChecksum, frames),
    row('image', 'ipc', () => jobs.imageIpc(pool, image), jobs.framesChecksum, frames),
    row('words', 'one_process', () => jobs.wordsOneProcess(chunks), jobs.countsChecksum),
    row('words', 'miniray', () => jobs.wordsMiniRay(rt, chunks), jobs.countsChecksum),
    row('words', 'ipc', () => jobs.wordsIpc(pool, chunks), jobs.countsChecksum),
  ];
  // Called after the rounds: the checksums are those every run agreed on.
  const describe = (): DemoInfo => ({
    workers,
    start_ms: {
      miniray: Math.round(rayStartMs),
      ipc: Math.round(ipcStartMs),
      ...(rt.preallocation === null ? {} : { preallocate: Math.round(rt.preallocation.ms), preallocated_mib: Math.round(rt.preallocation.bytes / (1 << 20)) }),
    },
    jobs: [
      { job: 'image', label: jobs.imageLabel(image), checksum: expected.get('image') ?? '' },
      { job: 'words', label: `word count, ${chunks.length} x ${(corpusBytes / chunks.length / 1024).toFixed(0)} KiB`, checksum: expected.get('words') ?? '' },
    ],
  });
  return { meters, close, describe };
}
