// Checklists 1.2 and 1.3: every lock wait is bounded on both sides, every operation waits for the lock, a
// timeout names the holder, and every process asleep on the lock gets it in turn.
import { describe, expect } from 'vitest';

import { expectBounded, holdLockInChild, type LockHolder } from '../../testkit/bounds.js';
import { fixtures, spawnChild, spawnChildren } from '../../testkit/children.js';
import { atPhaseOfSecond } from '../../testkit/clock.js';
import { graded, Severity } from '../../testkit/graded.js';
import { waitUntilAsleep } from '../../testkit/asleep.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ShmStore } from '../index.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));
const lfx = fixtures<typeof import('./lock-fixtures.js')>(new URL('./lock-fixtures.ts', import.meta.url));

const holdLock = (name: string): Promise<LockHolder> => holdLockInChild(fx, name);

describe('phase 1: bounded waits', () => {
  // Each wait starts at a chosen point of the clock's second (atPhaseOfSecond): 999 ms from 500 ms
  // into a second always carries into the next second, 999 ms from its start never does, so a
  // deadline that mishandles the carry fails every run, not when the clock happens to be kind.
  graded(
    checklist.mutex,
    'a lock wait ends with ERR_LOCK_TIMEOUT after its timeout, not before it and not long after (300, 999, 999 and 2000 ms, across a second boundary and not)',
    async () => {
      const name = sandbox.segment('bounds');
      const store = ShmStore.create(name, { capacity: 4096 });
      const holder = await holdLock(name);
      for (const [timeoutMs, phase] of [
        [300, 800],
        [999, 500],
        [999, 0],
        [2000, 500],
      ] as const) {
        const waiter = ShmStore.open(name, { lockTimeoutMs: timeoutMs });
        await atPhaseOfSecond(phase);
        const t0 = performance.now();
        expect(() => waiter.debug.lock(), `lock() with lockTimeoutMs ${timeoutMs}`).toThrowMiniRay(
          'ERR_LOCK_TIMEOUT',
          String(holder.child.pid),
        );
        expectBounded(performance.now() - t0, timeoutMs, 'lock()');
        waiter.close();
      }
      await holder.release();
      expect(store.stats().lockRecoveries, 'timed-out waits take nothing over').toBe(0);
      store.close();
    },
    // About 8 s of waits (each starts at a chosen phase of the second): room for a loaded machine.
    { weight: Severity.behaviour, timeoutMs: 60_000 },
  );

  // Needs put() and get(): graded with checklist 1.3.
  graded(
    checklist.putget,
    'put(), get() and stats() all wait for a lock another process holds: each fails with ERR_LOCK_TIMEOUT, none proceeds unlocked',
    async () => {
      const name = sandbox.segment('every-op');
      const store = ShmStore.create(name, { capacity: 64 * 1024, lockTimeoutMs: 200 });
      const id = store.put(Buffer.from('written before the lock was taken'));
      const holder = await holdLock(name);
      const ops: Array<[string, () => unknown]> = [
        ['put', () => store.put(Buffer.from('y'))],
        ['get', () => store.get(id)],
        ['stats', () => store.stats()],
      ];
      for (const [op, fn] of ops) {
        const t0 = performance.now();
        expect(fn, `${op}() while another process holds the lock`).toThrowMiniRay('ERR_LOCK_TIMEOUT');
        expectBounded(performance.now() - t0, 200, `${op}()`);
      }
      await holder.release();
      expect(store.get(id).toString()).toBe('written before the lock was taken');
      expect(store.stats().objectCount).toBe(1);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.mutex,
    'ERR_LOCK_TIMEOUT names the process holding the lock now, also one that had to wait for it',
    async () => {
      const name = sandbox.segment('names-holder');
      const store = ShmStore.create(name, { capacity: 4096, lockTimeoutMs: 200 });
      const first = await holdLock(name);
      const second = await spawnChild({ label: 'second holder' });
      const secondHolding = second.run(lfx, 'lockWhenReady', { name });
      await second.waitEvent('waiting');
      await waitUntilAsleep(second.pid, name); // asleep in the lock, behind the first holder
      await first.release();
      await second.waitEvent('locked'); // it got the lock after waiting for it
      expect(() => store.stats()).toThrowMiniRay('ERR_LOCK_TIMEOUT', String(second.pid));
      second.signal('release');
      await secondHolding;
      store.close();
    },
    { weight: Severity.code },
  );

  graded(
    checklist.mutex,
    'three processes asleep on the lock each get it, when the holder unlocks and when it is SIGKILLed; the takeover counts once',
    async () => {
      const name = sandbox.segment('waiters');
      const store = ShmStore.create(name, { capacity: 64 * 1024, lockTimeoutMs: 10_000 });
      const waiters = await spawnChildren(3, { label: 'waiter' });
      for (const round of ['unlocks', 'is SIGKILLed'] as const) {
        const holder = await holdLock(name);
        const puts = waiters.map((w) => w.run(lfx, 'lockOnceWhenReady', { name, lockTimeoutMs: 10_000 }));
        for (const w of waiters) {
          await w.waitEvent('waiting');
          await waitUntilAsleep(w.pid, name);
        }
        if (round === 'unlocks') await holder.release();
        else await holder.child.kill('SIGKILL');
        const results = await Promise.all(puts);
        results.forEach((r, i) => expect(r.outcome, `waiter ${i} when the holder ${round}: ${r.message}`).toBe('ok'));
      }
      const s = store.stats();
      expect(s.lockRecoveries, 'one dead holder is one takeover, however many waited').toBe(1);
      store.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );
});
