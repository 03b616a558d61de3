// Phase 3 (the shared scheduler): a task's round trip between two processes (the driver submits,
// a worker in a second process fetches and completes it, the driver's wait returns), against a Node
// IPC message round trip of 64 bytes; and tasks per second with 1, 2 and 4 worker processes.
//
// The worker processes are the benchmark's usual second process (ctx.otherProcess), running
// childGet below: it opens the scheduler, registers a worker and serves tasks until it fetches one
// called 'stop'.
import { Scheduler, type ObjectId, type TaskId } from '../../../phase3-scheduler/index.js';
import { removeSegment, segmentName } from '../cleanup.js';
import { budgetFor, toRow, type BenchContext, type ChildGetRequest, type PhaseBench } from '../context.js';
import { measureBatched, type Stats } from '../harness.js';
import type { Row } from '../report.js';

const RESULT = 'ab'.repeat(20) as ObjectId;
const STOP = 'stop';
const WAIT_MS = 30_000;

// Starts `n` worker processes on `name` and waits until all have registered (the driver's calls
// below are synchronous: the event loop must have sent the requests first). The returned promise
// settles when they have all stopped.
async function startWorkers(ctx: BenchContext, sched: Scheduler, n: number): Promise<{ running: Promise<unknown> }> {
  const request: ChildGetRequest = { kind: 'get', phase: 'phase3', name: sched.name, objects: [], quick: ctx.quick };
  const running = Promise.all(Array.from({ length: n }, () => ctx.otherProcess(request)));
  let failed: unknown;
  running.catch((e: unknown) => (failed = e));
  const deadline = Date.now() + 60_000;
  while (sched.stats().workers < n) {
    if (failed !== undefined) throw failed;
    if (Date.now() > deadline) throw new Error(`${n} benchmark workers did not register within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { running };
}

async function stopWorkers(sched: Scheduler, n: number, running: Promise<unknown>): Promise<void> {
  const stops: TaskId[] = [];
  for (let i = 0; i < n; i += 1) stops.push(sched.submit({ fn: STOP }, { timeoutMs: WAIT_MS }));
  await running;
  for (const id of stops) sched.wait(id, { timeoutMs: WAIT_MS });
}

// One task there and back: submit, a worker elsewhere fetches and completes it, wait returns.
async function roundTrip(ctx: BenchContext): Promise<Row> {
  const name = segmentName();
  const sched = Scheduler.create(name, { queueCapacity: 64, maxTasks: 256 });
  try {
    const { running } = await startWorkers(ctx, sched, 1);
    const once = (): void => {
      const task = sched.submit({ fn: 'echo', args: [RESULT] }, { timeoutMs: WAIT_MS });
      const out = sched.wait(task, { timeoutMs: WAIT_MS });
      if (out.state !== 'done' || out.resultId !== RESULT) throw new Error(`task round trip returned ${JSON.stringify(out)}`);
    };
    for (let i = 0; i < 50; i += 1) once(); // the worker is up and warm
    const s = await measureBatched('phase3 task_roundtrip', once, budgetFor(64, ctx.quick), { maxBatch: 200 });
    await stopWorkers(sched, 1, running);
    return toRow('phase3', 'task_roundtrip', 0, s, false);
  } finally {
    sched.close();
    removeSegment(name);
  }
}

// `tasks` tasks through `n` workers: all submitted (waiting whenever the queue is full), then all
// collected. One sample is the time per task of a whole run.
async function throughput(ctx: BenchContext, n: number): Promise<Row> {
  const tasks = ctx.quick ? 400 : 4000;
  const rounds = ctx.quick ? 2 : 5;
  const name = segmentName();
  const sched = Scheduler.create(name, { queueCapacity: 256, maxTasks: tasks + 64, maxWorkers: n + 1 });
  try {
    const { running } = await startWorkers(ctx, sched, n);
    const samples: number[] = [];
    for (let round = 0; round <= rounds; round += 1) {
      const t0 = process.hrtime.bigint();
      const ids: TaskId[] = [];
      for (let i = 0; i < tasks; i += 1) ids.push(sched.submit({ fn: 'echo', args: [RESULT] }, { timeoutMs: WAIT_MS }));
      for (const id of ids) sched.wait(id, { timeoutMs: WAIT_MS });
      const perTask = Number(process.hrtime.bigint() - t0) / tasks;
      if (round > 0) samples.push(perTask); // round 0 warms up
    }
    await stopWorkers(sched, n, running);
    samples.sort((a, b) => a - b);
    const s: Stats = {
      median_ns: samples[Math.floor(samples.length / 2)] ?? Number.NaN,
      p90_ns: samples[Math.min(samples.length - 1, Math.ceil(samples.length * 0.9) - 1)] ?? Number.NaN,
      min_ns: samples[0] ?? Number.NaN,
      max_ns: samples[samples.length - 1] ?? Number.NaN,
      samples: samples.length,
      batch: tasks,
    };
    return toRow('phase3', `tasks_${n}_worker${n === 1 ? '' : 's'}`, 0, s, false);
  } finally {
    sched.close();
    removeSegment(name);
  }
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [await roundTrip(ctx)];
  ctx.log('phase3 task_roundtrip done');
  for (const n of [1, 2, 4]) {
    rows.push(await throughput(ctx, n));
    ctx.log(`phase3 ${n} worker(s) done`);
  }
  return rows;
}

// The second process: a worker that completes every task with its first argument, until 'stop'.
async function childGet(req: ChildGetRequest): Promise<Row[]> {
  const sched = Scheduler.open(req.name);
  try {
    const me = sched.registerWorker();
    for (;;) {
      const task = sched.fetch(me, { timeoutMs: WAIT_MS });
      if (task === null) throw new Error(`the worker waited ${WAIT_MS} ms for a task`);
      sched.complete(me, task.id, task.args[0] ?? RESULT);
      if (task.fn === STOP) return [];
    }
  } finally {
    sched.close();
  }
}

export const phase3Bench: PhaseBench = { phase: 'phase3', run, childGet };
