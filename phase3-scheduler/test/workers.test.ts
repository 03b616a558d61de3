// Checklist 3.4: the worker table, and workers that die.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../testkit/children.js';
import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { Scheduler, type TaskId, type WorkerId } from '../index.js';
import { arg, eventOf, resultOf, startTimeOf } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.workers;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('phase 3: workers', () => {
  graded(
    item,
    'registerWorker() records the pid and the start time; fetch makes the worker busy, complete makes it idle again',
    () => {
      const sched = Scheduler.create(sandbox.segment('table'), { queueCapacity: 4, maxWorkers: 4 });
      const worker = sched.registerWorker();
      expect(sched.workers()).toEqual([
        expect.objectContaining({ id: worker, state: 'idle', pid: process.pid, startTime: startTimeOf(process.pid), task: null, tasksDone: 0 }),
      ]);
      const task = sched.submit({ fn: 'work', args: [arg(1, 1)] });
      sched.fetch(worker);
      const [busy] = sched.workers();
      expect(busy).toMatchObject({ state: 'busy', task });
      expect(busy?.heartbeatAgeMs, 'a fetch is a sign of life').toBeLessThan(2000);
      expect(sched.stats()).toMatchObject({ workers: 1, busyWorkers: 1, leased: 1 });
      sched.complete(worker, task, resultOf(arg(1, 1)));
      expect(sched.workers()[0]).toMatchObject({ state: 'idle', task: null, tasksDone: 1 });
      expect(sched.stats()).toMatchObject({ workers: 1, busyWorkers: 0, leased: 0 });
      sched.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'a worker SIGKILLed while holding a task: reap() re-queues it, another worker completes it, and wait() says attempt 2',
    async () => {
      const name = sandbox.segment('reap');
      const sched = Scheduler.create(name, { queueCapacity: 4 });
      const task = sched.submit({ fn: 'fragile', args: [arg(2, 2)] });
      const victim = await spawnChild({ label: 'victim' });
      const held = victim.run(fx, 'fetchOne', { name, timeoutMs: 4000, mode: 'sync', hold: true });
      held.catch(() => undefined); // it is killed below
      const { worker: dead } = (await eventOf(victim, 'leased', held)) as { worker: WorkerId; task: TaskId };
      expect(sched.reap(), 'a live worker is not reaped').toEqual({ requeued: 0, failed: 0, deadWorkers: 0, reclaimed: 0 });
      await victim.kill('SIGKILL');
      expect(sched.reap()).toEqual({ requeued: 1, failed: 0, deadWorkers: 1, reclaimed: 0 });
      expect(sched.workers().find((w) => w.id === dead)).toMatchObject({ state: 'dead', task: null });
      expect(sched.inspect(task)).toMatchObject({ state: 'queued', attempts: 1 });
      const worker = sched.registerWorker();
      const again = sched.fetch(worker);
      expect(again).toMatchObject({ id: task, attempt: 2, args: [arg(2, 2)] });
      sched.complete(worker, task, resultOf(arg(2, 2)));
      expect(sched.wait(task)).toEqual({ state: 'done', resultId: resultOf(arg(2, 2)), worker, attempts: 2 });
      expect(sched.reap(), 'nothing left to reap').toEqual({ requeued: 0, failed: 0, deadWorkers: 0, reclaimed: 0 });
      sched.close();
    },
    { weight: Severity.data },
  );
});
