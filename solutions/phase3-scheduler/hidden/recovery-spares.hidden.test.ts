// Hidden suite, checklist 3.5: a recovery with nothing to repair. A lock holder that dies with no
// change half-done leaves a scheduler whose records are all consistent; the repair the next locker
// runs must then change nothing: every count, every task's state, every lease and the ring's order.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase3-scheduler/checklist.js';
import { Scheduler, type SchedulerStats, type TaskId } from '../../../phase3-scheduler/index.js';
import { arg, resultOf } from '../../../phase3-scheduler/test/fixtures.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('../../../phase3-scheduler/test/fixtures.js')>(
  new URL('../../../phase3-scheduler/test/fixtures.ts', import.meta.url),
);

// Every count of stats() but the recoveries themselves.
const counts = (s: SchedulerStats): Omit<SchedulerStats, 'lockRecoveries'> => {
  const { lockRecoveries: _, ...rest } = s;
  return rest;
};

describe('phase 3 (hidden): a recovery with nothing to repair', () => {
  graded(
    checklist.stress,
    'a lock holder dies with nothing half-done: the repair changes no count, no task state or lease, and keeps the queue in its order',
    async () => {
      const name = sandbox.segment('nothing-to-repair');
      const sched = Scheduler.create(name, { queueCapacity: 8, maxTasks: 16, maxWorkers: 4, lockTimeoutMs: 2000 });
      const [w1, w2] = [sched.registerWorker(), sched.registerWorker()];
      const submitted: TaskId[] = [];
      for (let i = 0; i < 7; i += 1) submitted.push(sched.submit({ fn: `f${i}`, args: [arg(0, i)], maxAttempts: i === 1 ? 1 : 3 }));
      // One task done, one failed, one leased, four queued behind them.
      const first = sched.fetch(w1, { timeoutMs: 0 });
      expect(first?.id).toBe(submitted[0]);
      sched.complete(w1, submitted[0]!, resultOf(first?.args[0]));
      expect(sched.fetch(w2, { timeoutMs: 0 })?.id).toBe(submitted[1]);
      sched.fail(w2, submitted[1]!, 'failed on purpose');
      expect(sched.fetch(w1, { timeoutMs: 0 })?.id).toBe(submitted[2]);
      const before = sched.stats();
      expect([before.tasks, before.queued, before.leased, before.done, before.failed, before.busyWorkers], 'the set-up').toEqual([7, 4, 1, 1, 1, 1]);
      const infos = submitted.map((t) => sched.inspect(t));
      const workers = sched.workers().map(({ heartbeatAgeMs: _, ...w }) => w);

      const holder = await spawnChild({ label: 'holder' });
      void holder.run(fx, 'holdLock', { name }).catch(() => undefined);
      await holder.waitEvent('locked');
      await holder.kill('SIGKILL');

      const after = sched.stats();
      expect(after.lockRecoveries, 'the takeover is counted').toBe(before.lockRecoveries + 1);
      expect(counts(after), 'every count as it was before the holder died').toEqual(counts(before));
      expect(submitted.map((t) => sched.inspect(t)), 'every task as it was').toEqual(infos);
      expect(sched.workers().map(({ heartbeatAgeMs: _, ...w }) => w), 'every worker as it was').toEqual(workers);
      // The lease survived: its worker completes it.
      sched.complete(w1, submitted[2]!, resultOf(arg(0, 2)));
      expect(sched.wait(submitted[2]!, { timeoutMs: 0 }).state).toBe('done');
      // The queue kept its order, and holds exactly the four.
      const fetched: Array<TaskId | undefined> = [];
      for (let i = 0; i < 4; i += 1) {
        const task = sched.fetch(w2, { timeoutMs: 0 });
        fetched.push(task?.id);
        if (task !== null) sched.complete(w2, task.id, resultOf(task.args[0]));
      }
      expect(fetched, 'the queued tasks, first submitted first').toEqual(submitted.slice(3));
      expect(sched.fetch(w2, { timeoutMs: 0 }), 'nothing more in the queue').toBeNull();
      expect(sched.stats().queued).toBe(0);
      sched.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );
});
