// Checklist 3.1: the ring buffer.
import { describe, expect } from 'vitest';

import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { Scheduler, type TaskId } from '../index.js';
import { arg } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.ring;

describe('phase 3: the task ring', () => {
  graded(
    item,
    'tasks come out in the order they went in, with their fn and args intact',
    () => {
      const sched = Scheduler.create(sandbox.segment('fifo'), { queueCapacity: 16 });
      const ids: TaskId[] = [];
      for (let i = 0; i < 10; i += 1) ids.push(sched.submit({ fn: `f${i}`, args: [arg(1, i), arg(2, i)] }));
      expect(new Set(ids).size, 'every submit returns a new task id').toBe(10);
      expect(sched.stats().queued, 'stats() counts the queued tasks').toBe(10);
      const worker = sched.registerWorker();
      for (let i = 0; i < 10; i += 1) {
        const task = sched.fetch(worker);
        expect(task, `fetch #${i + 1}`).toMatchObject({ id: ids[i], fn: `f${i}`, args: [arg(1, i), arg(2, i)], attempt: 1 });
        sched.complete(worker, ids[i] as TaskId, arg(3, i));
      }
      expect(sched.fetch(worker), 'the queue is empty: fetch with timeoutMs 0 returns null').toBeNull();
      expect(sched.stats()).toMatchObject({ queued: 0, head: 10, tail: 10 });
      sched.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'a queue of capacity 4 takes exactly 4 tasks; the 5th is ERR_QUEUE_FULL until a fetch makes room',
    () => {
      const sched = Scheduler.create(sandbox.segment('full'), { queueCapacity: 4 });
      for (let i = 0; i < 4; i += 1) sched.submit({ fn: 'fill', args: [arg(0, i)] });
      expect(sched.stats().queued).toBe(4);
      expect(() => sched.submit({ fn: 'one too many' }), 'the 5th task').toThrowMiniRay('ERR_QUEUE_FULL');
      expect(sched.stats().queued, 'a refused submit leaves nothing behind').toBe(4);
      const worker = sched.registerWorker();
      expect(sched.fetch(worker)?.args).toEqual([arg(0, 0)]);
      expect(() => sched.submit({ fn: 'fits now', args: [arg(0, 4)] }), 'after one fetch').not.toThrow();
      expect(() => sched.submit({ fn: 'full again' })).toThrowMiniRay('ERR_QUEUE_FULL');
      sched.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'the ring wraps: 100 rounds through a queue of capacity 3 keep the order, and head and tail count every task',
    () => {
      const sched = Scheduler.create(sandbox.segment('wrap'), { queueCapacity: 3, maxWorkers: 2 });
      const worker = sched.registerWorker();
      let next = 0;
      let expected = 0;
      for (let round = 0; round < 100; round += 1) {
        // Alternate between a full queue and one task, so the head and the tail cross every slot.
        const batch = round % 2 === 0 ? 3 : 1;
        for (let i = 0; i < batch; i += 1) sched.submit({ fn: 'wrap', args: [arg(0, next++)] });
        for (let i = 0; i < batch; i += 1) {
          const task = sched.fetch(worker);
          expect(task?.args[0], `round ${round}: the oldest task comes out`).toBe(arg(0, expected++));
          sched.complete(worker, task!.id, arg(9, expected));
          sched.wait(task!.id);
        }
      }
      expect(sched.stats()).toMatchObject({ queued: 0, head: next, tail: next, tasks: 0 });
      sched.close();
    },
    { weight: Severity.data },
  );
});
