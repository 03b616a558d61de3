// Mini-Ray: a Ray-style runtime on the phase-2 object store and the phase-3 scheduler.
//
//   const rt = await init({ workers: 2, memory: 64 << 20 });
//   const square = rt.remote<typeof import('./demo/tasks.js').square>(new URL('./demo/tasks.ts', import.meta.url), 'square');
//   const refs = [1, 2, 3].map((x) => square.remote(x));   // three tasks in the shared queue
//   await rt.get(refs, { timeoutMs: 10_000 });              // [1, 4, 9], read from the store
//   await rt.shutdown();                                    // workers stopped, segments unlinked
//
// How it works (runtime/README.md draws it):
// - The driver (this process) creates one object store and one scheduler segment, and starts
//   `workers` processes (runtime/worker.ts) that open both and register in the worker table.
// - f.remote(...args) picks the result's object id at once (the ObjectRef), writes a call object
//   (the arguments, and the result's id) into the store, and submits a task whose one argument is
//   the call object's id. A task whose arguments are refs of unfinished tasks is submitted when
//   they finish; if one of them failed, the task fails with that error without running.
// - A worker fetches the task, reads its arguments (refs as zero-copy views of the store), runs the
//   function named by module and export, writes the result under the chosen id, and completes the
//   task. A thrown error is written there instead (with its stack), and the task fails.
// - The driver collects finished tasks from the scheduler, and get() reads results from the store.
// - A worker that dies is replaced; the scheduler re-queues the task it held (reap), and the store
//   gives back what it pinned or left unsealed (reclaim). A task is retried up to maxAttempts.
// - Objects are deleted when their ObjectRef is freed: free(ref), or when the ref is garbage
//   collected (a FinalizationRegistry), and not before no task that takes it is pending and no
//   zero-copy view that get() returned is still reachable.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

import { MiniRayError } from '../lib/errors.js';
import { REPO_ROOT } from '../lib/phases.js';
import { ObjectStore, type ObjectId } from '../phase2-objects/index.js';
import { MAX_FN_BYTES, Scheduler, type TaskId, type TaskOutcome } from '../phase3-scheduler/index.js';
import { decode, writeValue, type ErrorRecord } from './codec.js';
import { inPhase, namePhase } from './phase-errors.js';
import {
  ENV_SCHEDULER,
  ENV_STORE,
  type CallRecord,
  type DriverMessage,
  type EncodedArg,
  type WorkerMessage,
} from './protocol.js';

export { currentTask, resultBuffer, type TaskContext } from './context.js';
export { MiniRayError } from '../lib/errors.js';

const WORKER_MAIN = fileURLToPath(new URL('./worker.ts', import.meta.url));
const POLL_MS = 20; // the longest the driver sleeps before it looks at the scheduler again
const REAP_EVERY_MS = 1000;
// The longest a finished task whose note never came waits to be collected. A worker that dies
// right after complete() sends no note: its death makes the driver look at every task in flight
// at once, and this is only the last resort.
const SWEEP_EVERY_MS = 1000;
const MAX_FAILED_STARTS = 5;

export interface InitOptions {
  readonly workers?: number; // worker processes (default: one per core)
  readonly memory?: number; // bytes of the object store's data region (default 256 MiB)
  readonly maxObjects?: number; // objects in the store at once (default 4096)
  readonly queueCapacity?: number; // tasks in the shared queue at once (default 256)
  readonly maxAttempts?: number; // leases a task gets when workers die running it (default 3)
  // Segment names (default: fresh '/miniray-rt-<pid>-<random>-...' names).
  readonly segments?: { readonly store: string; readonly scheduler: string };
  readonly startTimeoutMs?: number; // how long workers may take to start (default 60 s)
  // Write every page of the store's memory once before init() returns, so that no object's first
  // write takes a page fault (Ray's preallocate_plasma_memory does the same with MAP_POPULATE).
  // It costs startup time, about half a millisecond a MiB, and the memory is resident from the
  // start. Default false.
  readonly preallocate?: boolean;
}

// What preallocation did: the bytes written, and how long it took.
export interface Preallocation {
  readonly bytes: number;
  readonly ms: number;
}

export interface GetOptions {
  readonly timeoutMs?: number; // default: no limit
}

