// What a remote function may ask about the task it is running (like Ray's runtime context).
export interface TaskContext {
  readonly taskId: number;
  readonly attempt: number; // 1, or more after a worker died running it
  readonly workerId: number;
  readonly fn: string;
}

let current: TaskContext | null = null;

// The task this worker process is running now; null outside a task (e.g. in the driver).
export function currentTask(): TaskContext | null {
  return current;
}

export function setCurrentTask(context: TaskContext | null): void {
  current = context;
}
