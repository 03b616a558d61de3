// The object table inside the store: the tests of checklist 2.1 (table-alone.test.ts) again, through
// ObjectStore, where the store's create, delete and stats() must use the table right (2.3 and 2.4).
import { describe, expect } from 'vitest';

import { graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, type ObjectId } from '../index.js';
import { collidingIds } from './fixtures.js';

const sandbox = useSandbox();

describe('phase 2: the object table', () => {
  graded(checklist.lifecycle, 'objects put by id read back by id, and stats() counts them and the table load', () => {
    const store = ObjectStore.create(sandbox.segment('table'), { capacity: 1 << 20, tableSize: 128 });
    const ids = Array.from({ length: 100 }, (_, i) => store.put(Buffer.from(`object ${i}`)));
    ids.forEach((id, i) => {
      expect(store.get(id).toString(), `object ${i} reads back`).toBe(`object ${i}`);
      store.release(id);
    });
    const s = store.stats();
    expect(s.objectCount).toBe(100);
    expect(s.sealedCount).toBe(100);
    expect(s.tableSize).toBe(128);
    expect(s.tableLoad).toBeCloseTo(100 / 128);
    store.close();
  });

  graded(checklist.refcount, 'ids that share a home slot are all found, also after one in the middle is deleted', () => {
    const tableSize = 32;
    const store = ObjectStore.create(sandbox.segment('collide'), { capacity: 1 << 20, tableSize });
    const ids = collidingIds(8, tableSize, 5);
    ids.forEach((id, i) => store.put(Buffer.from([i]), id));
    store.delete(ids[3] as ObjectId);
    ids.forEach((id, i) => {
      expect(store.contains(id), `id #${i} of 8 colliding ids`).toBe(i !== 3);
    });
    expect(store.get(ids[7] as ObjectId)[0], 'the last id of the probe chain is still reachable').toBe(7);
    store.close();
  });

  graded(checklist.refcount, 'a full table refuses another create with ERR_TABLE_FULL, and accepts one after a delete', () => {
    const store = ObjectStore.create(sandbox.segment('full'), { capacity: 1 << 20, tableSize: 16 });
    const ids = Array.from({ length: 16 }, (_, i) => store.put(Buffer.from([i])));
    expect(() => store.put(Buffer.from([99]))).toThrowMiniRay('ERR_TABLE_FULL');
    store.delete(ids[0] as ObjectId);
    const again = store.put(Buffer.from([42]));
    expect(store.get(again)[0]).toBe(42);
    store.close();
  });
});