export interface WaitOptions {
  readonly numReturns?: number; // default 1
  readonly timeoutMs?: number; // default: no limit
}

// A task's error, thrown by get(): the remote name, message and stack, and how many leases it had.
// ERR_TASK_FAILED: the function threw. ERR_WORKER_DIED: workers died running it maxAttempts times.
export type RemoteErrorCode = 'ERR_TASK_FAILED' | 'ERR_WORKER_DIED';

export class RemoteTaskError extends Error {
  constructor(
    readonly code: RemoteErrorCode,
    readonly fn: string,
    message: string,
    readonly remote: ErrorRecord | null,
  ) {
    super(message);
    this.name = 'RemoteTaskError';
    if (remote !== null) this.stack = `${this.name}: ${message}\n    --- in the worker, running ${fn} ---\n${remote.stack}`;
  }
}

export interface TimelineEntry {
  readonly lane: number; // the worker slot, kept by a replacement
  readonly pid: number;
  readonly task: number;
  readonly fn: string;
  readonly attempt: number;
  readonly start: number; // ms, performance.timeOrigin-based wall clock
  end: number | null;
  outcome: 'running' | 'ok' | 'error' | 'killed';
}

declare const refType: unique symbol;

// A result that may not exist yet: pass it to get(), wait(), or to another remote function.
export class ObjectRef<T = unknown> {
  declare readonly [refType]: T;
  /** @internal */
  constructor(
    readonly id: ObjectId,
    /** @internal */ readonly state: RefState,
  ) {}
  toString(): string {
    return `ObjectRef(${this.id})`;
  }
}

export type RemoteArgs<A extends readonly unknown[]> = { [K in keyof A]: A[K] | ObjectRef<A[K]> };
type AnyFn = (...args: never[]) => unknown;

export interface RemoteFunction<F extends AnyFn> {
  readonly name: string; // 'path/from/repo.ts#export', the name workers import
  remote(...args: RemoteArgs<Parameters<F>>): ObjectRef<Awaited<ReturnType<F>>>;
}

interface RefState {
  readonly id: ObjectId;
  readonly fn: string | null; // null for put()
  status: 'pending' | 'ok' | 'error';
  error: Error | null;
  // Made when someone first waits for it (most refs are never awaited one by one).
  settled: Promise<void> | null;
  markSettled: (() => void) | null;
  uses: number; // pending tasks that take it as an argument
  pins: number; // zero-copy views get() handed out that are still reachable
  freed: boolean;
  stored: boolean; // an object exists in the store under id
}

interface PendingTask {
  readonly fn: string;
  readonly args: readonly EncodedArg[];
  readonly deps: readonly RefState[];
  readonly result: RefState;
  callId: ObjectId | null;
}

interface WorkerProc {
  readonly proc: ChildProcess;
  readonly lane: number;
  ready: boolean;
}

function newState(id: ObjectId, fn: string | null, status: RefState['status']): RefState {
  return { id, fn, status, error: null, settled: null, markSettled: null, uses: 0, pins: 0, freed: false, stored: status === 'ok' };
}

const SETTLED = Promise.resolve();

// Resolves when the ref has finished or failed.
function settledOf(s: RefState): Promise<void> {
  if (s.status !== 'pending') return SETTLED;
  s.settled ??= new Promise<void>((resolve) => (s.markSettled = resolve));
  return s.settled;
}

// Object ids of one runtime: a random prefix drawn once, then a counter (as Ray derives an
// object's id from its task's). Unique in the store, without a call to the random source per object.
class IdMaker {
  private readonly prefix = randomBytes(12).toString('hex');
  private count = 0;
  next(): ObjectId {
    this.count += 1;
    return `${this.prefix}${this.count.toString(16).padStart(16, '0')}` as ObjectId;
  }
}

