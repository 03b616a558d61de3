// Phase 3 harness: the typed TypeScript face of the student's Scheduler (src/scheduler.cc).
//
//   const sched = Scheduler.create('/miniray-sched', { queueCapacity: 64 });
//   const task = sched.submit({ fn: 'demo/math.ts#square', args: [inputId] });   // a driver
//
//   const me = sched.registerWorker();                                            // a worker
//   const t = sched.fetch(me, { timeoutMs: 1000 });   // leased to me, or null after a second
//   sched.complete(me, t.id, resultId);               // the result is an object in the phase-2 store
//
//   sched.wait(task, { timeoutMs: 5000 });            // { state: 'done', resultId, attempts: 1, ... }
//
// Semantics worth knowing (the lesson explains why):
// - Every wait takes timeoutMs: 0 (the default) does not wait, -1 waits without a limit. submit()
//   waits while the queue is full, then ERR_QUEUE_FULL; fetch() waits for a task, then returns
//   null; wait() waits for the task to finish, then ERR_TIMEOUT. The *Async forms wait on the libuv
//   pool instead of the event loop, and close() makes them reject with ERR_CLOSED.
// - wait() returns a finished task's outcome once: it frees the task's record, and the id is then
//   unknown (ERR_TASK_NOT_FOUND). Records of finished tasks that nobody collects fill the table.
// - A worker belongs to the process that registered it. A task leased to a worker that dies (or,
//   with leaseMs, stops sending heartbeats) goes back to the queue when any process calls reap();
//   after maxAttempts leases it fails instead. Delivery is at least once: a task may run twice.
// - Arguments and results are object ids (40 hex digits) of objects in the phase-2 store: the
//   scheduler never carries bytes.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { MiniRayError } from '../lib/errors.js';
import type { IdLike, ObjectId } from '../lib/ids.js';
import { loadAddon } from '../lib/native.js';
import { optionsOf } from '../lib/options.js';
import { BUILD_DIR } from '../lib/phases.js';

export type { IdLike, ObjectId, ObjectIdBytes } from '../lib/ids.js';
export { idBytes, idHex, objectId, randomObjectId } from '../lib/ids.js';
export { MiniRayError } from '../lib/errors.js';

declare const taskIdBrand: unique symbol;
declare const workerIdBrand: unique symbol;
// Task and worker ids are numbers below 2^52: a slot and a generation (see glue/scheduler_layout.h).
export type TaskId = number & { readonly [taskIdBrand]: true };
export type WorkerId = number & { readonly [workerIdBrand]: true };

export interface CreateOptions {
  // How many tasks may wait in the queue before submit() blocks (1..65536).
  readonly queueCapacity: number;
  // Task records: queued + leased + finished but not yet collected by wait() (default
  // 4 x queueCapacity, at most 65536).
  readonly maxTasks?: number;
  // Worker records (default 16, at most 1024).
  readonly maxWorkers?: number;
  // A busy worker that sends no heartbeat for this long is declared dead by reap() (default
  // 30000; 0: only when its process is gone).
  readonly leaseMs?: number;
  // Leases a task gets before a dying worker fails it for good (default 3, at most 100).
  readonly maxAttempts?: number;
  // How long a lock waits before ERR_LOCK_TIMEOUT (default 5000 ms).
  readonly lockTimeoutMs?: number;
}

export interface OpenOptions {
  readonly lockTimeoutMs?: number;
}

export interface WaitOptions {
  // 0 (default): do not wait; -1: wait without a limit; otherwise milliseconds.
  readonly timeoutMs?: number;
}

export interface TaskSpec {
  // The function to run, named by module and export (closures cannot cross processes):
  // 1..127 bytes of UTF-8, e.g. 'demo/tiles.ts#render'.
  readonly fn: string;
  // Its arguments: ids of objects in the phase-2 store, at most 8, each as 40 hex digits or its 20
  // bytes (idBytes(id)). A fetched Task carries them as hex.
  readonly args?: readonly IdLike[];
  // Overrides the scheduler's maxAttempts for this task.
  readonly maxAttempts?: number;
}

