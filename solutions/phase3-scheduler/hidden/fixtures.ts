// Code that runs inside child processes during the hidden phase-3 suites.
import { appendFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';

import type { ErrorCode } from '../../../lib/errors.js';
import { addonFile } from '../../../lib/native.js';
import type { Fixture } from '../../../testkit/protocol.js';
import { MiniRayError, Scheduler, type TaskId } from '../../../phase3-scheduler/index.js';
import { arg, outcome, resultOf } from '../../../phase3-scheduler/test/fixtures.js';

const codeOf = (e: unknown): string => (e instanceof MiniRayError ? e.code : `non-MiniRay: ${(e as Error).message}`);

// Says 'opening', opens (waiting up to lockTimeoutMs for the creator to finish), then asks for
// stats(); returns how long that took and how it ended.
export const openWhenReady: Fixture<{ name: string; lockTimeoutMs: number }, { outcome: string; elapsedMs: number }> = async (
  { name, lockTimeoutMs },
  ctx,
) => {
  await ctx.emit('opening');
  const t0 = Date.now();
  try {
    const sched = Scheduler.open(name, { lockTimeoutMs });
    try {
      sched.stats();
    } finally {
      sched.close();
    }
    return { outcome: 'ok', elapsedMs: Date.now() - t0 };
  } catch (e) {
    return { outcome: codeOf(e), elapsedMs: Date.now() - t0 };
  }
};

// A busy client, killed by the parent at some moment: in a loop it submits a task, fetches one,
// completes or fails it, and collects an outcome. Before each call it writes what it is about to
// do to `journal`, and after each call what came of it, so that the parent knows exactly which
// calls returned and which one (at most) was in flight when the kill came.
//   S <id>   a submit returned this task id          C <id>  a wait collected this task
//   L <id>   a fetch leased this task                F <id>  complete/fail of this task returned
export const journaled: Fixture<{ name: string; journal: string; seed: number }, void> = async ({ name, journal, seed }, ctx) => {
  const sched = Scheduler.open(name, { lockTimeoutMs: 10_000 });
  const worker = sched.registerWorker();
  const log = (line: string): void => appendFileSync(journal, `${line}\n`);
  let r = seed >>> 0 || 1;
  const rand = (n: number): number => {
    r ^= r << 13;
    r >>>= 0;
    r ^= r >>> 17;
    r ^= r << 5;
    r >>>= 0;
    return r % n;
  };
  const finished: TaskId[] = [];
  let n = 0;
  await ctx.emit('ready');
  await ctx.waitFor('go', 30_000);
  for (;;) {
    const dice = rand(3);
    if (dice === 0 && sched.stats().queued < 6) {
      log('s');
      log(`S ${sched.submit({ fn: 'journaled', args: [arg(seed, n)] })}`);
      n += 1;
    } else if (dice === 1) {
      log('l');
      const task = sched.fetch(worker);
      log(`L ${task?.id ?? 0}`);
      if (task !== null) {
        log('f');
        if (rand(5) === 0) sched.fail(worker, task.id, 'journaled failure');
        else sched.complete(worker, task.id, resultOf(task.args[0]));
        log(`F ${task.id}`);
        finished.push(task.id);
      }
    } else if (finished.length > 0) {
      const task = finished.shift()!;
      log('c');
      sched.wait(task);
      log(`C ${task}`);
    }
    // Let the parent's kill arrive between calls as well as inside them.
    if (rand(50) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
};

export interface ProbeReport {
  readonly opened: Record<string, string>;
  readonly results: Record<string, Record<string, string>>;
}

// Opens every segment in `names`, says 'opened', waits for 'probe' (the parent scribbles on the
// segments meanwhile), then runs every operation on each and returns how each ended. The point:
// this process is still alive to return it.
export const probe: Fixture<{ names: Record<string, string> }, ProbeReport> = async ({ names }, ctx) => {
  const handles = new Map<string, Scheduler>();
  const opened: Record<string, string> = {};
  for (const [label, name] of Object.entries(names)) {
    try {
      handles.set(label, Scheduler.open(name, { lockTimeoutMs: 2000 }));
      opened[label] = 'ok';
    } catch (e) {
      opened[label] = codeOf(e);
    }
  }
  await ctx.emit('opened');
  await ctx.waitFor('probe', 30_000);
  const results: Record<string, Record<string, string>> = {};
  for (const [label, sched] of handles) {
    const out: Record<string, string> = {};
    let worker = 0;
    out.register = outcome(() => (worker = sched.registerWorker()));
    out.fetch = outcome(() => sched.fetch(worker as never));
    out.submit = outcome(() => sched.submit({ fn: 'probe' }));
    out.stats = outcome(() => sched.stats());
    out.workers = outcome(() => sched.workers());
    out.reap = outcome(() => sched.reap());
    for (const id of [2 ** 20, 2 ** 20 + 1, 2 ** 21]) {
      out[`inspect ${id}`] = outcome(() => sched.inspect(id as TaskId));
      out[`wait ${id}`] = outcome(() => sched.wait(id as TaskId));
    }
    out.reopen = outcome(() => Scheduler.open(names[label]!, { lockTimeoutMs: 2000 }).close());
    out.close = outcome(() => sched.close());
    results[label] = out;
  }
  return { opened, results };
};

const gc = (): void => {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
};

// The ways a careless caller could reach a signal through the API, tried in this process:
// the addon loaded in a worker thread that exits, absurd sizes, and a handle closed (then
// collected) while it holds the lock. Returns each outcome; a crash would end this process.
export const abuse: Fixture<{ names: readonly string[] }, Record<string, string>> = async ({ names }) => {
  const out: Record<string, string> = {};
  const [a, b, c, d] = names as [string, string, string, string];
  // A worker thread loads the addon (its own environment), uses it, and exits.
  const script = `
    const { workerData, parentPort } = require('node:worker_threads');
    try {
      const addon = require(workerData.file);
      addon.setErrorClass(class ThreadError extends Error {});
      const s = addon.NativeScheduler.create(workerData.name, 2, 8, 4, 1000, 0, 3);
      const id = s.submit('from a thread', [], 0, 0);
      s.close();
      parentPort.postMessage(id);
    } catch (e) {
      parentPort.postMessage('error: ' + e.message);
    }
  `;
  const file = addonFile('phase3'); // the sanitizer run's build too
  const fromThread = await new Promise<unknown>((resolve, reject) => {
    const w = new Worker(script, { eval: true, workerData: { file, name: a } });
    w.once('message', resolve);
    w.once('error', reject);
  });
  out.thread = typeof fromThread === 'number' ? 'ok' : String(fromThread);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the thread's environment is torn down
  gc();
  out.afterThread = outcome(() => {
    const s = Scheduler.open(a);
    s.submit({ fn: 'from the main thread' });
    s.close();
    Scheduler.create(d, { queueCapacity: 2 }).close(); // the class of this environment still works
    Scheduler.unlink(d);
  });
  // Sizes no segment can have.
  for (const [label, options] of [
    ['capacity 2^32', { queueCapacity: 2 ** 32 }],
    ['capacity 1e300', { queueCapacity: 1e300 }],
    ['capacity NaN', { queueCapacity: Number.NaN }],
    ['maxTasks 2^31', { queueCapacity: 4, maxTasks: 2 ** 31 }],
    ['maxWorkers -1', { queueCapacity: 4, maxWorkers: -1 }],
    ['leaseMs 2^53', { queueCapacity: 4, leaseMs: 2 ** 53 }],
  ] as const) {
    out[label] = outcome(() => Scheduler.create(b, options).close());
  }
  // Closed while holding the lock, then collected: the lock must not stay on this thread's robust
  // list pointing into unmapped memory.
  out.lockThenClose = outcome(() => {
    const s = Scheduler.create(c, { queueCapacity: 2 });
    s.debug.lock();
    s.close();
  });
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  out.afterLockedClose = outcome(() => {
    const s = Scheduler.create(d, { queueCapacity: 2 });
    s.debug.lock();
    s.debug.unlock();
    s.submit({ fn: 'still fine' });
    s.close();
    Scheduler.open(c).close(); // and the closed one's lock is free
  });
  return out;
};

// The error codes a list of calls ends with, for expectations like `toEqual(['ERR_X', ...])`.
export type Outcome = ErrorCode | 'ok' | `non-MiniRay: ${string}`;
