// Code that runs inside child processes during phase-3 tests (see testkit/children.ts), and the
// helpers the suites share.
import { readFileSync } from 'node:fs';

import type { ErrorCode } from '../../lib/errors.js';
import { barrier, type Child } from '../../testkit/children.js';
import type { Fixture, FixtureContext } from '../../testkit/protocol.js';
import { MiniRayError, Scheduler, type ObjectId, type Task, type TaskId, type TaskOutcome, type WorkerId } from '../index.js';

// An argument that says who submitted a task and its number: producer p's n-th task carries
// arg(p, n). Any process can decode it, so consumers can check order and drivers can check results.
export function arg(producer: number, seq: number): ObjectId {
  return `${producer.toString(16).padStart(8, '0')}${seq.toString(16).padStart(8, '0')}${'a'.repeat(24)}` as ObjectId;
}
export function decodeArg(id: string): { producer: number; seq: number } {
  return { producer: Number.parseInt(id.slice(0, 8), 16), seq: Number.parseInt(id.slice(8, 16), 16) };
}
// The result a worker completes a task with: derived from its first argument, so a driver can tell
// whose result it got.
export function resultOf(argument: string | undefined): ObjectId {
  return `${(argument ?? '0'.repeat(40)).slice(0, 16)}${'b'.repeat(24)}` as ObjectId;
}

// Waits for `event` from `child`, unless the fixture `run` ends first (say with "not implemented"):
// then fails at once with what it returned or threw, instead of waiting for an event that never comes.
export function eventOf(child: Child, event: string, run: Promise<unknown>): Promise<unknown> {
  return Promise.race([
    child.waitEvent(event),
    run.then((value) => {
      throw new Error(`child ${child.label} finished before it said '${event}': ${JSON.stringify(value)}`);
    }),
  ]);
}

// A barrier (testkit/children.ts) that fails at once when one of the fixtures ends before it.
export async function barrierOf(children: readonly Child[], runs: ReadonlyArray<Promise<unknown>>): Promise<void> {
  await Promise.race([
    barrier(children),
    ...runs.map((run, i) =>
      run.then((value) => {
        throw new Error(`child ${children[i]?.label ?? i} finished before the barrier: ${JSON.stringify(value)}`);
      }),
    ),
  ]);
}

// The error code of whatever `fn` throws ('ok' when it does not throw).
export function outcome(fn: () => unknown): ErrorCode | 'ok' | `non-MiniRay: ${string}` {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof MiniRayError) return e.code;
    return `non-MiniRay: ${(e as Error).message}`;
  }
}

const codeOf = (e: unknown): ErrorCode => {
  if (e instanceof MiniRayError) return e.code;
  throw e;
};

// Lets the event loop turn `n` times (1 ms timers) unless `settled()` becomes true first; returns
// the turns taken: the proof that an async call does not block the loop.
async function ticksWhile(settled: () => boolean, n = 3): Promise<number> {
  let ticks = 0;
  while (ticks < n && !settled()) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    ticks += 1;
  }
  return ticks;
}

// One blocking call, made synchronously or as a Promise, telling the parent 'waiting' (with
// `data`) once it is under way: before a synchronous call blocks the event loop, and for a Promise
// once the loop has turned a few times while it was pending. `ticks` counts those turns.
async function blockingCall<T>(
  ctx: FixtureContext,
  mode: 'sync' | 'async',
  sync: () => T,
  start: () => Promise<T>,
  data?: unknown,
): Promise<{ value: T; ticks: number }> {
  if (mode === 'sync') {
    await ctx.emit('waiting', data); // the message must leave before the call blocks this thread
    return { value: sync(), ticks: 0 };
  }
  const pending = start();
  let settled = false;
  pending.then(
    () => (settled = true),
    () => (settled = true),
  );
  const ticks = await ticksWhile(() => settled);
  await ctx.emit('waiting', data);
  return { value: await pending, ticks };
}

export interface FetchResult {
  readonly outcome: ErrorCode | 'ok';
  readonly task: Task | null;
  readonly worker: WorkerId;
  readonly elapsedMs: number;
  readonly ticks: number;
}