function bounded<T>(p: Promise<T>, timeoutMs: number | undefined, what: string): Promise<T> {
  if (timeoutMs === undefined || timeoutMs < 0) return p;
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MiniRayError('ERR_TIMEOUT', `${what} within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Writes every page of the store's free memory once, through the phase-2 contract alone: one
// object as large as the free space allows (a store keeps a little of it for its own bookkeeping,
// hence the slack), zero-filled, then aborted. The store ends as it began, counters and free list
// included; the pages stay in the segment (tmpfs keeps what was written), so the objects that come
// later are written into memory the kernel has already provided. Null when no such object fits.
function preallocate(store: ObjectStore, id: ObjectId): Preallocation | null {
  const t0 = performance.now();
  const free = store.stats().freeBytes;
  for (const slack of [4 << 10, 64 << 10, 1 << 20]) {
    if (free <= slack) break;
    let view: Buffer;
    try {
      view = store.create(id, free - slack);
    } catch (e) {
      if (e instanceof MiniRayError && e.code === 'ERR_SHM_FULL') continue;
      throw e;
    }
    try {
      view.fill(0);
    } finally {
      store.abort(id);
    }
    return { bytes: free - slack, ms: performance.now() - t0 };
  }
  return null;
}

// The name a worker imports: the module's path from the repository root (or absolute), '#', the export.
export function functionName(moduleUrl: string | URL, exportName: string): string {
  const url = typeof moduleUrl === 'string' && !moduleUrl.startsWith('file:') ? null : new URL(moduleUrl);
  const file = url === null ? (moduleUrl as string) : fileURLToPath(url);
  const rel = isAbsolute(file) ? relative(REPO_ROOT, file) : file;
  const path = rel.startsWith('..') ? file : rel;
  const name = `${path}#${exportName}`;
  if (exportName === '' || exportName.includes('#') || Buffer.byteLength(name) > MAX_FN_BYTES) {
    throw new MiniRayError('ERR_INVALID_ARGUMENT', `a remote function is named by module and export in at most ${MAX_FN_BYTES} bytes: '${name}'`);
  }
  return name;
}

export class Runtime {
  // 'task-start' / 'task-end' (TimelineEntry), 'worker-died' ({ pid, lane }), 'worker-started' ({ pid, lane }).
  readonly events = new EventEmitter();
  private readonly states = new Map<ObjectId, RefState>();
  private readonly ids = new IdMaker();
  private readonly ready: PendingTask[] = [];
  private readonly inflight = new Map<TaskId, PendingTask>();
  private readonly procs = new Map<number, WorkerProc>();
  private readonly running = new Map<number, TimelineEntry>(); // by worker pid
  private readonly entries: TimelineEntry[] = [];
  private readonly undeleted = new Set<RefState>();
  private readonly refRegistry = new FinalizationRegistry<RefState>((s) => this.quietly(() => this.release(s)));
  private readonly viewRegistry = new FinalizationRegistry<RefState>((s) => this.quietly(() => this.unpin(s)));
  // (a RefState is also the unregister token of its views)
  private collecting = false;
  // Tasks a worker said it has ended: the collector looks at these alone, and at every task in
  // flight (a sweep) only on its first turn, after a worker died, and every SWEEP_EVERY_MS, so
  // that a run of n tasks costs O(n) looks, not O(n^2).
  private readonly noted = new Set<TaskId>();
  private sweepDue = true;
  private lastSweep = 0;
  // wait() calls in progress: each counts down as the refs it waits for settle.
  private readonly waiters = new Set<{ readonly pending: Map<RefState, number>; left: number; readonly resolve: () => void }>();
  private wake: () => void = () => undefined;
  private closed = false;
  private started = false; // every first worker is up: from now on a dead one is replaced
  private broken: Error | null = null;
  private lastReap = 0;
  private readonly exitHook = (): void => this.onExit();
  readonly workerDeaths = { count: 0 };
  private prealloc: Preallocation | null = null;

  private constructor(
    private readonly store: ObjectStore,
    private readonly sched: Scheduler,
    private readonly options: Required<Omit<InitOptions, 'segments'>> & { segments: { store: string; scheduler: string } },
  ) {
    process.on('exit', this.exitHook);
  }

  /** @internal */
  static async start(options: InitOptions): Promise<Runtime> {
    const tag = `${process.pid}-${randomBytes(3).toString('hex')}`;
    const o = {
      workers: options.workers ?? availableParallelism(),
      memory: options.memory ?? 256 << 20,
      maxObjects: options.maxObjects ?? 4096,
      queueCapacity: options.queueCapacity ?? 256,
      maxAttempts: options.maxAttempts ?? 3,
      startTimeoutMs: options.startTimeoutMs ?? 60_000,
      preallocate: options.preallocate ?? false,
      segments: options.segments ?? { store: `/miniray-rt-${tag}-store`, scheduler: `/miniray-rt-${tag}-sched` },
    };
    if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 64) {
      throw new MiniRayError('ERR_INVALID_ARGUMENT', `workers must be an integer in 1..64, got ${String(o.workers)}`);
    }
    const store = inPhase('phase 2', () => ObjectStore.create(o.segments.store, { capacity: o.memory, tableSize: o.maxObjects }));
    let sched: Scheduler;
    try {
      sched = inPhase('phase 3', () =>
        Scheduler.create(o.segments.scheduler, {
          queueCapacity: o.queueCapacity,
          maxTasks: Math.min(65_536, 4 * o.queueCapacity),
          maxWorkers: Math.max(16, 2 * o.workers),
          leaseMs: 0, // a worker is dead when its process is: tasks may run long
          maxAttempts: o.maxAttempts,
        }),
      );
    } catch (e) {
      store.close();
      unlinkSegment(o.segments.store, (n) => ObjectStore.unlink(n));
      throw e;
    }
    const rt = new Runtime(store, sched, o);
    try {
      const starting = Promise.all(Array.from({ length: o.workers }, (_, lane) => rt.spawn(lane)));
      starting.catch(() => undefined); // awaited below; a failure here must not go unhandled meanwhile
      // While the workers start (their processes boot on their own), the driver writes the pages.
      if (o.preallocate) rt.prealloc = inPhase('phase 2', () => preallocate(store, rt.ids.next()));
      await bounded(starting, o.startTimeoutMs, 'the workers did not start');
      rt.started = true;
    } catch (e) {
      await rt.shutdown();
      throw e;
    }
    return rt;
  }

  // What init({ preallocate: true }) wrote (null: not asked for, or no object that large fitted).
  get preallocation(): Preallocation | null {
    return this.prealloc;
  }

  get workerCount(): number {
    return this.options.workers;
  }

  // Pids of the worker processes that are up and fetching tasks now.
  workerPids(): number[] {
    return [...this.procs].filter(([, w]) => w.ready).map(([pid]) => pid);
  }

  // Names a function every worker can import. `moduleUrl`: the module's file URL (or path).
  remote<F extends AnyFn>(moduleUrl: string | URL, exportName: string): RemoteFunction<F> {
    const name = functionName(moduleUrl, exportName);
    return {
      name,
      remote: (...args: RemoteArgs<Parameters<F>>): ObjectRef<Awaited<ReturnType<F>>> =>
        this.submit(name, args as readonly unknown[]) as ObjectRef<Awaited<ReturnType<F>>>,
    };
  }

  // Stores a value: Buffers and typed arrays as raw bytes, anything else through v8.serialize.
  put<T>(value: T): ObjectRef<T> {
    this.assertOpen();
    const id = this.ids.next();
    inPhase('phase 2', () => writeValue(this.store, id, value));
    return this.track(newState(id, null, 'ok'));
  }

  // The values of finished refs: a Buffer or typed array is a zero-copy view of the store, valid
  // while it is reachable (the object is not deleted before). A failed task throws its error.
  async get<T>(ref: ObjectRef<T>, options?: GetOptions): Promise<T>;
  async get<T>(refs: readonly ObjectRef<T>[], options?: GetOptions): Promise<T[]>;
  async get<T>(refs: ObjectRef<T> | readonly ObjectRef<T>[], options: GetOptions = {}): Promise<T | T[]> {
    this.assertOpen();
    const list = refs instanceof ObjectRef ? [refs] : refs;
    await bounded(
      Promise.all(list.map((r) => settledOf(r.state))),
      options.timeoutMs,
      `get: ${list.filter((r) => r.state.status === 'pending').length} of ${list.length} objects were not ready`,
    );
    const values = list.map((r) => this.read(r.state) as T);
    return refs instanceof ObjectRef ? (values[0] as T) : values;
  }

  // Waits until numReturns of refs have finished (or failed), or the time is up.
  async wait<T>(refs: readonly ObjectRef<T>[], options: WaitOptions = {}): Promise<{ ready: ObjectRef<T>[]; notReady: ObjectRef<T>[] }> {
    this.assertOpen();
    const want = options.numReturns ?? 1;
    if (!Number.isInteger(want) || want < 0 || want > refs.length) {
      throw new MiniRayError('ERR_INVALID_ARGUMENT', `numReturns must be an integer in 0..${refs.length}, got ${String(want)}`);
    }
    const split = (): { ready: ObjectRef<T>[]; notReady: ObjectRef<T>[] } => ({
      ready: refs.filter((r) => r.state.status !== 'pending'),
      notReady: refs.filter((r) => r.state.status === 'pending'),
    });
    // Counted down by settle(): one look per ref, however many times wait() is called.
    const pending = new Map<RefState, number>();
    for (const r of refs) if (r.state.status === 'pending') pending.set(r.state, (pending.get(r.state) ?? 0) + 1);
    const waiter = { pending, left: want - (refs.length - [...pending.values()].reduce((a, n) => a + n, 0)), resolve: (): void => undefined };
    const enough = new Promise<void>((resolve) => {
      waiter.resolve = resolve;
      if (waiter.left <= 0) resolve();
      else this.waiters.add(waiter);
    });
    try {
      await bounded(enough, options.timeoutMs, 'wait');
    } catch (e) {
      if (!(e instanceof MiniRayError && e.code === 'ERR_TIMEOUT')) throw e;
    } finally {
      this.waiters.delete(waiter);
    }
    return split();
  }

  // Deletes the objects now, or as soon as no pending task takes them as an argument. Views of
  // them that get() returned must not be read afterwards (their bytes may be reused). Refs that
  // are simply dropped are deleted too, when they and every view of them have been collected.
  free(refs: ObjectRef | readonly ObjectRef[]): void {
    for (const r of refs instanceof ObjectRef ? [refs] : refs) {
      this.refRegistry.unregister(r);
      const s = r.state;
      if (s.freed || this.closed) continue;
      // Views get() returned of it are given up here, reachable or not: free() is the promise
      // that they are no longer read.
      this.viewRegistry.unregister(s);
      for (; s.pins > 0; s.pins -= 1) inPhase('phase 2', () => this.store.release(s.id));
      this.release(s);
    }
  }

  // Store and scheduler figures, for the demo and the tests.
  stats(): { store: ReturnType<ObjectStore['stats']>; scheduler: ReturnType<Scheduler['stats']>; workerDeaths: number } {
    return { store: this.store.stats(), scheduler: this.sched.stats(), workerDeaths: this.workerDeaths.count };
  }

  timeline(): readonly TimelineEntry[] {
    return this.entries;
  }

  // Stops the workers (SIGKILL after a grace period), rejects what is pending with ERR_CLOSED,
  // and unlinks both segments.
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    const closedError = new MiniRayError('ERR_CLOSED', 'the runtime was shut down');
    for (const s of this.states.values()) this.settle(s, 'error', closedError);
    const exits = [...this.procs.values()].map(
      (w) => new Promise<void>((resolve) => (w.proc.exitCode !== null || w.proc.signalCode !== null ? resolve() : w.proc.once('exit', () => resolve()))),
    );
    for (const w of this.procs.values()) {
      try {
        // A worker that has just gone makes the write fail (EPIPE) later: the callback takes that
        // error, which would otherwise be an 'error' event.
        if (w.proc.connected) w.proc.send({ type: 'stop' } satisfies DriverMessage, () => undefined);
      } catch {
        // it is going anyway
      }
    }
    await Promise.race([Promise.all(exits), delay(3000)]);
    this.killNow();
    await Promise.race([Promise.all(exits), delay(3000)]);
    try {
      this.sched.close();
    } catch {
      // a skeleton's close may be unfinished: the segment is unlinked below in any case
    }
    try {
      this.store.close();
    } catch {
      // as above
    }
    unlinkSegment(this.options.segments.store, (n) => ObjectStore.unlink(n));
    unlinkSegment(this.options.segments.scheduler, (n) => Scheduler.unlink(n));
    process.off('exit', this.exitHook);
  }

  // ---- internals ----

  private killNow(): void {
    for (const w of this.procs.values()) {
      try {
        w.proc.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  }

  // The driver exits without shutdown(): leave no worker and no segment behind.
  private onExit(): void {
    this.killNow();
    rmSync(`/dev/shm${this.options.segments.store}`, { force: true });
    rmSync(`/dev/shm${this.options.segments.scheduler}`, { force: true });
  }

  // A finalizer must not throw (it would end the process): a failure there breaks the runtime.
  private quietly(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new MiniRayError('ERR_CLOSED', 'the runtime was shut down');
    if (this.broken !== null) throw this.broken;
  }

  private track<T>(state: RefState): ObjectRef<T> {
    this.states.set(state.id, state);
    const ref = new ObjectRef<T>(state.id, state);
    this.refRegistry.register(ref, state, ref);
    return ref;
  }

  private submit(fn: string, args: readonly unknown[]): ObjectRef {
    this.assertOpen();
    const deps: RefState[] = [];
    const encoded: EncodedArg[] = args.map((a) => {
      if (!(a instanceof ObjectRef)) return { value: a };
      if (a.state.freed) throw new MiniRayError('ERR_OBJECT_NOT_FOUND', `${a.toString()} was freed`);
      a.state.uses += 1;
      deps.push(a.state);
      return { ref: a.id };
    });
    const result = newState(this.ids.next(), fn, 'pending');
    const task: PendingTask = { fn, args: encoded, deps, result, callId: null };
    const ref = this.track(result);
    void (deps.length === 0 ? SETTLED : Promise.all(deps.map(settledOf))).then(() => {
      const failed = deps.find((d) => d.status === 'error');
      if (failed !== undefined) {
        this.finishTask(task);
        this.settle(result, 'error', failed.error ?? new Error('a dependency failed'));
      } else {
        this.ready.push(task);
        this.collect();
      }
    });
    return ref;
  }

  private read(s: RefState): unknown {
    if (s.status === 'error') throw s.error ?? new Error('failed');
    if (s.freed) throw new MiniRayError('ERR_OBJECT_NOT_FOUND', `ObjectRef(${s.id}) was freed`);
    const view = inPhase('phase 2', () => this.store.get(s.id));
    const d = decode(view);
    if (d.kind === 'value' && d.zeroCopy && d.value !== null && typeof d.value === 'object') {
      s.pins += 1;
      this.viewRegistry.register(d.value, s, s);
      return d.value;
    }
    inPhase('phase 2', () => this.store.release(s.id));
    if (d.kind === 'error') throw new RemoteTaskError('ERR_TASK_FAILED', s.fn ?? 'put', d.error.message, d.error);
    return d.value;
  }

  private unpin(s: RefState): void {
    if (this.closed) return;
    s.pins -= 1;
    try {
      this.store.release(s.id);
    } catch {
      // the store is closing
    }
    if (s.freed) this.tryDelete(s);
  }

  private release(s: RefState): void {
    if (s.freed || this.closed) return;
    s.freed = true;
    this.tryDelete(s);
  }

  private tryDelete(s: RefState): void {
    if (this.closed) return;
    if (s.status === 'pending' || s.uses > 0 || s.pins > 0) {
      this.undeleted.add(s);
      return;
    }
    if (s.stored) {
      try {
        this.store.delete(s.id);
      } catch (e) {
        if (e instanceof MiniRayError && e.code === 'ERR_OBJECT_IN_USE') {
          this.undeleted.add(s); // a dead worker's pin, given back by the next reclaim
          this.collect();
          return;
        }
        if (!(e instanceof MiniRayError && e.code === 'ERR_OBJECT_NOT_FOUND')) throw namePhase('phase 2', e);
      }
      s.stored = false;
    }
    this.undeleted.delete(s);
    this.states.delete(s.id);
  }

  private settle(s: RefState, status: 'ok' | 'error', error: Error | null): void {
    if (s.status !== 'pending') return;
    s.status = status;
    s.error = error;
    s.markSettled?.();
    for (const w of this.waiters) {
      const n = w.pending.get(s);
      if (n === undefined) continue;
      w.pending.delete(s);
      w.left -= n;
      if (w.left <= 0) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  // Deletes a finished task's call object and lets go of its arguments.
  private finishTask(task: PendingTask): void {
    if (task.callId !== null) {
      try {
        this.store.delete(task.callId);
      } catch {
        // pinned by a worker that died: given back by reclaim, and the segment goes at shutdown
      }
      task.callId = null;
    }
    for (const d of task.deps) {
      d.uses -= 1;
      if (d.freed) this.tryDelete(d);
    }
  }

  private onOutcome(task: PendingTask, outcome: TaskOutcome): void {
    this.finishTask(task);
    const s = task.result;
    if (outcome.state === 'done') {
      s.stored = true;
      this.settle(s, 'ok', null);
    } else if (inPhase('phase 2', () => this.store.contains(s.id))) {
      s.stored = true;
      const view = inPhase('phase 2', () => this.store.get(s.id));
      const d = decode(view);
      inPhase('phase 2', () => this.store.release(s.id));
      const remote = d.kind === 'error' ? d.error : null;
      this.settle(s, 'error', new RemoteTaskError('ERR_TASK_FAILED', task.fn, `${task.fn} threw ${remote?.name ?? 'an error'}: ${remote?.message ?? ''}`, remote));
    } else {
      this.settle(s, 'error', new RemoteTaskError('ERR_WORKER_DIED', task.fn, `${task.fn} failed after ${outcome.attempts} attempts: ${outcome.error}`, null));
    }
    if (s.freed) this.tryDelete(s);
  }

  // Starts the collector loop if it is not running: submits ready tasks while the queue has room,
  // collects finished ones, retries deletes, reaps dead workers.
  private collect(): void {
    this.wake();
    if (this.collecting || this.closed) return;
    this.collecting = true;
    void this.collectLoop().catch((e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))));
  }

  private async collectLoop(): Promise<void> {
    this.sweepDue = true;
    try {
      while (!this.closed && (this.ready.length > 0 || this.inflight.size > 0 || this.undeleted.size > 0)) {
        this.pump();
        const now = performance.now();
        const sweep = this.sweepDue || now - this.lastSweep >= SWEEP_EVERY_MS;
        if (sweep) {
          this.sweepDue = false;
          this.lastSweep = now;
        }
        const look = sweep ? [...this.inflight.keys()] : [...this.noted];
        this.noted.clear();
        for (const id of look) {
          const task = this.inflight.get(id);
          if (task === undefined) continue;
          const info = inPhase('phase 3', () => this.sched.inspect(id));
          if (info.state !== 'done' && info.state !== 'failed') continue;
          const outcome = inPhase('phase 3', () => this.sched.wait(id));
          this.inflight.delete(id);
          this.onOutcome(task, outcome);
        }
        const t = performance.now();
        if (t - this.lastReap > REAP_EVERY_MS) this.reap(t);
        if (this.undeleted.size > 0 && this.ready.length === 0 && this.inflight.size === 0) {
          for (const s of [...this.undeleted]) this.tryDelete(s);
          if (this.undeleted.size > 0) await delay(POLL_MS * 5);
          continue;
        }
        if (this.noted.size > 0) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = () => undefined;
      }
    } finally {
      // As soon as the last turn ends (no await in between): a task submitted from now on
      // starts a new loop.
      this.collecting = false;
    }
  }

  private pump(): void {
    while (this.ready.length > 0 && this.inflight.size < this.options.queueCapacity) {
      const task = this.ready[0] as PendingTask;
      if (task.callId === null) {
        const call: CallRecord = { resultId: task.result.id, args: task.args };
        const callId = this.ids.next();
        inPhase('phase 2', () => writeValue(this.store, callId, call));
        task.callId = callId;
      }
      let id: TaskId;
      try {
        id = inPhase('phase 3', () => this.sched.submit({ fn: task.fn, args: [task.callId as ObjectId] }));
      } catch (e) {
        if (e instanceof MiniRayError && e.code === 'ERR_QUEUE_FULL') return; // retried on the next turn
        throw e;
      }
      this.ready.shift();
      this.inflight.set(id, task);
    }
  }

  private reap(t: number): void {
    this.lastReap = t;
    inPhase('phase 3', () => this.sched.reap());
    inPhase('phase 2', () => this.store.reclaim());
  }

  private fail(e: Error): void {
    if (this.broken !== null || this.closed) return;
    this.broken = e;
    for (const s of this.states.values()) this.settle(s, 'error', e);
  }

  private spawn(lane: number, failedStarts = 0): Promise<void> {
    const proc = fork(WORKER_MAIN, [], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [ENV_STORE]: this.options.segments.store, [ENV_SCHEDULER]: this.options.segments.scheduler },
    });
    const pid = proc.pid;
    if (pid === undefined) return Promise.reject(new Error('a worker process did not start'));
    const w: WorkerProc = { proc, lane, ready: false };
    this.procs.set(pid, w);
    // The channel to a worker that died fails (EPIPE); its 'exit' handler below is what counts.
    proc.on('error', () => undefined);
    return new Promise<void>((resolve, reject) => {
      proc.on('message', (m: WorkerMessage) => {
        switch (m.type) {
          case 'ready':
            w.ready = true;
            this.events.emit('worker-started', { pid, lane });
            resolve();
            break;
          case 'fatal': {
            const err = new MiniRayError(m.code === 'ERR_NOT_IMPLEMENTED' || m.code === 'ERR_BUILD_FAILED' ? m.code : 'ERR_SYSTEM', m.message);
            reject(err);
            if (m.code === 'ERR_NOT_IMPLEMENTED' || m.code === 'ERR_BUILD_FAILED') this.fail(err);
            break;
          }
          case 'start': {
            const entry = this.timelineStart(pid, lane, m.task, m.fn, m.attempt, m.at);
            this.events.emit('task-start', entry);
            break;
          }
          case 'end': {
            const entry = this.running.get(pid);
            if (entry !== undefined) {
              entry.end = m.at;
              entry.outcome = m.ok ? 'ok' : 'error';
              this.running.delete(pid);
              this.events.emit('task-end', entry);
            }
            this.noted.add(m.task as TaskId);
            this.wake();
            break;
          }
        }
      });
      proc.on('exit', (code, signal) => {
        this.procs.delete(pid);
        const entry = this.running.get(pid);
        if (entry !== undefined) {
          entry.end = performance.timeOrigin + performance.now();
          entry.outcome = 'killed';
          this.running.delete(pid);
        }
        if (!w.ready) reject(new MiniRayError('ERR_SYSTEM', `worker ${pid} exited while starting (code ${code}, signal ${signal})`));
        if (this.closed || this.broken !== null || !this.started) return;
        this.workerDeaths.count += 1;
        this.events.emit('worker-died', { pid, lane, code, signal });
        try {
          this.reap(performance.now()); // its task goes back to the queue, its pins are given back
        } catch (e) {
          this.fail(e instanceof Error ? e : new Error(String(e)));
          return;
        }
        this.respawn(lane, w.ready ? 0 : failedStarts + 1);
        this.sweepDue = true; // a task it completed may have had no note
        this.collect();
      });
    });
  }

  // A replacement for the worker of `lane`. One that dies while starting is replaced again, up to
  // MAX_FAILED_STARTS times in a row; a phase that is not finished stops the runtime.
  private respawn(lane: number, failedStarts: number): void {
    if (failedStarts >= MAX_FAILED_STARTS) {
      this.fail(new MiniRayError('ERR_SYSTEM', `worker ${lane} died while starting ${failedStarts} times in a row`));
      return;
    }
    this.spawn(lane, failedStarts).catch((e: unknown) => {
      if (e instanceof MiniRayError && (e.code === 'ERR_NOT_IMPLEMENTED' || e.code === 'ERR_BUILD_FAILED')) this.fail(e);
      // otherwise it died while starting: its exit handler has replaced it
    });
  }

  private timelineStart(pid: number, lane: number, task: number, fn: string, attempt: number, at: number): TimelineEntry {
    const entry: TimelineEntry = { lane, pid, task, fn, attempt, start: at, end: null, outcome: 'running' };
    this.entries.push(entry);
    this.running.set(pid, entry);
    return entry;
  }
}

function unlinkSegment(name: string, unlink: (name: string) => void): void {
  try {
    unlink(name);
  } catch {
    // an unfinished unlink(): remove the file directly
  }
  rmSync(`/dev/shm${name}`, { force: true });
}

// Starts mini-Ray: an object store, a scheduler and `workers` worker processes.
export function init(options: InitOptions = {}): Promise<Runtime> {
  return Runtime.start(options);
}
