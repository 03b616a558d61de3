// Checklists 2.3 and 2.6: every wait bounded on both sides, one seal waking every process asleep on
// it, close() cancelling at once, every operation waiting for the lock, and an opener that meets a
// creator still initialising.
import { describe, expect } from 'vitest';

import { waitUntilAsleep } from '../../testkit/asleep.js';
import { expectBounded, holdLockInChild, type LockHolder } from '../../testkit/bounds.js';
import { fixtures, spawnChild, spawnChildren } from '../../testkit/children.js';
import { graded, Severity } from '../../testkit/graded.js';
import { creatorCaughtInitialising } from '../../testkit/initialising.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../index.js';
import { patternBytes, sha1 } from './fixtures.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));
const wfx = fixtures<typeof import('./wait-fixtures.js')>(new URL('./wait-fixtures.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const holdLock = (name: string): Promise<LockHolder> => holdLockInChild(fx, name);

describe('phase 2: bounded waits', () => {
  graded(
    checklist.lifecycle,
    'get, getAsync and getMany of an object not sealed in time end after their timeout, not before and not long after (50 to 1500 ms); a missing id waits too',
    async () => {
      const store = ObjectStore.create(sandbox.segment('bounds'), { capacity: 1 << 16 });
      const unsealed = randomObjectId();
      store.create(unsealed, 10);
      const missing = randomObjectId();
      const pinsBefore = store.stats().pinned; // the creator's own pin on its unsealed object
      for (const timeoutMs of [50, 300, 999, 1500]) {
        const t0 = performance.now();
        expect(() => store.get(unsealed, { timeoutMs }), `get(unsealed, ${timeoutMs} ms)`).toThrowMiniRay('ERR_TIMEOUT');
        expectBounded(performance.now() - t0, timeoutMs, 'get()');
      }
      for (const timeoutMs of [300, 1001]) {
        const t0 = performance.now();
        await expect(store.getAsync(unsealed, { timeoutMs }), `getAsync(unsealed, ${timeoutMs} ms)`).toRejectMiniRay('ERR_TIMEOUT');
        expectBounded(performance.now() - t0, timeoutMs, 'getAsync()');
      }
      let t0 = performance.now();
      expect(store.getMany([unsealed, missing], { timeoutMs: 300 }), 'getMany of an unsealed and a missing id').toEqual([null, null]);
      expectBounded(performance.now() - t0, 300, 'getMany()');
      t0 = performance.now();
      expect(await store.getManyAsync([missing], { timeoutMs: 300 })).toEqual([null]);
      expectBounded(performance.now() - t0, 300, 'getManyAsync()');
      t0 = performance.now();
      expect(() => store.get(missing, { timeoutMs: 300 }), 'get of an id that was never created').toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
      expectBounded(performance.now() - t0, 300, 'get() of a missing id');
      expect(store.stats().pinned, 'waits that ended empty pin nothing').toBe(pinsBefore);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    checklist.lifecycle,
    'one seal wakes three processes asleep on the object (get, getAsync, getMany), while every process stays open',
    async () => {
      const name = sandbox.segment('three-waiters');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const id = randomObjectId();
      const other = store.put(Buffer.from('already sealed'));
      const waiters = await spawnChildren(3, { label: 'waiter' });
      const modes = ['sync', 'async', 'many'] as const;
      // Long timeouts: a waiter the seal does not wake returns seconds later (at its next re-check).
      // Every waiter stays open until all have returned: one that closed would wake the others.
      const waits = waiters.map((w, i) =>
        w.run(wfx, 'waitOne', { name, id, timeoutMs: 20_000, mode: modes[i] ?? 'sync', also: other, holdOpen: true }, 30_000),
      );
      for (const w of waiters) {
        await w.waitEvent('waiting');
        await waitUntilAsleep(w.pid, name);
      }
      const data = patternBytes(5, 3000);
      const view = store.create(id, data.length);
      data.copy(view);
      const pinsBefore = store.stats().pinned;
      const sealedAt = Date.now();
      store.seal(id);
      for (const w of waiters) await w.waitEvent('returned', 30_000);
      for (const w of waiters) w.signal('close');
      const results = await Promise.all(waits);
      results.forEach((r, i) => {
        expect(r.outcome, `the ${modes[i]} waiter`).toBe('ok');
        expect(r.sha1, `the ${modes[i]} waiter got the sealed bytes`).toBe(sha1(data));
        expect(r.returnedAt - sealedAt, `the ${modes[i]} waiter returned ${r.returnedAt - sealedAt} ms after the seal: it was not woken by it`).toBeLessThan(2000);
      });
      expect(store.stats().pinned, 'every waiter released its pins').toBe(pinsBefore);
      store.close();
    },
    { weight: Severity.behaviour, timeoutMs: 60_000 },
  );

  graded(
    checklist.lifecycle,
    'close() cancels its waiting gets at once: an untimed getAsync and a 20 s getManyAsync reject with ERR_CLOSED within a second or two',
    async () => {
      const name = sandbox.segment('close-wakes');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const unsealed = randomObjectId();
      store.create(unsealed, 10);
      const forever = store.getAsync(randomObjectId(), { timeoutMs: -1 });
      const long = store.getManyAsync([unsealed], { timeoutMs: 20_000 });
      forever.catch(() => undefined);
      long.catch(() => undefined);
      await waitUntilAsleep(process.pid, name);
      await sleep(50); // the second get goes to sleep too (two pool threads)
      const t0 = performance.now();
      store.close();
      await expect(forever, 'the untimed getAsync').toRejectMiniRay('ERR_CLOSED');
      await expect(long, 'the 20 s getManyAsync').toRejectMiniRay('ERR_CLOSED');
      expect(performance.now() - t0, 'close() woke its waiters itself: they did not wait for a periodic re-check').toBeLessThan(2000);
    },
    { weight: Severity.behaviour },
  );
});

describe('phase 2: the lock', () => {
  graded(
    checklist.stress,
    'every operation waits for a lock another process holds: each fails with ERR_LOCK_TIMEOUT after lockTimeoutMs, and nothing changed',
    async () => {
      const name = sandbox.segment('every-op');
      const store = ObjectStore.create(name, { capacity: 1 << 16, lockTimeoutMs: 200 });
      const sealed = store.put(Buffer.from('sealed'));
      const spare = store.put(Buffer.from('spare'));
      const unsealed = randomObjectId();
      store.create(unsealed, 10);
      store.get(sealed); // a pin, so that release() has something to do
      const before = store.stats();
      const holder = await holdLock(name);
      const ops: Array<[string, () => unknown]> = [
        ['create', () => store.create(randomObjectId(), 10)],
        ['seal', () => store.seal(unsealed)],
        ['abort', () => store.abort(unsealed)],
        ['put', () => store.put(Buffer.from('x'))],
        ['get', () => store.get(sealed)],
        ['getMany', () => store.getMany([sealed, spare])],
        ['release', () => store.release(sealed)],
        ['contains', () => store.contains(sealed)],
        ['delete', () => store.delete(spare)],
        ['stats', () => store.stats()],
      ];
      for (const [op, fn] of ops) {
        const t0 = performance.now();
        expect(fn, `${op}() while another process holds the lock`).toThrowMiniRay('ERR_LOCK_TIMEOUT');
        expectBounded(performance.now() - t0, 200, `${op}()`);
      }
      const t0 = performance.now();
      await expect(store.getAsync(sealed), 'getAsync() while another process holds the lock').toRejectMiniRay('ERR_LOCK_TIMEOUT');
      expectBounded(performance.now() - t0, 200, 'getAsync()');
      await holder.release();
      const after = store.stats();
      expect([after.objectCount, after.sealedCount, after.pinned, after.usedBytes], 'objects, sealed, pins, bytes: unchanged').toEqual([
        before.objectCount,
        before.sealedCount,
        before.pinned,
        before.usedBytes,
      ]);
      expect(store.contains(spare)).toBe(true);
      store.release(sealed);
      store.close();
    },
    { weight: Severity.data },
  );
});

describe('phase 2: opening a store that is being created', () => {
  graded(
    checklist.lifecycle,
    'open() while the creator is still initialising waits for it, then sees the finished store and its objects',
    async () => {
      const caught = await creatorCaughtInitialising(wfx, () => sandbox.segment('initialising'));
      const { name, creator, capacity, running } = caught;
      const opener = await spawnChild({ label: 'opener' });
      const opening = opener.run(wfx, 'openAndRead', { name, lockTimeoutMs: 10_000 }, 30_000);
      await opener.waitEvent('opening');
      await Promise.race([sleep(300), opening.catch(() => undefined)]);
      process.kill(creator.pid, 'SIGCONT');
      // The creator's own failure (an unfinished create, say) ends the wait with its message.
      const id = (await Promise.race([creator.waitEvent('put'), running.then(() => undefined)])) as ObjectId;
      await Promise.race([opener.waitEvent('opened', 20_000), opening]);
      opener.signal('read', id);
      const r = await opening;
      expect(r.outcome, `open() during initialisation: ${r.message}`).toBe('ok');
      expect(r.capacity ?? 0, 'the opener sees the finished header').toBeGreaterThanOrEqual(capacity);
      expect(r.read, "the opener reads the creator's object").toBe('made by the creator');
      creator.signal('close');
      await running;
    },
    { weight: Severity.behaviour, timeoutMs: 60_000 },
  );
});
