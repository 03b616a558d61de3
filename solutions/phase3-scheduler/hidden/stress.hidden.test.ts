// Hidden suite, checklist 3.5: many processes at once, a lock held elsewhere, a segment still being made.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild, spawnChildren } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase3-scheduler/checklist.js';
import { Scheduler } from '../../../phase3-scheduler/index.js';
import { barrierOf, decodeArg, eventOf, outcome, resultOf } from '../../../phase3-scheduler/test/fixtures.js';
import { COMMON_STATE, STATE_INITIALISING, STATE_READY, SegmentBytes } from './segment-bytes.js';

const sandbox = useSandbox();
const item = checklist.stress;
const fx = fixtures<typeof import('../../../phase3-scheduler/test/fixtures.js')>(
  new URL('../../../phase3-scheduler/test/fixtures.ts', import.meta.url),
);
const hfx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('phase 3 (hidden): many processes', () => {
  graded(
    item,
    "3 producers x 3 consumers x 2,000 tasks: every task completed exactly once, each producer's tasks in order, counts exact",
    async () => {
      const name = sandbox.segment('3x3');
      const PER = 2000;
      const sched = Scheduler.create(name, { queueCapacity: 32, maxTasks: 8192, lockTimeoutMs: 20_000 });
      const children = await spawnChildren(6);
      const producers = children.slice(0, 3).map((c, p) => c.run(fx, 'produce', { name, producer: p, count: PER, timeoutMs: 20_000 }, 120_000));
      const consumers = children.slice(3).map((c) => c.run(fx, 'consume', { name, idleMs: 20_000 }, 120_000));
      await barrierOf(children, [...producers, ...consumers]);
      const ids = (await Promise.all(producers)).flat();
      for (let i = 0; i < 3; i += 1) sched.submit({ fn: 'stop' }, { timeoutMs: 20_000 });
      const consumed = await Promise.all(consumers);
      const all = consumed.flatMap((c) => c.args);
      expect(all.length, 'tasks completed').toBe(3 * PER);
      expect(new Set(all).size, 'no task completed twice').toBe(3 * PER);
      expect(consumed.every((c) => c.args.length > 0), 'every consumer took part').toBe(true);
      for (const c of consumed) {
        const last = [-1, -1, -1];
        for (const a of c.args) {
          const { producer, seq } = decodeArg(a);
          if (!(seq > (last[producer] ?? Infinity))) {
            expect.fail(`consumer ${c.worker} fetched task ${seq} of producer ${producer} after task ${last[producer]}`);
          }
          last[producer] = seq;
        }
        expect(c.attempts.every((a) => a === 1), 'nobody died: every task ran on its first lease').toBe(true);
      }
      const bad: string[] = [];
      for (const id of ids) {
        const out = sched.wait(id, { timeoutMs: 5000 });
        if (out.state !== 'done') bad.push(`${id}: ${out.state}`);
      }
      expect(bad).toEqual([]);
      expect(sched.stats()).toMatchObject({ queued: 0, leased: 0, tasks: 3, submitted: 3 * PER + 3, completed: 3 * PER + 3, requeued: 0 });
      expect(Scheduler.check(name).problems).toEqual([]);
      sched.close();
    },
    { weight: Severity.data, timeoutMs: 120_000 },
  );

  graded(
    item,
    "every operation waits out another process's lock and fails with ERR_LOCK_TIMEOUT, not before its lockTimeoutMs and not long after",
    async () => {
      const name = sandbox.segment('locked');
      const sched = Scheduler.create(name, { queueCapacity: 4, lockTimeoutMs: 150 });
      const worker = sched.registerWorker();
      const leased = sched.submit({ fn: 'leased' });
      sched.fetch(worker);
      const queued = sched.submit({ fn: 'queued' });
      const holder = await spawnChild({ label: 'holder' });
      const locking = holder.run(fx, 'holdLock', { name });
      await eventOf(holder, 'locked', locking);
      const calls: Record<string, () => unknown> = {
        submit: () => sched.submit({ fn: 'x' }),
        registerWorker: () => sched.registerWorker(),
        fetch: () => sched.fetch(worker),
        complete: () => sched.complete(worker, leased, resultOf(undefined)),
        fail: () => sched.fail(worker, leased, 'x'),
        heartbeat: () => sched.heartbeat(worker),
        wait: () => sched.wait(queued),
        inspect: () => sched.inspect(queued),
        reap: () => sched.reap(),
        workers: () => sched.workers(),
        stats: () => sched.stats(),
        check: () => Scheduler.check(name, { lockTimeoutMs: 150 }),
      };
      for (const [what, call] of Object.entries(calls)) {
        const t0 = performance.now();
        expect(outcome(call), what).toBe('ERR_LOCK_TIMEOUT');
        const ms = performance.now() - t0;
        expect(ms, `${what} waited for the lock`).toBeGreaterThanOrEqual(145);
        expect(ms, `${what} gave up soon after 150 ms`).toBeLessThan(1500);
      }
      const t0 = performance.now();
      await expect(sched.fetchAsync(worker, { timeoutMs: 5000 }), 'fetchAsync').toRejectMiniRay('ERR_LOCK_TIMEOUT');
      expect(performance.now() - t0).toBeLessThan(1500);
      holder.signal('release');
      await locking;
      expect(sched.inspect(queued).state, 'nothing changed while the lock was held elsewhere').toBe('queued');
      sched.complete(worker, leased, resultOf(undefined));
      expect(sched.stats()).toMatchObject({ tasks: 2, done: 1, queued: 1, submitted: 2, lockRecoveries: 0 });
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'opening while the creator is still initialising waits for it, then works; a segment never finished is refused in time',
    async () => {
      const name = sandbox.segment('init');
      const sched = Scheduler.create(name, { queueCapacity: 4 });
      const bytes = new SegmentBytes(name, sched.debug.layout());
      bytes.setU32(COMMON_STATE, STATE_INITIALISING); // as if its creator had not finished yet
      const opener = await spawnChild({ label: 'opener' });
      const opening = opener.run(hfx, 'openWhenReady', { name, lockTimeoutMs: 5000 });
      await eventOf(opener, 'opening', opening);
      await sleep(300);
      bytes.setU32(COMMON_STATE, STATE_READY);
      const got = await opening;
      expect(got.outcome, 'it opened once the creator was done').toBe('ok');
      expect(got.elapsedMs, 'it waited for the creator').toBeGreaterThanOrEqual(250);
      expect(got.elapsedMs, 'and no longer than needed').toBeLessThan(3000);
      bytes.setU32(COMMON_STATE, STATE_INITIALISING);
      const never = await opener.run(hfx, 'openWhenReady', { name, lockTimeoutMs: 300 });
      expect(never.outcome, 'a creator that never finishes').toBe('ERR_LAYOUT_MISMATCH');
      expect(never.elapsedMs).toBeGreaterThanOrEqual(290);
      expect(never.elapsedMs).toBeLessThan(2500);
      bytes.setU32(COMMON_STATE, STATE_READY);
      sched.close();
    },
    { weight: Severity.behaviour },
  );
});