// Registers a worker and fetches one task (sync or Promise), telling the parent 'waiting' with the
// worker id once the fetch is under way. With `complete`, completes the task with resultOf(its
// first argument). With `hold`, says 'leased' and keeps the task (and the store) until told
// 'finish', then completes it; the parent may kill it meanwhile.
export const fetchOne: Fixture<
  { name: string; timeoutMs: number; mode: 'sync' | 'async'; complete?: boolean; hold?: boolean },
  FetchResult
> = async ({ name, timeoutMs, mode, complete, hold }, ctx) => {
  const sched = Scheduler.open(name, { lockTimeoutMs: 10_000 });
  let worker: WorkerId;
  try {
    worker = sched.registerWorker();
  } catch (e) {
    try {
      sched.close();
    } catch {
      // the registration's error is the one to report
    }
    throw e;
  }
  let ticks = 0;
  const t0 = Date.now();
  try {
    const call = await blockingCall(
      ctx,
      mode,
      () => sched.fetch(worker, { timeoutMs }),
      () => sched.fetchAsync(worker, { timeoutMs }),
      worker,
    );
    const task = call.value;
    ticks = call.ticks;
    const elapsedMs = Date.now() - t0;
    if (task !== null && hold === true) {
      await ctx.emit('leased', { worker, task: task.id });
      await ctx.waitFor('finish', 60_000);
    }
    if (task !== null && (complete === true || hold === true)) sched.complete(worker, task.id, resultOf(task.args[0]));
    return { outcome: 'ok', task, worker, elapsedMs, ticks };
  } catch (e) {
    return { outcome: codeOf(e), task: null, worker, elapsedMs: Date.now() - t0, ticks };
  } finally {
    if (hold !== true) sched.close();
  }
};

export interface SubmitResult {
  readonly outcome: ErrorCode | 'ok';
  readonly task: TaskId | null;
  readonly elapsedMs: number;
  readonly ticks: number;
}

// Submits one task (sync or Promise), saying 'waiting' once the submit is under way.
export const submitOne: Fixture<
  { name: string; fn: string; args: readonly ObjectId[]; timeoutMs: number; mode: 'sync' | 'async'; holdOpen?: boolean },
  SubmitResult
> = async ({ name, fn, args, timeoutMs, mode, holdOpen }, ctx) => {
  const sched = Scheduler.open(name, { lockTimeoutMs: 10_000 });
  let ticks = 0;
  const t0 = Date.now();
  try {
    const call = await blockingCall(
      ctx,
      mode,
      () => sched.submit({ fn, args }, { timeoutMs }),
      () => sched.submitAsync({ fn, args }, { timeoutMs }),
    );
    const task = call.value;
    ticks = call.ticks;
    const elapsedMs = Date.now() - t0;
    // close() wakes every waiter too: a test of submit's own wake-up keeps this process open.
    if (holdOpen === true) {
      await ctx.emit('submitted', task);
      await ctx.waitFor('close', 60_000);
    }
    return { outcome: 'ok', task, elapsedMs, ticks };
  } catch (e) {
    return { outcome: codeOf(e), task: null, elapsedMs: Date.now() - t0, ticks };
  } finally {
    sched.close();
  }
};

export interface WaitResult {
  readonly outcome: ErrorCode | 'ok';
  readonly result: TaskOutcome | null;
  readonly elapsedMs: number;
  readonly ticks: number;
}

// Waits for a task (sync or Promise), saying 'waiting' once the wait is under way.
export const waitOne: Fixture<{ name: string; task: TaskId; timeoutMs: number; mode: 'sync' | 'async' }, WaitResult> = async (
  { name, task, timeoutMs, mode },
  ctx,
) => {
  const sched = Scheduler.open(name, { lockTimeoutMs: 10_000 });
  let ticks = 0;
  const t0 = Date.now();
  try {
    const call = await blockingCall(
      ctx,
      mode,
      () => sched.wait(task, { timeoutMs }),
      () => sched.waitAsync(task, { timeoutMs }),
    );
    ticks = call.ticks;
    return { outcome: 'ok', result: call.value, elapsedMs: Date.now() - t0, ticks };
  } catch (e) {
    return { outcome: codeOf(e), result: null, elapsedMs: Date.now() - t0, ticks };
  } finally {
    sched.close();
  }
};