export interface Task {
  readonly id: TaskId;
  readonly fn: string;
  readonly args: readonly ObjectId[];
  readonly attempt: number; // 1 on the first lease, 2 after one worker died holding it, ...
  readonly maxAttempts: number;
}

export type TaskOutcome =
  | { readonly state: 'done'; readonly resultId: ObjectId; readonly worker: WorkerId; readonly attempts: number }
  | { readonly state: 'failed'; readonly error: string; readonly attempts: number };

export type TaskState = 'queued' | 'leased' | 'done' | 'failed';

export interface TaskInfo {
  readonly id: TaskId;
  readonly state: TaskState;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly worker: WorkerId | null; // while leased
  readonly fn: string;
}

export type WorkerState = 'idle' | 'busy' | 'dead';

export interface WorkerInfo {
  readonly id: WorkerId;
  readonly state: WorkerState;
  readonly pid: number;
  readonly startTime: number; // clock ticks after boot, from /proc/<pid>/stat
  readonly task: TaskId | null; // while busy
  readonly heartbeatAgeMs: number;
  readonly tasksDone: number;
}

export interface ReapReport {
  readonly requeued: number; // leased tasks of dead workers put back in the queue
  readonly failed: number; // ... failed instead: they had used maxAttempts leases
  readonly deadWorkers: number;
  readonly reclaimed: number; // finished tasks freed because their submitter is gone
}

export interface SchedulerStats {
  readonly segmentSize: number;
  readonly queueCapacity: number;
  readonly ringSlots: number; // queueCapacity + maxWorkers
  readonly queued: number; // tail - head
  readonly head: number; // tasks ever taken from the ring
  readonly tail: number; // tasks ever put in the ring (submits and re-queues)
  readonly maxTasks: number;
  readonly tasks: number; // records in use
  readonly leased: number;
  readonly done: number; // finished, not yet collected by wait()
  readonly failed: number; // failed, not yet collected
  readonly maxWorkers: number;
  readonly workers: number; // idle + busy
  readonly busyWorkers: number;
  readonly deadWorkers: number;
  readonly submitted: number; // running totals since create
  readonly completed: number;
  readonly failedTotal: number;
  readonly requeued: number;
  readonly reapedWorkers: number;
  readonly lockRecoveries: number;
}

export interface SchedulerLayout {
  readonly segmentSize: number;
  readonly queueCapacity: number;
  readonly ringSlots: number;
  readonly maxTasks: number;
  readonly maxWorkers: number;
  readonly ringOffset: number;
  readonly tasksOffset: number;
  readonly workersOffset: number;
  readonly taskRecordBytes: number;
  readonly workerRecordBytes: number;
  readonly headOffset: number;
  readonly tailOffset: number;
  // Where some header fields are, for tests that write into the segment as a stray process would.
  readonly needsRecoveryOffset: number;
  readonly ringSlotsFieldOffset: number;
  readonly maxTasksFieldOffset: number;
  readonly tasksOffsetFieldOffset: number;
  readonly countsOffset: number;
}

// The segment checker's findings (glue/checker.h lists the invariants).
export interface CheckReport {
  readonly recoveryPending: boolean; // a holder died in the lock; the next operation repairs it
  readonly problems: readonly string[];
  readonly head: number;
  readonly tail: number;
  readonly queued: number;
  readonly leased: number;
  readonly done: number;
  readonly failed: number;
  readonly freeRecords: number;
  readonly liveWorkers: number;
  readonly busyWorkers: number;
  readonly deadWorkers: number;
}

