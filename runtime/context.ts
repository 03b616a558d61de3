// What a remote function may ask about the task it is running (like Ray's runtime context), and
// where it may write its result in place.
export interface TaskContext {
  readonly taskId: number;
  readonly attempt: number; // 1, or more after a worker died running it
  readonly workerId: number;
  readonly fn: string;
}

let current: TaskContext | null = null;
let allocate: ((bytes: number) => Buffer) | null = null;

// The task this worker process is running now; null outside a task (e.g. in the driver).
export function currentTask(): TaskContext | null {
  return current;
}

// `bytes` bytes for the running task's result, to be written in place. In a mini-Ray worker they
// are the result object itself, created in the store: return this Buffer (or a typed array over
// all of it) and the worker seals it as the result, without a copy. A task that throws, or
// returns something else, has the object aborted (nothing is left in the store). Outside a
// worker (one process, a Node-IPC child, a test) it is a Buffer of the process's own memory. As
// Buffer.allocUnsafe, the bytes hold anything until written. One per task.
export function resultBuffer(bytes: number): Buffer {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`resultBuffer takes a byte count, got ${String(bytes)}`);
  return current !== null && allocate !== null ? allocate(bytes) : Buffer.allocUnsafe(bytes);
}

// The worker's side: the task it starts running, and how its result's bytes are allocated.
export function setCurrentTask(context: TaskContext | null, allocator: ((bytes: number) => Buffer) | null = null): void {
  current = context;
  allocate = context === null ? null : allocator;
}
