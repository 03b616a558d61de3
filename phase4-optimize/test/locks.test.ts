// Checklist 4.4: finer-grained locks.
import { describe, expect } from 'vitest';

import { barrier, fixtures, spawnChild, spawnChildren, type Child } from '../../testkit/children.js';
import { expectBounded } from '../../testkit/bounds.js';
import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId, type LockRef } from '../index.js';
import { checkedObject, idsOfStripe, type TimedOp, type TimedOutcome } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.locks;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));
const TIMEOUT = 400;

// Runs `ops` in a second process while a third holds `lock`; the holder lets go afterwards.
async function whileHeld(name: string, lock: LockRef, ops: TimedOp[]): Promise<TimedOutcome[]> {
  const runner = await spawnChild({ label: 'runner' });
  const results = runner.run(fx, 'timedOps', { name, lockTimeoutMs: TIMEOUT, ops }, 30_000);
  await runner.waitEvent('ready');
  const holder: Child = await spawnChild({ label: 'holder' });
  void holder.run(fx, 'holdLock', { name, lock }).catch(() => undefined);
  await holder.waitEvent('locked');
  runner.signal('go');
  const out = await results;
  holder.signal('release');
  return out;
}

describe('phase 4: striped locks', () => {
  graded(
    item,
    "while another process holds one stripe's lock, ids of other stripes go on, and a get in that stripe times out on time",
    async () => {
      const name = sandbox.segment('stripe');
      const store = ObjectStore.create(name, { capacity: 1 << 20, stripes: 4 });
      const held = idsOfStripe(1, 4, 1)[0]!;
      const free = idsOfStripe(1, 4, 2)[0]!;
      store.put(Buffer.from('held'), held);
      store.put(Buffer.from('free'), free);
      const [other, blocked, create] = await whileHeld(name, { stripe: 1 }, [
        { op: 'getRelease', id: free },
        { op: 'get', id: held },
        { op: 'create', id: idsOfStripe(1, 4, 1)[0]!, size: 10 },
      ]);
      expect(other!.outcome, 'an id of another stripe').toBe('ok');
      expect(other!.elapsedMs, 'without waiting for the held stripe').toBeLessThan(TIMEOUT);
      expect(blocked!.outcome, 'a get in the held stripe').toBe('ERR_LOCK_TIMEOUT');
      expectBounded(blocked!.elapsedMs, TIMEOUT, 'get in a held stripe');
      expect(create!.outcome, 'a create in the held stripe').toBe('ERR_LOCK_TIMEOUT');
      expectBounded(create!.elapsedMs, TIMEOUT, 'create in a held stripe');
      expect(store.stats().objectCount, 'the create made nothing').toBe(2);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'while another process holds the allocator lock, get, release and contains go on, and a create times out on time',
    async () => {
      const name = sandbox.segment('alloc');
      const store = ObjectStore.create(name, { capacity: 1 << 20, stripes: 4 });
      const id = store.put(Buffer.from('here'));
      const [get, contains, create] = await whileHeld(name, 'allocator', [
        { op: 'getRelease', id },
        { op: 'contains', id },
        { op: 'create', id: randomObjectId(), size: 10 },
      ]);
      expect(get!.outcome).toBe('ok');
      expect(get!.elapsedMs).toBeLessThan(TIMEOUT);
      expect(contains!.outcome).toBe('ok');
      expect(create!.outcome, 'a create needs the allocator').toBe('ERR_LOCK_TIMEOUT');
      expectBounded(create!.elapsedMs, TIMEOUT, 'create while the allocator is held');
      expect(store.stats().objectCount).toBe(1);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'while another process holds the LRU lock, gets (first pins too) and contains go on, the last release of the newest object goes on, and a last release that must move an object times out on time, keeping its pin',
    async () => {
      const name = sandbox.segment('lru');
      const store = ObjectStore.create(name, { capacity: 1 << 20, stripes: 4 });
      const older = store.put(Buffer.from('older'));
      const newest = store.put(Buffer.from('newest')); // the tail of the LRU list
      const [first, pair, contains, release] = await whileHeld(name, 'lru', [
        { op: 'get', id: older },
        { op: 'getRelease', id: newest },
        { op: 'contains', id: older },
        { op: 'release', id: older },
      ]);
      expect(first!.outcome, 'a first pin leaves the object where it is on the list: no LRU lock').toBe('ok');
      expect(first!.elapsedMs).toBeLessThan(TIMEOUT);
      expect(pair!.outcome, 'get + release of the most recently used object: nothing to move').toBe('ok');
      expect(pair!.elapsedMs).toBeLessThan(TIMEOUT);
      expect(contains!.outcome).toBe('ok');
      expect(release!.outcome, 'the last release of an older object moves it to the tail').toBe('ERR_LOCK_TIMEOUT');
      expectBounded(release!.elapsedMs, TIMEOUT, 'a last release while the LRU lock is held');
      const s = store.stats();
      expect(s.pinned, 'the release that timed out gave nothing back (nor could its close)').toBe(1);
      expect(s.evictable, 'only the unpinned object is evictable').toBe(1);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'four processes on distinct and shared ids: every lock counts its acquisitions, and no lock is ever waited for out of order',
    async () => {
      const name = sandbox.segment('order');
      const store = ObjectStore.create(name, { capacity: 1 << 19, stripes: 8, slotsPerStripe: 128 });
      const shared = [0, 1, 2, 3].map((i) => store.put(checkedObject(i, 100 + i * 3000)));
      const children = await spawnChildren(4);
      const runs = children.map((c, i) =>
        c.run(fx, 'churn', { name, child: i, ops: 600, seed: 11, maxSize: 20_000, shared }, 90_000),
      );
      await barrier(children);
      const reports = await Promise.all(runs);
      for (const r of reports) expect(r.failures, 'failures inside a child').toEqual([]);
      const s = store.stats();
      expect(s.lockOrderViolations, 'blocking acquisitions against the lock order').toBe(0);
      const stripeAcquisitions = s.locks.stripes.reduce((n, l) => n + l.acquisitions, 0);
      const created = reports.reduce((n, r) => n + r.created, 0);
      expect(stripeAcquisitions, 'every operation took a stripe lock').toBeGreaterThanOrEqual(4 * 600);
      expect(s.locks.allocator.acquisitions, 'every create took the allocator lock').toBeGreaterThanOrEqual(created);
      expect(s.evictions, 'the store was too small: eviction ran').toBeGreaterThan(0);
      expect(s.pinned).toBe(0);
      store.close();
    },
    { weight: Severity.data, timeoutMs: 120_000 },
  );
});