interface NativeScheduler {
  submit(fn: string, args: readonly IdLike[], maxAttempts: number, timeoutMs: number): number;
  submitAsync(fn: string, args: readonly IdLike[], maxAttempts: number, timeoutMs: number): Promise<number>;
  registerWorker(): number;
  fetch(worker: number, timeoutMs: number): Task | null;
  fetchAsync(worker: number, timeoutMs: number): Promise<Task | null>;
  complete(worker: number, task: number, resultId: IdLike): void;
  fail(worker: number, task: number, message: string): void;
  heartbeat(worker: number): void;
  wait(task: number, timeoutMs: number): TaskOutcome;
  waitAsync(task: number, timeoutMs: number): Promise<TaskOutcome>;
  inspect(task: number): TaskInfo;
  reap(): ReapReport;
  workers(): WorkerInfo[];
  stats(): SchedulerStats;
  close(): void;
  debugLock(): void;
  debugUnlock(): void;
  layout(): SchedulerLayout;
}

interface NativeSchedulerClass {
  create(
    name: string,
    queueCapacity: number,
    maxTasks: number,
    maxWorkers: number,
    lockTimeoutMs: number,
    leaseMs: number,
    maxAttempts: number,
  ): NativeScheduler;
  open(name: string, lockTimeoutMs: number): NativeScheduler;
  unlink(name: string): void;
  check(name: string, lockTimeoutMs: number): CheckReport;
}

interface Phase3Addon {
  NativeScheduler: NativeSchedulerClass;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_WORKERS = 16;
export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_TASKS = 65_536;
export const MAX_FN_BYTES = 127;
export const MAX_ARGS = 8;
export const MAX_ERROR_BYTES = 255;

// The crash-point suite runs the reference built with its crash points armed (binding.gyp's
// phase3_crash target): MINIRAY_CRASH_BUILD=1 loads that build instead.
const CRASH_BUILD_ENV = 'MINIRAY_CRASH_BUILD';
let crashAddon: Phase3Addon | undefined;

function loadCrashBuild(): Phase3Addon {
  if (crashAddon !== undefined) return crashAddon;
  const file = join(BUILD_DIR, 'Release', 'phase3_crash.node');
  if (!existsSync(file)) {
    throw new MiniRayError('ERR_BUILD_FAILED', `${CRASH_BUILD_ENV}=1 but ${file} is not built (make -C build phase3_crash)`);
  }
  const mod = createRequire(import.meta.url)(file) as Phase3Addon & { setErrorClass(c: typeof MiniRayError): void };
  mod.setErrorClass(MiniRayError);
  crashAddon = mod;
  return mod;
}

const native = (): NativeSchedulerClass =>
  (process.env[CRASH_BUILD_ENV] === '1' ? loadCrashBuild() : loadAddon<Phase3Addon>('phase3')).NativeScheduler;

// `text` cut to at most `maxBytes` bytes of UTF-8, never inside a character.
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1; // a continuation byte: step back
  return bytes.subarray(0, end).toString('utf8');
}

function specOf(task: TaskSpec): { fn: string; args: readonly IdLike[]; maxAttempts: number } {
  if (task === null || typeof task !== 'object') {
    throw new MiniRayError('ERR_INVALID_ARGUMENT', `a task must be an object { fn, args?, maxAttempts? }, got ${task === null ? 'null' : typeof task}`);
  }
  return { fn: task.fn, args: task.args ?? [], maxAttempts: task.maxAttempts ?? 0 };
}

const timeoutOf = (options: WaitOptions | undefined): number => optionsOf(options).timeoutMs ?? 0;

export class Scheduler {
  private constructor(
    private readonly native: NativeScheduler,
    readonly name: string,
  ) {}

  // Creates a new segment; ERR_SEGMENT_EXISTS when the name is taken.
  static create(name: string, options: CreateOptions): Scheduler {
    const o = optionsOf(options);
    const capacity = o.queueCapacity as number;
    const maxTasks = o.maxTasks ?? (typeof capacity === 'number' ? Math.min(MAX_TASKS, Math.max(1, 4 * capacity)) : capacity);
    return new Scheduler(
      native().create(
        name,
        capacity,
        maxTasks,
        o.maxWorkers ?? DEFAULT_MAX_WORKERS,
        o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
        o.leaseMs ?? DEFAULT_LEASE_MS,
        o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      ),
      name,
    );
  }

