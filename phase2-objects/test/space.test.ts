// Deletion reuses space in the store: the allocator of checklist 2.2 (allocator-alone.test.ts) again,
// through ObjectStore's create and delete (checklist 2.4).
import { describe, expect } from 'vitest';

import { graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../index.js';

const sandbox = useSandbox();
const item = checklist.refcount;
const CAPACITY = 256 * 1024;

describe('phase 2: the allocator', () => {
  graded(item, 'deleted space is reused: ten rounds of filling the store to 80% and deleting it all', () => {
    const store = ObjectStore.create(sandbox.segment('reuse'), { capacity: CAPACITY, tableSize: 256 });
    for (let round = 0; round < 10; round += 1) {
      const ids: ObjectId[] = [];
      for (let i = 0; i < 50; i += 1) ids.push(store.put(Buffer.alloc(4000, round)));
      ids.forEach((id) => store.delete(id));
    }
    expect(store.stats().usedBytes).toBe(0);
    store.close();
  });

  graded(item, 'three deleted neighbours leave room for one object as large as all three', () => {
    const store = ObjectStore.create(sandbox.segment('merge'), { capacity: CAPACITY });
    const third = Math.floor(CAPACITY / 3) - 4096;
    const ids = [0, 1, 2].map((i) => store.put(Buffer.alloc(third, i)));
    for (const i of [0, 2, 1]) store.delete(ids[i] as ObjectId);
    const big = randomObjectId();
    expect(() => store.create(big, Math.floor(CAPACITY * 0.9)), 'the merged free space holds it').not.toThrow();
    store.close();
  });

  graded(item, 'an object that does not fit is ERR_SHM_FULL and leaves nothing behind', () => {
    const store = ObjectStore.create(sandbox.segment('full'), { capacity: CAPACITY });
    const keep = store.put(Buffer.alloc(1000, 1));
    const before = store.stats();
    const id = randomObjectId();
    expect(() => store.create(id, before.capacity)).toThrowMiniRay('ERR_SHM_FULL');
    const after = store.stats();
    expect(after.objectCount).toBe(before.objectCount);
    expect(after.usedBytes).toBe(before.usedBytes);
    store.create(id, 10);
    expect(store.get(keep).equals(Buffer.alloc(1000, 1))).toBe(true);
    store.close();
  });
});
