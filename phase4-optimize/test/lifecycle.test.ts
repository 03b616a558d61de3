// Checklist 4.1: phase 2's lifecycle on striped locks.
import { describe, expect } from 'vitest';

import '../../testkit/matchers.js';
import { fixtures, spawnChild } from '../../testkit/children.js';
import { expectBounded } from '../../testkit/bounds.js';
import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId } from '../index.js';
import { checkedObject, idsOfStripe, verifyChecked } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.lifecycle;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('phase 4: the lifecycle', () => {
  graded(item, 'put, get, release and delete: the bytes come back, and every count returns to its start', () => {
    const store = ObjectStore.create(sandbox.segment('life'), { capacity: 1 << 20, stripes: 4, slotsPerStripe: 32 });
    const start = store.stats();
    const sizes = [0, 1, 64, 65, 4096, 4097, 100_000];
    const ids = sizes.map((size, i) => store.put(checkedObject(i, size)));
    for (const id of ids) {
      expect(verifyChecked(store.get(id)), `object ${id} reads back exactly`).toBe(true);
      store.release(id);
    }
    const full = store.stats();
    expect(full.objectCount).toBe(sizes.length);
    expect(full.sealedCount).toBe(sizes.length);
    expect(full.pinned, 'put() leaves no pin, every get was released').toBe(0);
    for (const id of ids) store.delete(id);
    const end = store.stats();
    expect(end.objectCount).toBe(0);
    expect(end.usedBytes, 'used bytes back to the start').toBe(start.usedBytes);
    expect(end.freeBlocks, 'the free space in one piece again').toBe(1);
    expect(end.pool.slabs, 'every slab given back').toBe(0);
    store.close();
  });

  graded(
    item,
    "create pins for its creator: invisible until seal, delete refused until the creator's release",
    () => {
      const store = ObjectStore.create(sandbox.segment('pin'), { capacity: 1 << 16 });
      const id = randomObjectId();
      store.create(id, 10).write('0123456789');
      expect(store.contains(id), 'unsealed objects are invisible').toBe(false);
      expect(() => store.get(id)).toThrowMiniRay('ERR_TIMEOUT');
      store.seal(id);
      expect(store.contains(id)).toBe(true);
      expect(() => store.delete(id)).toThrowMiniRay('ERR_OBJECT_IN_USE');
      store.release(id);
      expect(store.get(id).toString()).toBe('0123456789');
      store.release(id);
      expect(() => store.release(id), 'a second release').toThrowMiniRay('ERR_INVALID_ARGUMENT');
      store.delete(id);
      expect(store.contains(id)).toBe(false);
      expect(() => store.delete(id)).toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(item, 'create of an id already present: ERR_OBJECT_EXISTS; abort by another handle: ERR_OBJECT_IN_USE', () => {
    const name = sandbox.segment('errs');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const other = ObjectStore.open(name);
    const id = randomObjectId();
    store.create(id, 100);
    expect(() => other.create(id, 5)).toThrowMiniRay('ERR_OBJECT_EXISTS');
    expect(() => other.abort(id)).toThrowMiniRay('ERR_OBJECT_IN_USE');
    store.abort(id);
    expect(store.stats().objectCount).toBe(0);
    other.close();
    store.close();
  });

  graded(
    item,
    'a stripe holds exactly slotsPerStripe objects: the last one fits, one more is ERR_TABLE_FULL, other stripes still take objects',
    () => {
      const store = ObjectStore.create(sandbox.segment('stripe'), { capacity: 1 << 20, stripes: 4, slotsPerStripe: 8 });
      const ids = idsOfStripe(9, 4, 2);
      for (const id of ids.slice(0, 8)) store.put(Buffer.from(id), id);
      expect(() => store.put(Buffer.from('one too many'), ids[8])).toThrowMiniRay('ERR_TABLE_FULL');
      const elsewhere = idsOfStripe(1, 4, 3)[0]!;
      store.put(Buffer.from('x'), elsewhere);
      for (const id of ids.slice(0, 8)) {
        expect(store.get(id).toString(), `object ${id} of the full stripe`).toBe(id);
        store.release(id);
      }
      store.delete(ids[0]!);
      for (const id of ids.slice(1, 8)) {
        expect(store.contains(id), `object ${id} is still found past the deleted slot`).toBe(true);
        expect(() => store.put(Buffer.from('again'), id), 'and cannot be stored twice').toThrowMiniRay('ERR_OBJECT_EXISTS');
      }
      store.put(Buffer.from('fits again'), ids[8]);
      expect(store.stats().objectCount).toBe(9);
      store.close();
    },
  );

  graded(
    item,
    'get waits for a seal in another process: it returns the object, not before the seal, and a missing object times out on time',
    async () => {
      const name = sandbox.segment('wait');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const missing = randomObjectId();
      let t0 = performance.now();
      expect(() => store.get(missing, { timeoutMs: 300 })).toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
      expectBounded(performance.now() - t0, 300, 'get of a missing object');
      const id = randomObjectId();
      const child = await spawnChild({ label: 'sealer' });
      t0 = performance.now();
      const got = store.getAsync(id, { timeoutMs: 10_000 });
      await child.run(fx, 'putChecked', { name, id, seed: 5, size: 3000 });
      expect(verifyChecked(await got), 'the object sealed by the other process').toBe(true);
      expect(performance.now() - t0, 'woken by the seal, long before its timeout').toBeLessThan(5000);
      store.release(id);
      store.close();
    },
    { weight: Severity.behaviour },
  );
});
