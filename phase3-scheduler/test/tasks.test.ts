// Checklist 3.2: a task's life.
import { describe, expect } from 'vitest';

import { waitUntilAsleep } from '../../testkit/asleep.js';
import { fixtures, spawnChild } from '../../testkit/children.js';
import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { Scheduler, type TaskId } from '../index.js';
import { arg, eventOf, resultOf } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.tasks;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe("phase 3: a task's life", () => {
  graded(
    item,
    'complete(): wait() returns the result id and attempt 1, then forgets the task',
    () => {
      const sched = Scheduler.create(sandbox.segment('complete'), { queueCapacity: 8 });
      const task = sched.submit({ fn: 'square', args: [arg(1, 7)] });
      expect(sched.inspect(task)).toMatchObject({ state: 'queued', attempts: 0, fn: 'square' });
      expect(() => sched.wait(task), 'a queued task has no outcome yet').toThrowMiniRay('ERR_TIMEOUT');
      const worker = sched.registerWorker();
      const leased = sched.fetch(worker);
      expect(leased?.id).toBe(task);
      expect(sched.inspect(task)).toMatchObject({ state: 'leased', attempts: 1, worker });
      sched.complete(worker, task, resultOf(leased?.args[0]));
      expect(sched.inspect(task).state).toBe('done');
      expect(sched.wait(task)).toEqual({ state: 'done', resultId: resultOf(arg(1, 7)), worker, attempts: 1 });
      expect(() => sched.wait(task), 'an outcome is collected once').toThrowMiniRay('ERR_TASK_NOT_FOUND');
      expect(sched.stats()).toMatchObject({ tasks: 0, done: 0, completed: 1 });
      expect(sched.workers()).toMatchObject([{ id: worker, state: 'idle', task: null, tasksDone: 1 }]);
      sched.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'fail(): wait() returns the error message',
    () => {
      const sched = Scheduler.create(sandbox.segment('fail'), { queueCapacity: 8 });
      const task = sched.submit({ fn: 'divide', args: [arg(1, 0)] });
      const worker = sched.registerWorker();
      sched.fetch(worker);
      sched.fail(worker, task, 'RangeError: division by zero');
      expect(sched.stats()).toMatchObject({ failed: 1, leased: 0 });
      expect(sched.wait(task)).toEqual({ state: 'failed', error: 'RangeError: division by zero', attempts: 1 });
      expect(sched.stats()).toMatchObject({ tasks: 0, failed: 0, failedTotal: 1 });
      expect(sched.workers()[0]).toMatchObject({ state: 'idle', task: null });
      sched.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'a driver asleep in wait() in another process gets the outcome of a task completed here',
    async () => {
      const name = sandbox.segment('driver');
      const sched = Scheduler.create(name, { queueCapacity: 8 });
      const task = sched.submit({ fn: 'far', args: [arg(4, 2)] });
      const driver = await spawnChild({ label: 'driver' });
      const waiting = driver.run(fx, 'waitOne', { name, task, timeoutMs: 4000, mode: 'sync' });
      await eventOf(driver, 'waiting', waiting);
      await waitUntilAsleep(driver.pid, name); // the driver sleeps in wait()
      const worker = sched.registerWorker();
      sched.complete(worker, sched.fetch(worker)!.id, resultOf(arg(4, 2)));
      const got = await waiting;
      expect(got.outcome).toBe('ok');
      expect(got.result).toEqual({ state: 'done', resultId: resultOf(arg(4, 2)), worker, attempts: 1 });
      expect(got.elapsedMs, 'the completion woke it, well before its 4000 ms timeout').toBeLessThan(3500);
      expect(sched.stats().tasks, 'the driver collected it').toBe(0);
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(item, 'completing a task you do not hold is ERR_NOT_LEASED; a task that does not exist is ERR_TASK_NOT_FOUND', () => {
    const sched = Scheduler.create(sandbox.segment('errors'), { queueCapacity: 8 });
    const task = sched.submit({ fn: 'mine' });
    const a = sched.registerWorker();
    const b = sched.registerWorker();
    expect(() => sched.complete(a, task, resultOf(undefined)), 'still queued').toThrowMiniRay('ERR_NOT_LEASED');
    sched.fetch(a);
    expect(() => sched.complete(b, task, resultOf(undefined)), 'leased to another worker').toThrowMiniRay('ERR_NOT_LEASED');
    expect(() => sched.fail(b, task, 'nope')).toThrowMiniRay('ERR_NOT_LEASED');
    expect(sched.inspect(task), 'nothing changed').toMatchObject({ state: 'leased', worker: a });
    expect(() => sched.complete(a, (task + 1) as TaskId, resultOf(undefined))).toThrowMiniRay('ERR_TASK_NOT_FOUND');
    expect(() => sched.wait(12345 as TaskId)).toThrowMiniRay('ERR_TASK_NOT_FOUND');
    sched.complete(a, task, resultOf(undefined));
    expect(() => sched.complete(a, task, resultOf(undefined)), 'a second complete').toThrowMiniRay('ERR_NOT_LEASED');
    sched.close();
  });
});
