// Checklist 2.4: reference counts.
import { describe, expect } from 'vitest';

import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId } from '../index.js';

const sandbox = useSandbox();
const item = checklist.refcount;

describe('phase 2: pins', () => {
  graded(item, 'delete() of a pinned object is refused with ERR_OBJECT_IN_USE and succeeds after release()', () => {
    const store = ObjectStore.create(sandbox.segment('pin'), { capacity: 1 << 16 });
    const id = store.put(Buffer.from('pinned'));
    store.get(id);
    store.get(id);
    expect(store.stats().pinned, 'two gets, two pins').toBe(2);
    expect(() => store.delete(id)).toThrowMiniRay('ERR_OBJECT_IN_USE');
    store.release(id);
    expect(() => store.delete(id), 'one pin is left').toThrowMiniRay('ERR_OBJECT_IN_USE');
    store.release(id);
    store.delete(id);
    expect(store.contains(id)).toBe(false);
    expect(() => store.get(id)).toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
    store.close();
  });

  graded(item, 'a second release() of one get() fails with ERR_INVALID_ARGUMENT', () => {
    const store = ObjectStore.create(sandbox.segment('double'), { capacity: 1 << 16 });
    const id = store.put(Buffer.from('x'));
    store.get(id);
    store.release(id);
    expect(() => store.release(id)).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(store.stats().pinned).toBe(0);
    store.close();
  });

  graded(
    item,
    "create() pins for its creator: a sealed object cannot be deleted until its creator releases it; put() leaves no pin",
    () => {
      const store = ObjectStore.create(sandbox.segment('creator-pin'), { capacity: 1 << 16 });
      const id = randomObjectId();
      store.create(id, 4).write('mine');
      expect(store.stats().pinned, "the creator's pin").toBe(1);
      store.seal(id);
      expect(() => store.delete(id), 'sealed, and still pinned by its creator').toThrowMiniRay('ERR_OBJECT_IN_USE');
      store.release(id);
      expect(store.stats().pinned).toBe(0);
      store.delete(id);
      store.put(Buffer.from('x'));
      expect(store.stats().pinned, 'put() is create + copy + seal + release').toBe(0);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'put() of a view of an object that was released and deleted is refused with ERR_INVALID_ARGUMENT: nothing is stored and the id stays free',
    () => {
      const store = ObjectStore.create(sandbox.segment('stale-put'), { capacity: 1 << 14 });
      // The data region full to its last byte: a new object of the deleted one's size can only go
      // where the deleted one was, whatever block your allocator would pick.
      const [a, b] = [store.put(Buffer.alloc(3000, 1)), store.put(Buffer.alloc(3000, 2))];
      store.put(Buffer.alloc(store.stats().largestFree, 3));
      expect(store.stats().largestFree, 'no free space left').toBe(0);
      const stale = store.get(a);
      store.release(a);
      store.delete(a);
      const before = store.stats();
      const id = randomObjectId();
      expect(() => store.put(stale, id), 'the bytes lie where the new object would go').toThrowMiniRay('ERR_INVALID_ARGUMENT');
      const after = store.stats();
      expect([after.objectCount, after.usedBytes, after.pinned], 'nothing stored, no space kept, no pin').toEqual([
        before.objectCount,
        before.usedBytes,
        0,
      ]);
      store.put(Buffer.alloc(3000, 4), id);
      expect(store.get(id).equals(Buffer.alloc(3000, 4)), 'the id is free for a put that works').toBe(true);
      expect(store.get(b).equals(Buffer.alloc(3000, 2)), 'the neighbour is intact').toBe(true);
      store.close();
    },
    { weight: Severity.data },
  );
});
