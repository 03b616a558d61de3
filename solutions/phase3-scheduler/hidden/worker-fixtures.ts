// Child-process (and worker-thread) code for runtime.hidden.test.ts: blocking calls still waiting
// on the libuv pool when the worker thread that started them goes away.
import type { Fixture } from '../../../testkit/protocol.js';
import { runInWorker } from '../../../testkit/workers.js';
import { Scheduler, type TaskId } from '../../../phase3-scheduler/index.js';

// In a worker thread: the three async waits, each on something that will not happen within
// `timeoutMs`. `full` has a queue of one that holds a task, `empty` has no task: submitAsync ends
// with ERR_QUEUE_FULL and waitAsync with ERR_TIMEOUT (a rejection), fetchAsync with null (a value).
export function waitInWorker({ full, empty, task, timeoutMs }: { full: string; empty: string; task: number; timeoutMs: number }): string {
  const a = Scheduler.open(full);
  const b = Scheduler.open(empty);
  void a.submitAsync({ fn: 'never queued' }, { timeoutMs }).catch(() => undefined);
  void a.waitAsync(task as TaskId, { timeoutMs }).catch(() => undefined);
  void b.fetchAsync(b.registerWorker(), { timeoutMs }).catch(() => undefined);
  return 'waiting';
}

// Terminates a worker thread whose waits are still pending, lets their deadlines pass (their
// completions then land in an environment that no longer exists), and uses both schedulers here.
export const terminatedWhileWaiting: Fixture<{ full: string; empty: string; task: number }, string> = async ({ full, empty, task }) => {
  await runInWorker(new URL(import.meta.url).href, 'waitInWorker', { full, empty, task, timeoutMs: 500 }, { terminate: true });
  await new Promise((r) => setTimeout(r, 1500));
  const b = Scheduler.open(empty);
  try {
    const id = b.submit({ fn: 'after' });
    const worker = b.registerWorker();
    const t = b.fetch(worker);
    if (t === null || t.id !== id) throw new Error(`fetched ${JSON.stringify(t)} instead of task ${id}`);
    return t.fn;
  } finally {
    b.close();
  }
};
