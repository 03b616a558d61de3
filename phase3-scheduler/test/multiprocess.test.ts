// Checklist 3.5: several processes on one scheduler.
import { describe, expect } from 'vitest';

import { fixtures, spawnChildren } from '../../testkit/children.js';
import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { Scheduler } from '../index.js';
import { arg, barrierOf, decodeArg } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.stress;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('phase 3: producers and consumers in separate processes', () => {
  graded(
    item,
    "2 producers and 2 consumers in four processes: every task is completed exactly once, in its producer's order",
    async () => {
      const name = sandbox.segment('pc');
      const sched = Scheduler.create(name, { queueCapacity: 16, maxTasks: 1024 });
      const PER = 300;
      const [p0, p1, c0, c1] = await spawnChildren(4);
      const producers = [p0!, p1!].map((c, i) => c.run(fx, 'produce', { name, producer: i, count: PER, timeoutMs: 10_000 }, 60_000));
      const consumers = [c0!, c1!].map((c) => c.run(fx, 'consume', { name, idleMs: 10_000 }, 60_000));
      await barrierOf([p0!, p1!, c0!, c1!], [...producers, ...consumers]);
      const ids = (await Promise.all(producers)).flat();
      // One 'stop' task per consumer, behind every real task.
      for (let i = 0; i < 2; i += 1) sched.submit({ fn: 'stop' }, { timeoutMs: 10_000 });
      const consumed = await Promise.all(consumers);
      const all = consumed.flatMap((c) => c.args);
      expect(all.length, 'tasks completed').toBe(2 * PER);
      expect(new Set(all).size, 'no task completed twice').toBe(2 * PER);
      for (let p = 0; p < 2; p += 1) {
        for (let n = 0; n < PER; n += 1) expect(all.includes(arg(p, n)), `task ${n} of producer ${p}`).toBe(true);
      }
      for (const c of consumed) {
        // Each consumer sees each producer's tasks in the order they were submitted.
        const last = [-1, -1];
        for (const a of c.args) {
          const { producer, seq } = decodeArg(a);
          expect(seq, `producer ${producer}'s tasks in order`).toBeGreaterThan(last[producer] ?? Infinity);
          last[producer] = seq;
        }
      }
      for (const id of ids) expect(sched.wait(id, { timeoutMs: 5000 }).state).toBe('done');
      const s = sched.stats();
      expect(s).toMatchObject({ queued: 0, leased: 0, submitted: 2 * PER + 2, completed: 2 * PER + 2 });
      expect(s.tasks, 'only the two stop tasks are left uncollected').toBe(2);
      sched.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );
});
