// npm run demo: mini-Ray on your phase 2 and phase 3 (or the references, --solution).
//
// Two jobs, each run three ways in one run on this machine, with the same functions
// (runtime/demo/tasks.ts):
//   one process     the driver calls the functions itself
//   mini-Ray        worker processes fetch tasks from the shared scheduler; arguments and results
//                   are objects in the shared store (tiles read back as zero-copy views)
//   Node IPC        as many child processes, arguments and results sent over child_process's
//                   channel (advanced serialisation)
// and checks that the three give the same checksum.
//
//   npm run demo -- [--solution] [--quick] [--workers N] [--chaos[=MS]] [--out DIR]
//
// --chaos SIGKILLs a random mini-Ray worker every MS ms (default 400) while the image renders, but
// never while a replacement is still starting; the runtime replaces it, the scheduler re-queues its
// task, and the checksum must not change.
// The image job renders a Mandelbrot field once, makes a surface of it once, then lights it in
// frames of a circling light (runtime/demo/jobs.ts says why this job is bound by moving bytes).
// Writes DIR/mandelbrot.png (an animated PNG of the frames), DIR/timeline.html (one lane per worker, one bar per task) and
// DIR/demo-report.json (default DIR: build/demo). Exits 1 if a checksum differs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';

import { REPO_ROOT, currentImpl, hasSolutions } from '../../lib/phases.js';
import { init } from '../index.js';
import { IpcPool } from './ipc-pool.js';
import { countsChecksum, corpus, framesChecksum, imageIpc, imageJob, imageLabel, imageMiniRay, imageOneProcess, storeBytesFor, wordsIpc, wordsMiniRay, wordsOneProcess } from './jobs.js';
import { writePng, writeTimeline } from './output.js';
import * as tasks from './tasks.js';