// Submits `count` tasks fn `p<producer>` with args [arg(producer, i)], waiting (up to timeoutMs
// each) while the queue is full. Starts on the parent's 'go' (a barrier). Returns the task ids.
export const produce: Fixture<{ name: string; producer: number; count: number; timeoutMs: number }, TaskId[]> = async (
  { name, producer, count, timeoutMs },
  ctx,
) => {
  const sched = Scheduler.open(name, { lockTimeoutMs: 20_000 });
  try {
    await ctx.emit('ready');
    await ctx.waitFor('go', 30_000);
    const ids: TaskId[] = [];
    for (let i = 0; i < count; i += 1) ids.push(sched.submit({ fn: `p${producer}`, args: [arg(producer, i)] }, { timeoutMs }));
    return ids;
  } finally {
    sched.close();
  }
};

export interface Consumed {
  readonly worker: WorkerId;
  // The argument of every task this consumer completed, in the order it fetched them.
  readonly args: string[];
  readonly attempts: number[];
}

// A worker: fetches and completes tasks (result: resultOf(first arg)) until it fetches one whose fn
// is 'stop' (which it completes too), or until a fetch waits `idleMs` in vain.
export const consume: Fixture<{ name: string; idleMs: number }, Consumed> = async ({ name, idleMs }, ctx) => {
  const sched = Scheduler.open(name, { lockTimeoutMs: 20_000 });
  try {
    const worker = sched.registerWorker();
    await ctx.emit('ready', worker);
    await ctx.waitFor('go', 30_000);
    const args: string[] = [];
    const attempts: number[] = [];
    for (;;) {
      const task = sched.fetch(worker, { timeoutMs: idleMs });
      if (task === null) break;
      sched.complete(worker, task.id, resultOf(task.args[0]));
      if (task.fn === 'stop') break;
      args.push(task.args[0] ?? '');
      attempts.push(task.attempt);
    }
    return { worker, args, attempts };
  } finally {
    sched.close();
  }
};

// Takes the scheduler's lock and holds it until told 'release' (or until killed).
export const holdLock: Fixture<{ name: string }, void> = async ({ name }, ctx) => {
  const sched = Scheduler.open(name);
  sched.debug.lock();
  await ctx.emit('locked', process.pid);
  await ctx.waitFor('release', 60_000);
  sched.debug.unlock();
  sched.close();
};

// Registers a worker, says 'registered' with its id, and stays until told 'exit' (or killed).
export const registerAndStay: Fixture<{ name: string }, void> = async ({ name }, ctx) => {
  const sched = Scheduler.open(name);
  const worker = sched.registerWorker();
  await ctx.emit('registered', { worker, pid: process.pid });
  await ctx.waitFor('exit', 60_000);
  sched.close();
};

// Submits one task from this process and stays until told 'exit' (or killed): the task's owner.
export const submitAndStay: Fixture<{ name: string; fn: string }, void> = async ({ name, fn }, ctx) => {
  const sched = Scheduler.open(name);
  const task = sched.submit({ fn });
  await ctx.emit('submitted', task);
  await ctx.waitFor('exit', 60_000);
  sched.close();
};

// Runs one call with a worker id or task id made in another process; returns its outcome.
export const tryWorkerOp: Fixture<
  { name: string; op: 'fetch' | 'complete' | 'fail' | 'heartbeat'; worker: WorkerId; task: TaskId },
  string
> = ({ name, op, worker, task }) => {
  const sched = Scheduler.open(name);
  try {
    return outcome(() => {
      if (op === 'fetch') sched.fetch(worker);
      else if (op === 'complete') sched.complete(worker, task, resultOf(undefined));
      else if (op === 'fail') sched.fail(worker, task, 'not mine');
      else sched.heartbeat(worker);
    });
  } finally {
    sched.close();
  }
};

// The start time of `pid` as /proc/<pid>/stat gives it (field 22, clock ticks after boot).
export function startTimeOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[22 - 3]);
}
