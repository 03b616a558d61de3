// Checklist 4.3: the object pool.
import { describe, expect } from 'vitest';

import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, SIZE_CLASSES, SLAB_BYTES, type ObjectId } from '../index.js';
import { checkedObject, verifyChecked } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.pool;
const HEADER = 64; // a block header
const SLAB_HEADER = 256;

describe('phase 4: the object pool', () => {
  graded(item, 'objects up to 4096 bytes take a slot of the smallest class that holds them; 4097 bytes go to the free list', () => {
    const store = ObjectStore.create(sandbox.segment('classes'), { capacity: 1 << 20 });
    const base = store.stats().usedBytes;
    for (const [size, cls] of [[1, 0], [64, 0], [65, 1], [4095, 6], [4096, 6]] as const) {
      expect(ObjectStore.sizeClassOf(size), `class of ${size} bytes`).toBe(cls);
    }
    store.put(Buffer.alloc(65, 1));
    let s = store.stats();
    expect(s.pool).toMatchObject({ slabs: 1, usedSlots: 1, slotBytes: 128 });
    expect(s.usedBytes - base, 'one slab block').toBe(SLAB_BYTES + HEADER);
    store.put(Buffer.alloc(4096, 2));
    s = store.stats();
    expect(s.pool).toMatchObject({ slabs: 2, usedSlots: 2, slotBytes: 128 + 4096 });
    const before = s.usedBytes;
    store.put(Buffer.alloc(4097, 3));
    s = store.stats();
    expect(s.pool.usedSlots, '4097 bytes are not a slot').toBe(2);
    expect(s.usedBytes - before, 'a block of its own').toBe(4097 + 63 - ((4097 + 63) % 64) + HEADER);
    store.close();
  });

  graded(
    item,
    'a slab of a class holds exactly its slots: the last one fills it, one more takes a second slab, freed slots count as fragmentation',
    () => {
      const store = ObjectStore.create(sandbox.segment('slab'), { capacity: 1 << 20, stripes: 64, slotsPerStripe: 64 });
      const perSlab = Math.floor((SLAB_BYTES - SLAB_HEADER) / SIZE_CLASSES[0]);
      const ids: ObjectId[] = [];
      for (let i = 0; i < perSlab; i += 1) ids.push(store.put(checkedObject(i, 64)));
      expect(store.stats().pool).toMatchObject({ slabs: 1, usedSlots: perSlab, freeSlotBytes: 0 });
      ids.push(store.put(checkedObject(perSlab, 64)));
      expect(store.stats().pool).toMatchObject({ slabs: 2, usedSlots: perSlab + 1 });
      for (let i = 0; i < perSlab; i += 2) store.delete(ids[i]!);
      const s = store.stats().pool;
      expect(s.usedSlots).toBe(perSlab + 1 - perSlab / 2);
      expect(s.freeSlotBytes, 'free slots inside held slabs').toBe((2 * perSlab - s.usedSlots) * 64);
      for (let i = 1; i < ids.length; i += 2) expect(verifyChecked(store.get(ids[i]!)), 'survivors intact').toBe(true);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'churn of small objects reuses slots and gives empty slabs back: memory stays bounded and returns to its start',
    () => {
      const store = ObjectStore.create(sandbox.segment('churn'), { capacity: 1 << 20, stripes: 16, slotsPerStripe: 64 });
      const base = store.stats().usedBytes;
      const live: ObjectId[] = [];
      let maxSlabs = 0;
      for (let i = 0; i < 5000; i += 1) {
        live.push(store.put(checkedObject(i, 40 + (i % 7) * 150)));
        if (live.length > 50) store.delete(live.shift()!);
        maxSlabs = Math.max(maxSlabs, store.stats().pool.slabs);
      }
      expect(maxSlabs, 'at most a slab or two per class in use at any time').toBeLessThanOrEqual(2 * SIZE_CLASSES.length);
      for (const id of live) store.delete(id);
      const s = store.stats();
      expect(s.pool.slabs, 'every empty slab given back').toBe(0);
      expect(s.pool.freedSlabs).toBe(s.pool.newSlabs);
      expect(s.usedBytes).toBe(base);
      expect(s.freeBlocks).toBe(1);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'objects of mixed sizes never overlap: every object reads back exactly after deletes and reuse',
    () => {
      const store = ObjectStore.create(sandbox.segment('mixed'), { capacity: 4 << 20, stripes: 16, slotsPerStripe: 64 });
      const live = new Map<ObjectId, number>();
      let seed = 1;
      for (let round = 0; round < 4; round += 1) {
        for (let i = 0; i < 150; i += 1) {
          const size = 1 + ((seed * 7919) % 9000);
          live.set(store.put(checkedObject(seed, size)), size);
          seed += 1;
        }
        let k = 0;
        for (const id of [...live.keys()]) {
          if (k++ % 2 === 0) {
            store.delete(id);
            live.delete(id);
          }
        }
      }
      for (const [id, size] of live) {
        const view = store.get(id);
        expect(view.length).toBe(Math.max(size, 8));
        expect(verifyChecked(view), `object ${id} of ${size} bytes`).toBe(true);
        store.release(id);
      }
      store.close();
    },
    { weight: Severity.data },
  );
});
