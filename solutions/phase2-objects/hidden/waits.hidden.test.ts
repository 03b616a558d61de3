// Hidden suite, checklists 2.3 and 2.6: waits seen from another process. A get ends on time, a
// close() wakes its own waiting get at once, and readers wait for the lock like writers.
import { describe, expect } from 'vitest';

import { waitUntilAsleep } from '../../../testkit/asleep.js';
import { expectBounded, holdLockInChild } from '../../../testkit/bounds.js';
import { fixtures, spawnChild, spawnChildren } from '../../../testkit/children.js';
import { graded, Severity } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, randomObjectId } from '../../../phase2-objects/index.js';

const sandbox = useSandbox();
const pub = fixtures<typeof import('../../../phase2-objects/test/fixtures.js')>(
  new URL('../../../phase2-objects/test/fixtures.ts', import.meta.url),
);
const wfx = fixtures<typeof import('../../../phase2-objects/test/wait-fixtures.js')>(
  new URL('../../../phase2-objects/test/wait-fixtures.ts', import.meta.url),
);

describe('phase 2 (hidden): waits from another process', () => {
  graded(
    checklist.lifecycle,
    'gets in another process of an object never sealed end on time: 250 ms and 1200 ms, sync and Promise',
    async () => {
      const name = sandbox.segment('on-time');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const id = randomObjectId();
      store.create(id, 10);
      const pinsBefore = store.stats().pinned; // the creator's own pin on its unsealed object
      const child = await spawnChild({ label: 'getter' });
      for (const [op, timeoutMs] of [
        ['get', 250],
        ['getAsync', 1200],
        ['getMany', 250],
      ] as const) {
        const r = await child.run(wfx, 'timedOp', { name, lockTimeoutMs: 5000, op, id, timeoutMs });
        expect(r.outcome, `${op} of an unsealed object`).toBe(op === 'getMany' ? 'ok' : 'ERR_TIMEOUT');
        expectBounded(r.elapsedMs, timeoutMs, `${op}()`);
      }
      expect(store.stats().pinned, 'gets that timed out pinned nothing').toBe(pinsBefore);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    checklist.lifecycle,
    'a put() in one process wakes every get asleep on the object in two others at once, while every process stays open',
    async () => {
      const name = sandbox.segment('put-wakes-all');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const id = randomObjectId();
      const [a, b, putter] = await spawnChildren(3, { label: 'waiter' });
      if (a === undefined || b === undefined || putter === undefined) throw new Error('three children expected');
      const waiters = [a, b];
      // 20 s timeouts: a waiter the seal did not wake returns only at its next re-check, seconds later.
      const waits = waiters.map((w) => w.run(wfx, 'waitOne', { name, id, timeoutMs: 20_000, mode: 'sync', holdOpen: true }, 30_000));
      for (const w of waiters) {
        await w.waitEvent('waiting');
        await waitUntilAsleep(w.pid, name);
      }
      const startedAt = Date.now();
      // The putter stays open too: its close() would wake every sleeper of the segment.
      const put = putter.run(pub, 'putObject', { name, id, seed: 9, size: 700, holdOpen: true }, 30_000);
      const digest = await putter.waitEvent('sealed', 30_000);
      for (const w of waiters) await w.waitEvent('returned', 30_000);
      for (const w of [...waiters, putter]) w.signal('close');
      const results = await Promise.all(waits);
      await put;
      results.forEach((r, i) => {
        expect(r.outcome, `waiter ${i}`).toBe('ok');
        expect(r.sha1, `waiter ${i} got the put's bytes`).toBe(digest);
        expect(r.returnedAt - startedAt, `waiter ${i} returned ${r.returnedAt - startedAt} ms after the put began: the seal did not wake it`).toBeLessThan(2000);
      });
      expect(store.stats().pinned, 'every waiter released its pin').toBe(0);
      store.close();
    },
    { weight: Severity.behaviour, timeoutMs: 60_000 },
  );

  graded(
    checklist.lifecycle,
    'close() in another process rejects that handle\'s untimed getAsync with ERR_CLOSED within two seconds',
    async () => {
      const name = sandbox.segment('close-wakes');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const child = await spawnChild({ label: 'waiter' });
      const r = await child.run(wfx, 'closeWhileWaiting', { name });
      expect(r.outcome).toBe('ERR_CLOSED');
      expect(r.elapsedMs, 'close() woke its waiting get itself, rather than leave it to a periodic re-check').toBeLessThan(2000);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    checklist.stress,
    'close() while another process holds the lock changes nothing unlocked: it gives up after lockTimeoutMs and its pin stays',
    async () => {
      const name = sandbox.segment('close-unlocked');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const id = store.put(Buffer.from('pinned by the closing handle'));
      const pinsBefore = store.stats().pinned;
      const closing = ObjectStore.open(name, { lockTimeoutMs: 200 });
      closing.get(id);
      const holder = await holdLockInChild(pub, name);
      const t0 = performance.now();
      closing.close();
      expect(performance.now() - t0, 'close() waited for the lock, then gave up').toBeGreaterThanOrEqual(199);
      await holder.release();
      // Giving the pin back needs the lock; a close() that could not take it leaves the pin for
      // reclaim() to find once this process is gone.
      expect(store.stats().pinned, 'the pin is still counted: close() did not touch the table without the lock').toBe(pinsBefore + 1);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.stress,
    'contains(), stats(), get() and getMany() in another process wait for the lock: ERR_LOCK_TIMEOUT while it is held',
    async () => {
      const name = sandbox.segment('readers');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const id = store.put(Buffer.from('there'));
      const pinsBefore = store.stats().pinned;
      // The reader opens first (open() takes the lock too), then the holder takes the lock.
      const reader = await spawnChild({ label: 'reader' });
      const ops = ['contains', 'stats', 'get', 'getMany'] as const;
      const reading = reader.run(wfx, 'timedOpsOfOpenHandle', { name, lockTimeoutMs: 200, ops, id });
      await reader.waitEvent('opened');
      const holder = await holdLockInChild(pub, name);
      reader.signal('go');
      const results = await reading;
      ops.forEach((op, i) => {
        const r = results[i];
        expect(r?.outcome, `${op}() while another process holds the lock`).toBe('ERR_LOCK_TIMEOUT');
        expectBounded(r?.elapsedMs ?? 0, 200, `${op}()`);
      });
      await holder.release();
      expect(store.stats().pinned, 'no reader pinned anything').toBe(pinsBefore);
      store.close();
    },
    { weight: Severity.data },
  );
});