interface Args {
  solution: boolean;
  quick: boolean;
  workers: number;
  chaosMs: number | null;
  out: string;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { solution: false, quick: false, workers: Math.max(2, availableParallelism()), chaosMs: null, out: join(REPO_ROOT, 'build', 'demo') };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--solution') a.solution = true;
    else if (arg === '--quick') a.quick = true;
    else if (arg === '--chaos') a.chaosMs = 400;
    else if (arg.startsWith('--chaos=')) a.chaosMs = Number(arg.slice('--chaos='.length));
    else if (arg === '--workers') a.workers = Number(argv[(i += 1)]);
    else if (arg === '--out') a.out = argv[(i += 1)] ?? a.out;
    else {
      console.error(`unknown option ${arg}\nusage: npm run demo -- [--solution] [--quick] [--workers N] [--chaos[=MS]] [--out DIR]`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(a.workers) || a.workers < 1 || a.workers > 64) throw new Error(`--workers takes 1..64, got ${a.workers}`);
  if (a.chaosMs !== null && !(a.chaosMs >= 20)) throw new Error(`--chaos=MS takes at least 20 ms, got ${a.chaosMs}`);
  return a;
}

// ---- the run ----

async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.solution && !hasSolutions()) throw new Error('--solution runs the references in solutions/, which this copy of the course does not have');
  if (args.solution) process.env.MINIRAY_IMPL = 'solution';
  const impl = currentImpl();
  if (process.env.MINIRAY_SKIP_BUILD !== '1') {
    const { build } = await import('../../tools/build.js');
    build({ impls: [impl], phases: ['phase2', 'phase3'], quiet: true });
  }
  mkdirSync(args.out, { recursive: true });
  console.log(`mini-Ray demo on ${impl === 'solution' ? 'the reference phase 2 and phase 3' : 'your phase 2 and phase 3'}, ${args.workers} workers${args.quick ? ' (quick)' : ''}${args.chaosMs === null ? '' : `, chaos: a worker killed every ${args.chaosMs} ms`}`);

  const job = imageJob(args.quick);
  const chunks = corpus(args.quick);
  const corpusBytes = chunks.reduce((n, c) => n + c.length, 0);

  const t0 = performance.now();
  const rt = await init({ workers: args.workers, memory: storeBytesFor(job), maxAttempts: args.chaosMs === null ? 3 : 10, preallocate: true });
  const startMs = performance.now() - t0;
  const pool = await IpcPool.start(args.workers);
  let kills = 0;
  try {
    // Warm-up: every worker of both kinds imports the task module once, untimed.
    const warm = rt.remote<typeof tasks.countWords>(new URL('./tasks.ts', import.meta.url), 'countWords');
    await rt.get(Array.from({ length: 2 * args.workers }, () => warm.remote(Buffer.from('warm up'))), { timeoutMs: 120_000 });
    await Promise.all(Array.from({ length: 2 * args.workers }, () => pool.call('countWords', Buffer.from('warm up'))));
    const runStart = performance.timeOrigin + performance.now();

    // Each way's frames get their checksum at once, outside the clock; mini-Ray's are kept for the PNG.
    const one = await timed(() => imageOneProcess(job));
    const oneSum = framesChecksum(one.value);
    one.value.release();
    const busy = new Set<number>();
    rt.events.on('task-start', (e: { pid: number }) => busy.add(e.pid));
    rt.events.on('task-end', (e: { pid: number }) => busy.delete(e.pid));
    rt.events.on('worker-died', (e: { pid: number }) => busy.delete(e.pid));
    const chaos =
      args.chaosMs === null
        ? null
        : setInterval(() => {
            if (rt.workerPids().length < args.workers) return; // a replacement is still starting: let it
            const pids = [...busy]; // kill one in the middle of a task, so that the task is retried
            const victim = pids[Math.floor(Math.random() * pids.length)];
            if (victim === undefined) return;
            try {
              process.kill(victim, 'SIGKILL');
              kills += 1;
            } catch {
              // it had just exited
            }
          }, args.chaosMs);
    const ray = await timed(() => imageMiniRay(rt, job)).finally(() => clearInterval(chaos ?? undefined));
    const ipc = await timed(() => imageIpc(pool, job));
    const imageSums = [oneSum, framesChecksum(ray.value), framesChecksum(ipc.value)];
    ipc.value.release();

    const wOne = await timed(() => wordsOneProcess(chunks));
    const wRay = await timed(() => wordsMiniRay(rt, chunks));
    const wIpc = await timed(() => wordsIpc(pool, chunks));
    const runEnd = performance.timeOrigin + performance.now();

    const wordSums = [countsChecksum(wOne.value), countsChecksum(wRay.value), countsChecksum(wIpc.value)];
    const pngPath = join(args.out, 'mandelbrot.png');
    const timelinePath = join(args.out, 'timeline.html');
    // The full image's animation at half size (1536x1024, 24 frames): a file a browser opens at once.
    writePng(pngPath, job.width, job.height, ray.value.bands, job.frames, 100, job.width >= 2048 ? 2 : 1);
    ray.value.release();
    const first = Math.min(runStart, ...rt.timeline().map((e) => e.start)); // the warm-up included
    writeTimeline(timelinePath, `mini-Ray task timeline (${args.workers} workers)`, 'From the warm-up to the end of the run: the long gaps are the one-process and Node-IPC runs of each job.', rt.timeline(), first, runEnd);

    const rows = [
      { job: imageLabel(job), one: one.ms, ray: ray.ms, ipc: ipc.ms, sums: imageSums },
      { job: `word count, ${chunks.length} x ${(corpusBytes / chunks.length / 1024).toFixed(0)} KiB`, one: wOne.ms, ray: wRay.ms, ipc: wIpc.ms, sums: wordSums },
    ];
    console.log('');
    console.log(`${'job'.padEnd(40)} ${'one process'.padStart(12)} ${'mini-Ray'.padStart(12)} ${'Node IPC'.padStart(12)}   speed-up   vs IPC   checksum`);
    for (const r of rows) {
      const same = r.sums.every((s) => s === r.sums[0]);
      console.log(
        `${r.job.padEnd(40)} ${fmt(r.one).padStart(12)} ${fmt(r.ray).padStart(12)} ${fmt(r.ipc).padStart(12)}   ${`${(r.one / r.ray).toFixed(2)}x`.padStart(8)}   ${`${(r.ipc / r.ray).toFixed(2)}x`.padStart(6)}   ${same ? `${r.sums[0]} (all three equal)` : `DIFFER: ${r.sums.join(' ')}`}`,
      );
    }
    const stats = rt.stats();
    console.log('');
    console.log(`speed-up: one process / mini-Ray; vs IPC: Node IPC / mini-Ray (above 1: mini-Ray is faster). Measured in this run, ${args.workers} workers on ${availableParallelism()} cores.`);
    const pre = rt.preallocation === null ? '' : `, ${fmt(rt.preallocation.ms)} of it writing the store's ${Math.round(rt.preallocation.bytes / (1 << 20))} MiB once`;
    console.log(`mini-Ray started in ${fmt(startMs)}${pre} (not in the table); ${stats.scheduler.completed} tasks completed, ${stats.scheduler.requeued} re-queued, ${stats.workerDeaths} workers died${args.chaosMs === null ? '' : ` (${kills} killed by --chaos)`}.`);
    console.log(`wrote ${relative(process.cwd(), pngPath)} and ${relative(process.cwd(), timelinePath)}`);
    const ok = rows.every((r) => r.sums.every((s) => s === r.sums[0]));
    writeFileSync(
      join(args.out, 'demo-report.json'),
      `${JSON.stringify({ impl, workers: args.workers, quick: args.quick, chaosKills: kills, workerDeaths: stats.workerDeaths, requeued: stats.scheduler.requeued, jobs: rows.map((r) => ({ job: r.job, oneProcessMs: r.one, miniRayMs: r.ray, ipcMs: r.ipc, checksums: r.sums })), ok }, null, 2)}\n`,
    );
    if (!ok) console.error('demo FAILED: the three runs of a job disagree');
    return ok ? 0 : 1;
  } finally {
    pool.close();
    await rt.shutdown();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
