// Phase 3 (the shared scheduler): a task's round trip between two processes (the driver submits,
// a worker in a second process fetches and completes it, the driver's wait returns), against a Node
// IPC message round trip of 64 bytes and against the same four calls made in one process (no
// process to hand over to, nobody to wake: what the calls themselves cost); and tasks per second
// with 1, 2 and 4 worker processes.
//
// The worker processes are the benchmark's second processes (ctx.serve), running serve() below: it
// opens the scheduler, registers a worker and serves tasks until it fetches one called 'stop'. They
// live for the whole run, so every round measures the same workers.
import { Scheduler, type ObjectId, type TaskId, type WorkerId } from '../../../phase3-scheduler/index.js';
import { removeSegment, segmentName } from '../cleanup.js';
import { meter, type BenchContext, type ChildOpenRequest, type Meter, type MeterSet, type PhaseBench } from '../context.js';
import { measureBatched, quantile, type Stats } from '../harness.js';

const RESULT = 'ab'.repeat(20) as ObjectId;
const STOP = 'stop';
const WAIT_MS = 30_000;

interface Workers {
  readonly sched: Scheduler;
  stop(): Promise<void>;
}

// A scheduler with `n` worker processes, registered before this returns (the driver's calls are
// synchronous: the event loop must have sent the requests first). They serve until stop().
async function startWorkers(ctx: BenchContext, n: number, options: { queueCapacity: number; maxTasks: number }): Promise<Workers> {
  const name = segmentName();
  const sched = Scheduler.create(name, { ...options, maxWorkers: n + 1 });
  const request: ChildOpenRequest = { kind: 'open', phase: 'phase3', name, objects: [], quick: ctx.quick };
  const running = Promise.all(Array.from({ length: n }, () => ctx.serve(request)));
  let failed: unknown;
  running.catch((e: unknown) => (failed = e));
  const close = (): void => {
    sched.close();
    removeSegment(name);
  };
  try {
    const deadline = Date.now() + 60_000;
    while (sched.stats().workers < n) {
      if (failed !== undefined) throw failed;
      if (Date.now() > deadline) throw new Error(`${n} benchmark workers did not register within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } catch (e) {
    close();
    throw e;
  }
  return {
    sched,
    stop: async () => {
      try {
        const stops: TaskId[] = [];
        for (let i = 0; i < n; i += 1) stops.push(sched.submit({ fn: STOP }, { timeoutMs: WAIT_MS }));
        await running;
        for (const id of stops) sched.wait(id, { timeoutMs: WAIT_MS });
      } finally {
        close();
      }
    },
  };
}

// One task there and back: submit, a worker elsewhere fetches and completes it, wait returns.
function roundTripMeter(w: Workers): Meter {
  const once = (): void => {
    const task = w.sched.submit({ fn: 'echo', args: [RESULT] }, { timeoutMs: WAIT_MS });
    const out = w.sched.wait(task, { timeoutMs: WAIT_MS });
    if (out.state !== 'done' || out.resultId !== RESULT) throw new Error(`task round trip returned ${JSON.stringify(out)}`);
  };
  return meter('phase3', 'task_roundtrip', 0, false, async (budget) => {
    for (let i = 0; i < 20; i += 1) once(); // the worker is awake
    return measureBatched('phase3 task_roundtrip', once, budget, { maxBatch: 200 });
  });
}

// The same four calls in this process, on a scheduler of its own with this process's worker: the
// round trip without its two hand-offs between processes.
function localMeter(sched: Scheduler, me: WorkerId): Meter {
  const once = (): void => {
    const task = sched.submit({ fn: 'echo', args: [RESULT] }, { timeoutMs: WAIT_MS });
    const got = sched.fetch(me, { timeoutMs: WAIT_MS });
    if (got === null || got.id !== task) throw new Error(`local round trip fetched ${JSON.stringify(got)}`);
    sched.complete(me, got.id, got.args[0] ?? RESULT);
    const out = sched.wait(task, { timeoutMs: WAIT_MS });
    if (out.state !== 'done' || out.resultId !== RESULT) throw new Error(`local round trip returned ${JSON.stringify(out)}`);
  };
  return meter('phase3', 'task_local', 0, false, async (budget) => {
    for (let i = 0; i < 20; i += 1) once();
    return measureBatched('phase3 task_local', once, budget, { maxBatch: 200 });
  });
}

// `tasks` tasks through `n` workers: all submitted (waiting whenever the queue is full), then all
// collected. One sample is the time per task of a whole batch; a round takes a warm-up batch and
// three timed ones.
function throughputMeter(w: Workers, n: number, tasks: number): Meter {
  return meter('phase3', `tasks_${n}_worker${n === 1 ? '' : 's'}`, 0, false, async () => {
    const samples: number[] = [];
    for (let batch = 0; batch <= 3; batch += 1) {
      const t0 = process.hrtime.bigint();
      const ids: TaskId[] = [];
      for (let i = 0; i < tasks; i += 1) ids.push(w.sched.submit({ fn: 'echo', args: [RESULT] }, { timeoutMs: WAIT_MS }));
      for (const id of ids) w.sched.wait(id, { timeoutMs: WAIT_MS });
      const perTask = Number(process.hrtime.bigint() - t0) / tasks;
      if (batch > 0) samples.push(perTask);
    }
    samples.sort((a, b) => a - b);
    const s: Stats = {
      median_ns: quantile(samples, 0.5),
      p90_ns: quantile(samples, 0.9),
      min_ns: samples[0] ?? Number.NaN,
      max_ns: samples[samples.length - 1] ?? Number.NaN,
      samples: samples.length,
      batch: tasks,
    };
    return s;
  });
}

async function prepare(ctx: BenchContext): Promise<MeterSet> {
  const tasks = ctx.quick ? 200 : 1000;
  const pools: Workers[] = [];
  const localName = segmentName();
  let local: Scheduler | undefined;
  const close = async (): Promise<void> => {
    try {
      for (const w of pools.reverse()) await w.stop();
    } finally {
      local?.close();
      removeSegment(localName);
    }
  };
  try {
    const meters: Meter[] = [];
    const one = await startWorkers(ctx, 1, { queueCapacity: 64, maxTasks: 256 });
    pools.push(one);
    meters.push(roundTripMeter(one));
    local = Scheduler.create(localName, { queueCapacity: 64, maxTasks: 256, maxWorkers: 1 });
    meters.push(localMeter(local, local.registerWorker()));
    for (const n of [1, 2, 4]) {
      const w = await startWorkers(ctx, n, { queueCapacity: 256, maxTasks: tasks + 64 });
      pools.push(w);
      meters.push(throughputMeter(w, n, tasks));
    }
    ctx.log('phase3 workers started');
    return { meters, close };
  } catch (e) {
    await close();
    throw e;
  }
}

// The second process: a worker that completes every task with its first argument, until 'stop'.
// It waits between rounds (while other rows are measured) for as long as it takes, but not longer
// than the benchmark lives: its fetch blocks the event loop, so it cannot hear the IPC channel
// close, and checks instead that its parent is still its parent.
async function serve(req: ChildOpenRequest): Promise<void> {
  const parent = process.ppid;
  const sched = Scheduler.open(req.name);
  try {
    const me = sched.registerWorker();
    for (;;) {
      const task = sched.fetch(me, { timeoutMs: 1000 });
      if (task === null) {
        if (process.ppid !== parent) return; // the benchmark died (a crash, SIGKILL): never linger
        sched.heartbeat(me);
        continue;
      }
      sched.complete(me, task.id, task.args[0] ?? RESULT);
      if (task.fn === STOP) return;
    }
  } finally {
    sched.close();
  }
}

export const phase3Bench: PhaseBench = { phase: 'phase3', prepare, serve };
