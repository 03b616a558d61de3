// Hidden, checklist 4.2 and 4.4: eviction's corners.
import { describe, expect } from 'vitest';

import '../../../testkit/matchers.js';
import { fixtures, spawnChild } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase4-optimize/checklist.js';
import { EVICTION_LOG, ObjectStore, type ObjectId } from '../../../phase4-optimize/index.js';
import { checkedObject, idsOfStripe, outcome, verifyChecked } from '../../../phase4-optimize/test/fixtures.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('../../../phase4-optimize/test/fixtures.js')>(
  new URL('../../../phase4-optimize/test/fixtures.ts', import.meta.url),
);
const evictionFx = fixtures<typeof import('./eviction-fixtures.js')>(new URL('./eviction-fixtures.ts', import.meta.url));
const BIG = 60_000;

describe('phase 4 (hidden): eviction', () => {
  graded(
    checklist.lru,
    'with small objects too: a create that could never fit, even with everything unpinned evicted, evicts nothing at all',
    () => {
      const store = ObjectStore.create(sandbox.segment('toobig'), { capacity: 1 << 20, stripes: 4 });
      const ids: ObjectId[] = [];
      for (let i = 0; i < 40; i += 1) ids.push(store.put(checkedObject(i, 200 + i * 50)));
      ids.push(store.put(checkedObject(99, 100_000)));
      store.get(ids[0]!); // keeps its slab: no run of free space can be longer than the rest
      const tooBig = store.stats().capacity - 65_600;
      expect(() => store.put(checkedObject(5, tooBig))).toThrowMiniRay('ERR_SHM_FULL');
      expect(store.stats().evictions, 'nothing evicted for a create that could never fit').toBe(0);
      for (const id of ids) expect(store.contains(id), `object ${id}`).toBe(true);
      store.release(ids[0]!);
      store.put(checkedObject(6, tooBig)); // with the pin gone it can fit: by evicting
      expect(store.stats().evictions, 'a create that can fit does evict').toBeGreaterThan(0);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.lru,
    'an object that was read and released is evictable again, in the order of the releases',
    () => {
      const store = ObjectStore.create(sandbox.segment('again'), { capacity: 4 * (BIG + 64) + 1000, stripes: 4 });
      const ids = [0, 1, 2, 3].map((i) => store.put(checkedObject(i, BIG)));
      for (const i of [2, 0, 3, 1]) {
        store.get(ids[i]!);
        store.release(ids[i]!);
      }
      store.put(checkedObject(8, BIG));
      store.put(checkedObject(9, BIG));
      expect(store.evictedSince(0).ids, 'the two released first').toEqual([ids[2], ids[0]]);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.lru,
    'small objects are evicted in recency order too: the least recently released slot goes, the rest stay',
    () => {
      // One slab of the 4096 class (15 slots) fits, a second does not: the 16th small object
      // needs a slot freed by eviction.
      const store = ObjectStore.create(sandbox.segment('small'), { capacity: 70_000, stripes: 4 });
      const ids: ObjectId[] = [];
      for (let i = 0; i < 15; i += 1) ids.push(store.put(checkedObject(i, 4000)));
      store.get(ids[0]!);
      store.release(ids[0]!);
      const late = store.put(checkedObject(99, 4000));
      expect(store.evictedSince(0).ids, 'the least recently released small object').toEqual([ids[1]]);
      for (const id of [ids[0]!, ...ids.slice(2), late]) {
        expect(verifyChecked(store.get(id)), `object ${id}`).toBe(true);
        store.release(id);
      }
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.lru,
    'the eviction log keeps the last 64 ids in order and says how many fell out of it',
    () => {
      const store = ObjectStore.create(sandbox.segment('log'), { capacity: 2 * (BIG + 64) + 500, stripes: 8 });
      const order: ObjectId[] = [];
      for (let i = 0; i < EVICTION_LOG + 8; i += 1) order.push(store.put(checkedObject(i, BIG)));
      const evicted = order.slice(0, order.length - 2);
      const all = store.evictedSince(0);
      expect(all.now).toBe(evicted.length);
      expect(all.lost, 'evictions older than the log').toBe(evicted.length - EVICTION_LOG);
      expect(all.ids).toEqual(evicted.slice(-EVICTION_LOG));
      const recent = store.evictedSince(evicted.length - 3);
      expect(recent).toEqual({ ids: evicted.slice(-3), now: evicted.length, lost: 0 });
      expect(() => store.evictedSince(evicted.length + 1)).toThrowMiniRay('ERR_INVALID_ARGUMENT');
      store.close();
    },
  );

  graded(
    checklist.locks,
    "a victim whose stripe another process holds is skipped, never waited for: the next one is evicted, no lock taken out of order",
    async () => {
      const name = sandbox.segment('skip');
      const store = ObjectStore.create(name, { capacity: 3 * (BIG + 64) + 500, stripes: 4, lockTimeoutMs: 2000 });
      const [a] = idsOfStripe(1, 4, 1);
      const [b] = idsOfStripe(1, 4, 2);
      const [c, d] = idsOfStripe(2, 4, 3);
      store.put(checkedObject(1, BIG), a);
      store.put(checkedObject(2, BIG), b);
      store.put(checkedObject(3, BIG), c);
      const child = await spawnChild({ label: 'holder' });
      const held = child.run(fx, 'holdLock', { name, lock: { stripe: 1 } });
      await child.waitEvent('locked');
      const t0 = performance.now();
      store.put(checkedObject(4, BIG), d);
      expect(performance.now() - t0, 'the create did not wait for the held stripe').toBeLessThan(1500);
      child.signal('release');
      await held;
      const s = store.stats();
      expect(store.evictedSince(0).ids, 'the oldest object whose stripe was free').toEqual([b]);
      expect(s.lockOrderViolations).toBe(0);
      expect(s.locks.stripes[1]!.tryFailures, 'the held stripe was tried once and skipped').toBeGreaterThanOrEqual(1);
      expect(store.contains(a!)).toBe(true);
      store.close();
    },
    { weight: Severity.data },
  );
  graded(
    checklist.locks,
    'an eviction walk meets a pinned object whose stripe another process holds: it evicts from a free stripe, or, when only the held stripe could make room, retries and times out on time with nothing evicted; the pinned object is never evicted',
    async () => {
      const name = sandbox.segment('busypin');
      const lockTimeoutMs = 800;
      const store = ObjectStore.create(name, { capacity: 3 * (BIG + 64) + 500, stripes: 4, lockTimeoutMs });
      const [a, c] = idsOfStripe(2, 4, 1); // the held stripe: a pinned there, c unpinned
      const [b, e] = idsOfStripe(2, 4, 2);
      const [d] = idsOfStripe(1, 4, 3);
      store.put(checkedObject(1, BIG), a); // oldest, and the child pins it: a get leaves it on the list
      store.put(checkedObject(2, BIG), c);
      store.put(checkedObject(3, BIG), b);
      const child = await spawnChild({ label: 'pinner' });
      const holding = child.run(evictionFx, 'pinAndHoldStripe', { name, id: a!, stripe: 1 });
      await Promise.race([child.waitEvent('locked'), holding.then(() => Promise.reject(new Error('pinAndHoldStripe returned before locking')))]);

      // One victim needed: the two oldest are in the held stripe (one pinned, one not): b goes.
      store.put(checkedObject(4, BIG), d);
      expect(store.evictedSince(0).ids, 'the oldest object of a stripe nobody holds').toEqual([b]);

      // Room only by evicting c with d, and c's stripe is held: retry, then time out on time.
      const t0 = performance.now();
      const first = outcome(() => store.put(checkedObject(5, 2 * BIG), e));
      const elapsed = performance.now() - t0;
      expect(first, 'a create whose only victims are in a held stripe').toBe('ERR_LOCK_TIMEOUT');
      expect(elapsed, 'it retried for the lock timeout').toBeGreaterThanOrEqual(lockTimeoutMs - 20);
      expect(elapsed, 'and gave up soon after it').toBeLessThan(lockTimeoutMs * 5);
      expect(store.evictedSince(1).ids, 'nothing evicted by a create that failed').toEqual([]);
      expect(store.contains(d!)).toBe(true);

      // The stripe let go of (the pin kept): the pinned object is stepped over, c and d go.
      child.signal('unlock');
      await child.waitEvent('unlocked');
      store.put(checkedObject(5, 2 * BIG), e);
      expect(store.evictedSince(1).ids, 'the unpinned objects, oldest first').toEqual([c, d]);
      expect(verifyChecked(store.get(a!)), 'the pinned object, intact in this process').toBe(true);
      store.release(a!);
      expect(ObjectStore.check(name).problems).toEqual([]);
      child.signal('release');
      expect(await holding, 'the pinned object, intact in the process that pinned it').toBe(true);
      const s = store.stats();
      expect(s.lockOrderViolations, 'no lock waited for out of order').toBe(0);
      expect(s.evictable, 'a and e, nobody pins them now').toBe(2);
      expect(store.contains(a!)).toBe(true);
      store.close();
    },
    { weight: Severity.data, timeoutMs: 30_000 },
  );

  graded(
    checklist.lru,
    'a pinned object a get left on the LRU list is stepped over by eviction, and its release in another process makes it the most recently used: evicted after every object released before it, never lost',
    async () => {
      const name = sandbox.segment('stepover');
      const store = ObjectStore.create(name, { capacity: 4 * (BIG + 64) + 1000, stripes: 4 });
      const ids = [0, 1, 2, 3].map((i) => store.put(checkedObject(i, BIG))); // oldest first
      const child = await spawnChild({ label: 'reader' });
      const pinning = child.run(fx, 'pinAndHold', { name, id: ids[0]! });
      await Promise.race([child.waitEvent('pinned'), pinning.then(() => Promise.reject(new Error('pinAndHold returned before pinning')))]);
      const e = store.put(checkedObject(4, BIG));
      expect(store.evictedSince(0).ids, 'the oldest object nobody pins, not the pinned one before it').toEqual([ids[1]]);
      expect(verifyChecked(store.get(ids[0]!)), 'the pinned object, intact').toBe(true);
      store.release(ids[0]!); // not its last pin: the reader still holds one
      expect(ObjectStore.check(name).problems, 'the segment checker, with a pinned object stepped over').toEqual([]);
      child.signal('release');
      await pinning; // the reader's release: its last pin, in another process
      expect(store.stats().evictable, 'every object is evictable again').toBe(4);
      const later = [5, 6, 7].map((i) => store.put(checkedObject(i, BIG)));
      expect(store.evictedSince(1).ids, 'the objects released before the reader let go').toEqual([ids[2], ids[3], e]);
      expect(verifyChecked(store.get(ids[0]!)), 'released last, still there').toBe(true);
      store.release(ids[0]!); // now the most recently used again, in this process
      store.put(checkedObject(8, BIG));
      expect(store.evictedSince(4).ids, 'the oldest release now').toEqual([later[0]]);
      store.put(checkedObject(9, BIG));
      store.put(checkedObject(10, BIG));
      store.put(checkedObject(11, BIG));
      expect(store.evictedSince(5).ids, 'and at last the object the reader pinned').toEqual([later[1], later[2], ids[0]]);
      expect(ObjectStore.check(name).problems).toEqual([]);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.lru,
    'a create that could fit only by evicting objects gets have pinned (and left on the list) fails with ERR_SHM_FULL and evicts nothing',
    () => {
      const name = sandbox.segment('pinnedroom');
      const store = ObjectStore.create(name, { capacity: 4 * (BIG + 64) + 1000, stripes: 4 });
      const ids = [0, 1, 2, 3].map((i) => store.put(checkedObject(i, BIG)));
      store.get(ids[0]!);
      store.get(ids[2]!);
      const triple = 3 * BIG; // room for it needs three of the four objects gone: one is pinned
      expect(() => store.put(checkedObject(7, triple))).toThrowMiniRay('ERR_SHM_FULL');
      expect(store.stats().evictions, 'nothing evicted for a create that could not fit').toBe(0);
      for (const id of ids) expect(store.contains(id), `object ${id}`).toBe(true);
      store.release(ids[0]!);
      store.release(ids[2]!);
      store.put(checkedObject(8, triple)); // with the pins gone it fits: by evicting
      expect(store.stats().evictions, 'a create that can fit does evict').toBeGreaterThan(0);
      expect(ObjectStore.check(name).problems).toEqual([]);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.lru,
    'unpinned objects whose bytes add up to a create but lie apart, a pinned object between them, are not evicted: ERR_SHM_FULL, nothing evicted',
    () => {
      const name = sandbox.segment('apart');
      const store = ObjectStore.create(name, { capacity: 4 * (BIG + 64) + 1000, stripes: 4 });
      const ids = [0, 1, 2, 3].map((i) => store.put(checkedObject(i, BIG))); // four blocks in a row
      store.get(ids[1]!); // pinned: between the unpinned 0 and 2
      store.get(ids[3]!); // pinned: after 2
      const double = 2 * BIG; // 0 and 2 hold more bytes than that, but in two pieces
      expect(() => store.put(checkedObject(7, double))).toThrowMiniRay('ERR_SHM_FULL');
      expect(store.stats().evictions, 'nothing evicted for a create that could not fit').toBe(0);
      for (const id of ids) expect(store.contains(id), `object ${id}`).toBe(true);
      store.release(ids[1]!); // now the newest: evicted last, after the pinned 3 is stepped over
      store.put(checkedObject(8, double)); // one at a time, oldest first: 0, 2, then 1 joins them
      expect(store.evictedSince(0).ids, 'in recency order, until the three in a row made room').toEqual([ids[0], ids[2], ids[1]]);
      expect(verifyChecked(store.get(ids[3]!)), 'the pinned object, intact').toBe(true);
      store.release(ids[3]!);
      store.release(ids[3]!);
      expect(ObjectStore.check(name).problems).toEqual([]);
      store.close();
    },
    { weight: Severity.data },
  );
});
