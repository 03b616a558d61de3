// A mini-Ray worker process: registers in the scheduler's worker table, then fetches tasks, runs
// them and writes their results into the object store until the driver says stop (or goes away).
//
// Started by the driver (runtime/index.ts) with the two segments' names in its environment.
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { deserialize } from 'node:v8';

import { MiniRayError } from '../lib/errors.js';
import { REPO_ROOT } from '../lib/phases.js';
import { ObjectStore, type ObjectId } from '../phase2-objects/index.js';
import { Scheduler, type Task, type WorkerId } from '../phase3-scheduler/index.js';
import { HEADER_BYTES, createInPlace, decode, errorRecord, sealInPlace, writeError, writeValue } from './codec.js';
import { setCurrentTask } from './context.js';
import { inPhase, inPhaseAsync, isFatal } from './phase-errors.js';
import { ENV_SCHEDULER, ENV_STORE, type CallRecord, type DriverMessage, type WorkerMessage } from './protocol.js';

const now = (): number => performance.timeOrigin + performance.now();

function send(msg: WorkerMessage): void {
  if (process.connected) process.send?.(msg);
}

type TaskFn = (...args: unknown[]) => unknown;
const modules = new Map<string, Record<string, unknown>>();

// 'runtime/demo/tasks.ts#renderTile' -> the function, imported once per worker.
async function resolveFn(name: string): Promise<TaskFn> {
  const hash = name.lastIndexOf('#');
  const path = name.slice(0, hash);
  const exportName = name.slice(hash + 1);
  let mod = modules.get(path);
  if (mod === undefined) {
    mod = (await import(pathToFileURL(isAbsolute(path) ? path : join(REPO_ROOT, path)).href)) as Record<string, unknown>;
    modules.set(path, mod);
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new TypeError(`${path} has no exported function '${exportName}'`);
  return fn as TaskFn;
}

class Worker {
  private stopping = false;
  private busy = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly sched: Scheduler,
    private readonly me: WorkerId,
  ) {}

  stop(): void {
    this.stopping = true;
    this.sched.close(); // a pending fetchAsync rejects with ERR_CLOSED
    if (this.busy) {
      // The driver is shutting down and will not read this task's result: do not make it wait.
      this.store.close();
      process.exit(0);
    }
  }

  async loop(): Promise<void> {
    while (!this.stopping) {
      // A task already in the queue is leased at once, on this thread (fetch without a timeout
      // only tries); only an empty queue is waited on, from a libuv thread (fetchAsync), so that
      // the event loop stays free. Waking a thread and then the event loop costs little on an idle
      // machine and a scheduler's time slice or two per task on a busy one.
      let task: Task | null = inPhase('phase 3', () => this.sched.fetch(this.me));
      try {
        task ??= await inPhaseAsync('phase 3', () => this.sched.fetchAsync(this.me, { timeoutMs: 1000 }));
      } catch (e) {
        if (this.stopping && e instanceof MiniRayError && e.code === 'ERR_CLOSED') return;
        throw e;
      }
      if (task === null) continue;
      this.busy = true;
      try {
        await this.run(task);
      } finally {
        this.busy = false;
      }
      // The driver's notes (stop) are read between two tasks even while the queue stays full.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async run(task: Task): Promise<void> {
    send({ type: 'start', task: task.id, fn: task.fn, attempt: task.attempt, at: now() });
    const callId = task.args[0];
    if (callId === undefined) throw new Error(`task ${task.id} has no call object`);
    const callView = inPhase('phase 2', () => this.store.get(callId));
    const call = deserialize(callView.subarray(HEADER_BYTES)) as CallRecord;
    inPhase('phase 2', () => this.store.release(callId));

    const pinned: ObjectId[] = [];
    let ok = true;
    try {
      const args = call.args.map((a) => {
        if (!('ref' in a)) return a.value;
        const view = inPhase('phase 2', () => this.store.get(a.ref));
        pinned.push(a.ref);
        const d = decode(view);
        if (d.kind === 'error') throw new Error(`argument ${a.ref} holds an error`); // the driver never sends one
        return d.value;
      });
      const fn = await resolveFn(task.fn);
      // A result the task writes in place (resultBuffer): created in the store, unsealed, until
      // the task returns it.
      let inPlace: Buffer | null = null;
      let allocated = false;
      const allocate = (bytes: number): Buffer => {
        if (allocated) throw new Error('resultBuffer() may be called once a task');
        allocated = true;
        inPlace = inPhase('phase 2', () => this.createResult(call.resultId, bytes));
        return inPlace === null ? Buffer.allocUnsafe(bytes) : inPlace.subarray(HEADER_BYTES);
      };
      setCurrentTask({ taskId: task.id, attempt: task.attempt, workerId: this.me, fn: task.fn }, allocate);
      let result: unknown;
      try {
        result = await fn(...args);
      } catch (e) {
        ok = false;
        result = e;
      } finally {
        setCurrentTask(null);
      }
      const made = inPlace as Buffer | null;
      let sealed = false;
      if (made !== null) {
        // Sealed as the result if the task returned it; otherwise given back before anything else
        // is written under the result's id.
        try {
          sealed = ok && inPhase('phase 2', () => sealInPlace(this.store, call.resultId, made, result));
        } finally {
          if (!sealed) inPhase('phase 2', () => this.store.abort(call.resultId));
        }
      }
      if (sealed) {
        // the result was written in place
      } else if (ok) {
        this.store_(() => writeValue(this.store, call.resultId, result), call.resultId);
      } else {
        this.store_(() => writeError(this.store, call.resultId, errorRecord(result)), call.resultId);
      }
    } catch (e) {
      // The arguments could not be read or the function not found: the task's error, not ours.
      if (isFatal(e)) throw e;
      ok = false;
      this.store_(() => writeError(this.store, call.resultId, errorRecord(e)), call.resultId);
    } finally {
      for (const id of pinned) inPhase('phase 2', () => this.store.release(id));
    }
    inPhase('phase 3', () => {
      if (ok) this.sched.complete(this.me, task.id, call.resultId);
      else this.sched.fail(this.me, task.id, 'the task threw (its error object is in the store)');
    });
    send({ type: 'end', task: task.id, ok, at: now() });
  }

  // Creates the result object for a task to write in place. Null if an earlier attempt, by a worker
  // that died after sealing, has written it already (the task writes into a Buffer of its own
  // then, and nothing is stored). A dead worker's unsealed remains are given back first.
  private createResult(id: ObjectId, bytes: number): Buffer | null {
    if (this.store.contains(id)) return null;
    try {
      return createInPlace(this.store, id, bytes);
    } catch (e) {
      if (!(e instanceof MiniRayError && e.code === 'ERR_OBJECT_EXISTS')) throw e;
      this.store.reclaim();
      return this.store.contains(id) ? null : createInPlace(this.store, id, bytes);
    }
  }

  // Writes a result. A worker that ran this task before may have died after sealing (then the
  // result is there, and the same, since tasks are deterministic) or before (then its unsealed
  // object is given back by reclaim(), and the write is retried once).
  private store_(write: () => void, id: ObjectId): void {
    inPhase('phase 2', () => {
      if (this.store.contains(id)) return;
      try {
        write();
      } catch (e) {
        if (!(e instanceof MiniRayError && e.code === 'ERR_OBJECT_EXISTS')) throw e;
        this.store.reclaim();
        if (!this.store.contains(id)) write();
      }
    });
  }
}

async function main(): Promise<void> {
  const storeName = process.env[ENV_STORE];
  const schedName = process.env[ENV_SCHEDULER];
  if (storeName === undefined || schedName === undefined) {
    throw new Error(`a mini-Ray worker is started by the runtime (${ENV_STORE} and ${ENV_SCHEDULER} unset)`);
  }
  const store = inPhase('phase 2', () => ObjectStore.open(storeName));
  const sched = inPhase('phase 3', () => Scheduler.open(schedName));
  const me = inPhase('phase 3', () => sched.registerWorker());
  const worker = new Worker(store, sched, me);
  process.on('message', (m: DriverMessage) => {
    if (m.type === 'stop') worker.stop();
  });
  process.on('disconnect', () => worker.stop()); // the driver is gone
  send({ type: 'ready', worker: me });
  await worker.loop();
  store.close();
  process.disconnect?.();
}

main().catch((e: unknown) => {
  const err = e instanceof Error ? e : new Error(String(e)); // phase errors are named already
  const told = process.connected;
  send({ type: 'fatal', message: err.message, ...(err instanceof MiniRayError ? { code: err.code } : {}) });
  // An unfinished phase is the driver's to report (once, not once per worker); anything else is a
  // bug worth its stack.
  if (!(told && isFatal(err))) process.stderr.write(`mini-Ray worker ${process.pid}: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
  if (process.connected) process.disconnect();
});