  // Attaches to an existing segment; ERR_SEGMENT_NOT_FOUND or ERR_LAYOUT_MISMATCH when it cannot.
  static open(name: string, options: OpenOptions = {}): Scheduler {
    return new Scheduler(native().open(name, optionsOf(options).lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS), name);
  }

  // Removes the name from /dev/shm. Processes that have it open keep working.
  static unlink(name: string): void {
    native().unlink(name);
  }

  // Walks the segment under its lock and lists every broken invariant (the segment checker).
  static check(name: string, options: OpenOptions = {}): CheckReport {
    return native().check(name, optionsOf(options).lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  }

  // Queues a task; waits while the queue is full. ERR_QUEUE_FULL, ERR_INVALID_ARGUMENT.
  submit(task: TaskSpec, options: WaitOptions = {}): TaskId {
    const s = specOf(task);
    return this.native.submit(s.fn, s.args, s.maxAttempts, timeoutOf(options)) as TaskId;
  }

  async submitAsync(task: TaskSpec, options: WaitOptions = {}): Promise<TaskId> {
    const s = specOf(task);
    return (await this.native.submitAsync(s.fn, s.args, s.maxAttempts, timeoutOf(options))) as TaskId;
  }

  // A new worker, owned by this process (and retired by this handle's close()). ERR_TABLE_FULL.
  registerWorker(): WorkerId {
    return this.native.registerWorker() as WorkerId;
  }

  // The oldest queued task, leased to `worker`; waits for one, then null.
  fetch(worker: WorkerId, options: WaitOptions = {}): Task | null {
    return this.native.fetch(worker, timeoutOf(options));
  }

  fetchAsync(worker: WorkerId, options: WaitOptions = {}): Promise<Task | null> {
    return this.native.fetchAsync(worker, timeoutOf(options));
  }

  // The worker that holds `task` finished it; `resultId` names its result in the object store (40
  // hex digits or its 20 bytes). ERR_NOT_LEASED (it does not hold it), ERR_TASK_NOT_FOUND.
  complete(worker: WorkerId, task: TaskId, resultId: IdLike): void {
    this.native.complete(worker, task, resultId);
  }

  // The worker that holds `task` gives up on it: the task fails for good (no retry) with
  // `message`, cut to 255 bytes of UTF-8.
  fail(worker: WorkerId, task: TaskId, message: string): void {
    this.native.fail(worker, task, typeof message === 'string' ? truncateUtf8(message, MAX_ERROR_BYTES) : message);
  }

  // A sign of life from a worker (fetch, complete and fail count as one too).
  heartbeat(worker: WorkerId): void {
    this.native.heartbeat(worker);
  }

  // Waits until `task` finished; returns its outcome once and frees it. ERR_TIMEOUT, ERR_TASK_NOT_FOUND.
  wait(task: TaskId, options: WaitOptions = {}): TaskOutcome {
    return this.native.wait(task, timeoutOf(options));
  }

  waitAsync(task: TaskId, options: WaitOptions = {}): Promise<TaskOutcome> {
    return this.native.waitAsync(task, timeoutOf(options));
  }

  // A task as it is now (not collected, not waited for).
  inspect(task: TaskId): TaskInfo {
    return this.native.inspect(task);
  }

  // Declares dead the workers whose process is gone (or whose lease expired) and re-queues or
  // fails what they held; frees finished tasks whose submitter is gone. Any process may call it.
  reap(): ReapReport {
    return this.native.reap();
  }

  workers(): WorkerInfo[] {
    return this.native.workers();
  }

  stats(): SchedulerStats {
    return this.native.stats();
  }

  // Cancels this handle's waits (ERR_CLOSED) and retires the workers it registered: a task one of
  // them holds goes back to the queue.
  close(): void {
    this.native.close();
  }

  // For tests and the debugger.
  readonly debug = {
    lock: (): void => this.native.debugLock(),
    unlock: (): void => this.native.debugUnlock(),
    layout: (): SchedulerLayout => this.native.layout(),
  };
}
