// Checklist 4.2: LRU eviction.
import { describe, expect } from 'vitest';

import '../../testkit/matchers.js';
import { fixtures, spawnChild } from '../../testkit/children.js';
import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../index.js';
import { checkedObject, verifyChecked } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.lru;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

// Objects too large for the pool, four of which fill the store: the fifth needs an eviction.
const BIG = 60_000;
function fourBig(tag: string): { name: string; store: ObjectStore; ids: ObjectId[] } {
  const name = sandbox.segment(tag);
  const store = ObjectStore.create(name, { capacity: 4 * (BIG + 64) + 1000, stripes: 4 });
  const ids = [0, 1, 2, 3].map((i) => store.put(checkedObject(i, BIG)));
  expect(store.stats().largestFree, 'a fifth object does not fit').toBeLessThan(BIG);
  return { name, store, ids };
}

describe('phase 4: LRU eviction', () => {
  graded(
    item,
    'a create that does not fit evicts exactly the least recently released object, counts it and logs its id',
    () => {
      const { store, ids } = fourBig('lru');
      const [a, b, c, d] = ids as [ObjectId, ObjectId, ObjectId, ObjectId];
      store.get(a);
      store.release(a); // a is now the most recently used: b is the oldest
      const e = store.put(checkedObject(9, BIG));
      expect(store.contains(b), 'the least recently released object was evicted').toBe(false);
      for (const id of [a, c, d, e]) expect(store.contains(id), `object ${id} stays`).toBe(true);
      const s = store.stats();
      expect(s.evictions).toBe(1);
      expect(s.evictedBytes).toBe(BIG);
      expect(store.evictedSince(0)).toEqual({ ids: [b], now: 1, lost: 0 });
      expect(store.evictedSince(1).ids, 'nothing since').toEqual([]);
      expect(() => store.get(b)).toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'recency is shared: an object read and released by another process is evicted after the ones nobody read',
    async () => {
      const { name, store, ids } = fourBig('shared');
      const child = await spawnChild({ label: 'reader' });
      await child.run(fx, 'touch', { name, ids: [ids[0]!, ids[1]!] });
      store.put(checkedObject(8, BIG));
      store.put(checkedObject(9, BIG));
      expect(store.evictedSince(0).ids, 'the two objects nobody read, oldest first').toEqual([ids[2], ids[3]]);
      for (const id of [ids[0]!, ids[1]!]) {
        expect(verifyChecked(store.get(id)), `object ${id} read by the other process survives intact`).toBe(true);
        store.release(id);
      }
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a pinned object is never evicted: pins in another process protect it, and with everything pinned create is ERR_SHM_FULL',
    async () => {
      const { name, store, ids } = fourBig('pins');
      const child = await spawnChild({ label: 'pinner' });
      const pinning = child.run(fx, 'pinAndHold', { name, id: ids[0]! });
      // Fails at once when the pin fails, rather than waiting for an event that never comes.
      await Promise.race([child.waitEvent('pinned'), pinning.then(() => Promise.reject(new Error('pinAndHold returned before pinning')))]);
      store.get(ids[1]!);
      store.get(ids[2]!);
      store.get(ids[3]!);
      expect(() => store.put(checkedObject(9, BIG))).toThrowMiniRay('ERR_SHM_FULL');
      expect(store.stats().evictions, 'nothing evicted').toBe(0);
      store.release(ids[2]!);
      store.put(checkedObject(9, BIG));
      expect(store.evictedSince(0).ids, 'only the one unpinned object').toEqual([ids[2]]);
      for (const id of [ids[0]!, ids[1]!, ids[3]!]) expect(store.contains(id)).toBe(true);
      expect(store.stats().repairs, 'nobody died: no repair was needed').toBe(0);
      child.signal('release');
      await pinning;
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a create that would not fit even with every unpinned object evicted fails with ERR_SHM_FULL and evicts nothing',
    () => {
      const { store, ids } = fourBig('toobig');
      store.get(ids[0]!); // pinned: not evictable
      const s = store.stats();
      // Even with every other object evicted, the pinned block leaves less than this in one piece.
      const tooBig = s.capacity - BIG;
      expect(() => store.create(randomObjectId(), tooBig)).toThrowMiniRay('ERR_SHM_FULL');
      const after = store.stats();
      expect(after.evictions, 'nothing evicted needlessly').toBe(0);
      expect(after.objectCount).toBe(4);
      store.release(ids[0]!);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'an object exactly the size of the largest free block fits without evicting; one byte more evicts',
    () => {
      const name = sandbox.segment('exact');
      const store = ObjectStore.create(name, { capacity: 1 << 18 });
      const first = store.put(checkedObject(1, 50_000));
      store.put(checkedObject(2, 50_000)); // next to the free space
      store.get(first);
      store.release(first); // so the neighbour of the free space is the least recently used
      const exact = store.stats().largestFree;
      const id = store.put(checkedObject(3, exact));
      expect(store.stats().evictions, 'an exact fit evicts nothing').toBe(0);
      store.delete(id);
      store.put(checkedObject(4, exact + 1));
      expect(store.stats().evictions, 'one byte more: one eviction').toBe(1);
      store.close();
    },
  );
});
