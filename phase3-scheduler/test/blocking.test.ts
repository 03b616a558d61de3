// Checklist 3.3: blocking on both ends.
import { describe, expect } from 'vitest';

import { waitUntilAsleep } from '../../testkit/asleep.js';
import { fixtures, spawnChild } from '../../testkit/children.js';
import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { Scheduler } from '../index.js';
import { arg, eventOf, resultOf } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.blocking;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

// Elapsed milliseconds of `fn` (which must throw or return).
function timed(fn: () => unknown): number {
  const t0 = performance.now();
  try {
    fn();
  } catch {
    // the caller checks the error separately
  }
  return performance.now() - t0;
}

describe('phase 3: blocking fetch and submit', () => {
  graded(
    item,
    'a fetch asleep in another process is woken by a submit here, long before its timeout',
    async () => {
      const name = sandbox.segment('wake-fetch');
      const sched = Scheduler.create(name, { queueCapacity: 4 });
      const worker = await spawnChild({ label: 'worker' });
      const fetching = worker.run(fx, 'fetchOne', { name, timeoutMs: 4000, mode: 'sync', complete: true });
      await eventOf(worker, 'waiting', fetching);
      await waitUntilAsleep(worker.pid, name); // the worker sleeps in fetch()
      const task = sched.submit({ fn: 'wake up', args: [arg(5, 5)] });
      const got = await fetching;
      expect(got.outcome).toBe('ok');
      expect(got.task?.id, 'the worker got the task').toBe(task);
      expect(got.elapsedMs, 'the submit woke it: it did not sleep until its 4000 ms timeout').toBeLessThan(3500);
      expect(sched.wait(task, { timeoutMs: 5000 })).toMatchObject({ state: 'done', resultId: resultOf(arg(5, 5)) });
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a submit blocked on a full queue in another process is woken by a fetch here',
    async () => {
      const name = sandbox.segment('wake-submit');
      const sched = Scheduler.create(name, { queueCapacity: 2 });
      sched.submit({ fn: 'first', args: [arg(0, 1)] });
      sched.submit({ fn: 'second', args: [arg(0, 2)] });
      const producer = await spawnChild({ label: 'producer' });
      const submitting = producer.run(fx, 'submitOne', { name, fn: 'third', args: [arg(0, 3)], timeoutMs: 4000, mode: 'sync' });
      await eventOf(producer, 'waiting', submitting);
      await waitUntilAsleep(producer.pid, name); // the producer sleeps in submit()
      const worker = sched.registerWorker();
      expect(sched.fetch(worker)?.fn).toBe('first');
      const got = await submitting;
      expect(got.outcome, 'the blocked submit went through').toBe('ok');
      expect(got.elapsedMs, 'the fetch woke it: it did not sleep until its 4000 ms timeout').toBeLessThan(3500);
      expect(sched.stats().queued).toBe(2);
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'fetchAsync() keeps the event loop running while it waits; close() cancels it with ERR_CLOSED',
    async () => {
      const name = sandbox.segment('async');
      const sched = Scheduler.create(name, { queueCapacity: 4 });
      const worker = sched.registerWorker();
      const pending = sched.fetchAsync(worker, { timeoutMs: -1 });
      await waitUntilAsleep(process.pid, name); // a pool thread of this process sleeps in fetch()
      let ticks = 0;
      const ticked = await new Promise<boolean>((resolve) => {
        const giveUp = setTimeout(() => resolve(false), 5000);
        const timer = setInterval(() => {
          ticks += 1;
          if (ticks < 3) return;
          clearInterval(timer);
          clearTimeout(giveUp);
          resolve(true);
        }, 1);
      });
      expect(ticked, 'timers fired while the fetch was waiting: it did not block the event loop').toBe(true);
      const t0 = Date.now();
      sched.close();
      await expect(pending, 'an untimed fetchAsync ends when its handle is closed').toRejectMiniRay('ERR_CLOSED');
      expect(Date.now() - t0, 'close() woke it at once').toBeLessThan(2000);
      expect(() => sched.stats()).toThrowMiniRay('ERR_CLOSED');
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'fetch, submit and wait time out after their timeout: not before, and not much later',
    () => {
      const sched = Scheduler.create(sandbox.segment('timeouts'), { queueCapacity: 1 });
      const worker = sched.registerWorker();
      let fetched: unknown = 'not called';
      const fetchMs = timed(() => (fetched = sched.fetch(worker, { timeoutMs: 150 })));
      expect(fetched, 'nothing came: fetch returns null').toBeNull();
      const task = sched.submit({ fn: 'only' });
      expect(() => sched.submit({ fn: 'more' }, { timeoutMs: 150 })).toThrowMiniRay('ERR_QUEUE_FULL');
      const submitMs = timed(() => sched.submit({ fn: 'more' }, { timeoutMs: 150 }));
      expect(() => sched.wait(task, { timeoutMs: 150 })).toThrowMiniRay('ERR_TIMEOUT');
      const waitMs = timed(() => sched.wait(task, { timeoutMs: 150 }));
      for (const [what, ms] of [['fetch', fetchMs], ['submit', submitMs], ['wait', waitMs]] as const) {
        expect(ms, `${what} waited its 150 ms`).toBeGreaterThanOrEqual(145);
        expect(ms, `${what} returned soon after its 150 ms`).toBeLessThan(1500);
      }
      sched.close();
    },
    { weight: Severity.behaviour },
  );
});
