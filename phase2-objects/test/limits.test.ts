// Checklist 2.4: boundaries on both sides (largestFree is exact), and what stats() says
// after long churn.
import { describe, expect } from 'vitest';

import { graded, Severity } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId, type ObjectId, type ObjectStoreStats } from '../index.js';
import { checkedObject, verifyChecked } from './fixtures.js';

const sandbox = useSandbox();

// A deterministic generator, so that a failure replays exactly.
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

describe('phase 2: limits', () => {
  graded(
    checklist.refcount,
    'largestFree is exact: an object of largestFree bytes fits and one byte more is ERR_SHM_FULL, in a fresh store and in a hole between objects',
    () => {
      const store = ObjectStore.create(sandbox.segment('largest'), { capacity: 256 * 1024, tableSize: 64 });
      const fresh = store.stats().largestFree;
      expect(fresh, 'a fresh store can hold almost all of its capacity in one object').toBeGreaterThan(200 * 1024);
      const probe = randomObjectId();
      expect(() => store.create(probe, fresh + 1), `one byte more than largestFree (${fresh})`).toThrowMiniRay('ERR_SHM_FULL');
      store.create(probe, fresh);
      expect(store.stats().largestFree, 'nothing left after the exact fit').toBe(0);
      store.abort(probe);
      expect(store.stats().largestFree, 'the space came back whole').toBe(fresh);
      // A hole between two objects, and no room after them: the hole is the largest free block.
      const left = store.put(checkedObject(1, 10_000));
      const middle = store.put(checkedObject(2, 50_000));
      const right = store.put(checkedObject(3, 10_000));
      const tail = randomObjectId();
      store.create(tail, store.stats().largestFree);
      store.seal(tail);
      store.delete(middle);
      const hole = store.stats().largestFree;
      expect(hole, 'the hole holds at least what was deleted').toBeGreaterThanOrEqual(50_000);
      expect(() => store.create(randomObjectId(), hole + 1), `one byte more than the hole (${hole})`).toThrowMiniRay('ERR_SHM_FULL');
      const filler = randomObjectId();
      store.create(filler, hole).fill(0xee);
      store.seal(filler);
      for (const id of [left, right]) expect(verifyChecked(store.get(id)), 'the neighbours of the hole are intact').toBe(true);
      expect(store.get(filler).every((b) => b === 0xee)).toBe(true);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    checklist.refcount,
    'stats() after churn: an empty slot always remains, used + free = capacity, and once all is deleted the space is one block of the first size again',
    () => {
      const tableSize = 64;
      const store = ObjectStore.create(sandbox.segment('churn-stats'), { capacity: 1 << 20, tableSize });
      const start = store.stats();
      const rand = rng(77);
      const live: ObjectId[] = [];
      let seed = 0;
      const check = (s: ObjectStoreStats, when: string): void => {
        expect(s.tombstones + s.objectCount, `${when}: tombstones and objects fill the table, so a miss never ends`).toBeLessThan(tableSize);
        expect(s.usedBytes + s.freeBytes, `${when}: used + free`).toBe(s.capacity);
        expect(s.objectCount, `${when}: objects`).toBe(live.length);
        expect(s.sealedCount, `${when}: sealed`).toBe(live.length);
        expect(s.pinned, `${when}: pins`).toBe(0);
      };
      for (let round = 0; round < 40; round += 1) {
        while (live.length < 50) {
          const id = randomObjectId();
          seed += 1;
          if (rand(5) === 0) {
            store.create(id, 8 + rand(9000));
            store.abort(id);
            continue;
          }
          store.put(checkedObject(seed, 8 + rand(9000)), id);
          live.push(id);
        }
        for (let k = 0; k < 25; k += 1) {
          const [victim] = live.splice(rand(live.length), 1);
          store.delete(victim as ObjectId);
        }
        check(store.stats(), `round ${round}`);
      }
      for (const id of live.splice(0)) {
        expect(verifyChecked(store.get(id)), `object ${id}`).toBe(true);
        store.release(id);
        store.delete(id);
      }
      const end = store.stats();
      check(end, 'everything deleted');
      expect(end.usedBytes, 'no block leaked').toBe(0);
      expect(end.freeBlocks, 'the free space merged back into one block').toBe(1);
      expect(end.largestFree, 'as large as in the fresh store').toBe(start.largestFree);
      store.close();
    },
    { weight: Severity.behaviour },
  );
});
