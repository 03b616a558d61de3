// Hidden suite, checklist 3.1: the ring at its boundaries, and after long churn.
import { describe, expect } from 'vitest';

import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase3-scheduler/checklist.js';
import { Scheduler, type TaskId, type WorkerId } from '../../../phase3-scheduler/index.js';
import { arg, resultOf } from '../../../phase3-scheduler/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.ring;

describe('phase 3 (hidden): the ring', () => {
  graded(
    item,
    'a queue of capacity 1 holds exactly one task: 50 rounds of submit, a refused submit, fetch',
    () => {
      const sched = Scheduler.create(sandbox.segment('one'), { queueCapacity: 1, maxWorkers: 1 });
      const worker = sched.registerWorker();
      for (let i = 0; i < 50; i += 1) {
        expect(sched.stats().queued, `round ${i}: empty`).toBe(0);
        expect(sched.fetch(worker), `round ${i}: nothing to fetch from an empty queue`).toBeNull();
        const task = sched.submit({ fn: 'one', args: [arg(0, i)] });
        expect(() => sched.submit({ fn: 'two' }), `round ${i}: the second task does not fit`).toThrowMiniRay('ERR_QUEUE_FULL');
        const got = sched.fetch(worker);
        expect(got?.args, `round ${i}`).toEqual([arg(0, i)]);
        sched.complete(worker, task, resultOf(arg(0, i)));
        sched.wait(task);
      }
      expect(sched.stats()).toMatchObject({ head: 50, tail: 50, tasks: 0, submitted: 50 });
      sched.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'a queue of capacity 5 (7 ring slots) filled to exactly 5 and drained, 40 times: order and counts exact at every step',
    () => {
      const name = sandbox.segment('five');
      const sched = Scheduler.create(name, { queueCapacity: 5, maxWorkers: 2, maxTasks: 8 });
      const worker = sched.registerWorker();
      let submitted = 0;
      let fetched = 0;
      for (let round = 0; round < 40; round += 1) {
        const fill = 5 - (round % 3 === 1 ? 2 : 0); // mostly to the brim, sometimes less
        const ids: TaskId[] = [];
        for (let i = 0; i < fill; i += 1) {
          ids.push(sched.submit({ fn: 'five', args: [arg(1, submitted)] }));
          submitted += 1;
          expect(sched.stats().queued, `round ${round}: queued after ${i + 1} submits`).toBe(i + 1);
        }
        if (fill === 5) expect(() => sched.submit({ fn: 'sixth' }), `round ${round}: full at 5`).toThrowMiniRay('ERR_QUEUE_FULL');
        for (let i = 0; i < fill; i += 1) {
          const got = sched.fetch(worker);
          expect(got?.args[0], `round ${round}: fetch ${i + 1} returns the oldest task`).toBe(arg(1, fetched));
          fetched += 1;
          sched.complete(worker, got!.id, resultOf(got!.args[0]));
          expect(sched.wait(got!.id).state).toBe('done');
          expect(sched.stats().queued, `round ${round}: queued after ${i + 1} fetches`).toBe(fill - i - 1);
        }
        expect(sched.fetch(worker), `round ${round}: drained`).toBeNull();
      }
      expect(sched.stats()).toMatchObject({ head: submitted, tail: submitted, tasks: 0 });
      expect(Scheduler.check(name).problems).toEqual([]);
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'stats after 2,000 tasks of churn: head and tail count every task, no record is left in use, the checker finds nothing',
    () => {
      const name = sandbox.segment('churn');
      const sched = Scheduler.create(name, { queueCapacity: 8, maxTasks: 16, maxWorkers: 3 });
      const workers = [sched.registerWorker(), sched.registerWorker()];
      let r = 12345;
      const rand = (n: number): number => {
        r = (Math.imul(r, 1103515245) + 12345) >>> 0;
        return (r >>> 16) % n;
      };
      let submitted = 0;
      let failed = 0;
      const queued: TaskId[] = [];
      const leased = new Map<WorkerId, TaskId>();
      const finished: TaskId[] = [];
      for (let step = 0; submitted < 2000 || queued.length > 0 || leased.size > 0 || finished.length > 0; step += 1) {
        if (step > 100_000) expect.fail('the churn made no progress');
        const dice = rand(4);
        if (dice === 0 && submitted < 2000 && queued.length < 8 && queued.length + leased.size + finished.length < 16) {
          queued.push(sched.submit({ fn: 'churn', args: [arg(2, submitted)] }));
          submitted += 1;
        } else if (dice === 1 && queued.length > 0) {
          const w = workers[rand(2)]!;
          if (!leased.has(w)) {
            const got = sched.fetch(w);
            expect(got?.id, 'the oldest queued task').toBe(queued.shift());
            leased.set(w, got!.id);
          }
        } else if (dice === 2 && leased.size > 0) {
          const [w, task] = [...leased.entries()][rand(leased.size)]!;
          if (rand(10) === 0) {
            sched.fail(w, task, 'churned');
            failed += 1;
          } else {
            sched.complete(w, task, resultOf(undefined));
          }
          leased.delete(w);
          finished.push(task);
        } else if (finished.length > 0) {
          sched.wait(finished.splice(rand(finished.length), 1)[0]!);
        }
      }
      expect(sched.stats()).toMatchObject({
        queued: 0,
        head: 2000,
        tail: 2000,
        tasks: 0,
        leased: 0,
        done: 0,
        failed: 0,
        submitted: 2000,
        completed: 2000 - failed,
        failedTotal: failed,
        busyWorkers: 0,
      });
      expect(Scheduler.check(name)).toMatchObject({ problems: [], freeRecords: 16, liveWorkers: 2 });
      sched.close();
    },
    { weight: Severity.behaviour },
  );
});
