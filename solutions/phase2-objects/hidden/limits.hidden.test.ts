// Hidden suite, checklists 2.3 and 2.4: a closed handle refuses everything, a table filled to
// exactly its size from its last slot, a rebuild that must move an entry back across the end of the
// table, the smallest table, the largest capacity, and empty objects.
import { constants as bufferConstants } from 'node:buffer';
import { statfsSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { graded, Severity } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { SHM_DIR, segmentExists } from '../../../testkit/segments.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../../../phase2-objects/index.js';
import { collidingIds } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();
const MAX_CAPACITY = 2 ** 36; // kMaxCapacity in object_store.h

describe('phase 2 (hidden): limits', () => {
  graded(
    checklist.lifecycle,
    'after close(), every operation of that handle fails with ERR_CLOSED, and a second close() is harmless',
    async () => {
      const name = sandbox.segment('closed');
      const other = ObjectStore.create(name, { capacity: 1 << 16 });
      const sealed = other.put(Buffer.from('sealed'));
      const unsealed = randomObjectId();
      other.create(unsealed, 10);
      const pinsBefore = other.stats().pinned; // the creator's own pin on its unsealed object
      const store = ObjectStore.open(name);
      store.get(sealed);
      expect(other.stats().pinned, 'the get pinned the sealed object').toBe(pinsBefore + 1);
      store.close();
      const ops: Array<[string, () => unknown]> = [
        ['create', () => store.create(randomObjectId(), 10)],
        ['seal', () => store.seal(unsealed)],
        ['abort', () => store.abort(unsealed)],
        ['put', () => store.put(Buffer.from('x'))],
        ['get', () => store.get(sealed)],
        ['getMany', () => store.getMany([sealed])],
        ['release', () => store.release(sealed)],
        ['contains', () => store.contains(sealed)],
        ['delete', () => store.delete(sealed)],
        ['stats', () => store.stats()],
      ];
      for (const [op, fn] of ops) expect(fn, `${op}() after close()`).toThrowMiniRay('ERR_CLOSED');
      await expect(store.getAsync(sealed), 'getAsync() after close()').toRejectMiniRay('ERR_CLOSED');
      expect(() => store.close(), 'a second close()').not.toThrow();
      const s = other.stats();
      expect([s.objectCount, s.sealedCount, s.pinned], 'the closed handle changed nothing, and gave its pin back').toEqual([2, 1, pinsBefore]);
      other.close();
    },
    { weight: Severity.code },
  );

  graded(
    checklist.refcount,
    'a table filled to exactly tableSize with ids that all start at its last slot: every id found, one more refused, and a delete makes room again',
    () => {
      const tableSize = 16;
      const store = ObjectStore.create(sandbox.segment('last-slot'), { capacity: 1 << 16, tableSize });
      const ids = collidingIds(tableSize + 1, tableSize, tableSize - 1);
      ids.slice(0, tableSize).forEach((id, i) => store.put(Buffer.from([i]), id));
      expect(() => store.put(Buffer.from([99]), ids[tableSize]!), 'one more than tableSize').toThrowMiniRay('ERR_TABLE_FULL');
      ids.slice(0, tableSize).forEach((id, i) => {
        expect(store.get(id)[0], `id ${i}, placed ${i} slots after the last one`).toBe(i);
        store.release(id);
      });
      store.delete(ids[0]!); // the one in the last slot itself
      for (const id of ids.slice(1, tableSize)) expect(store.contains(id), 'ids past the deleted last slot').toBe(true);
      store.put(Buffer.from([42]), ids[tableSize]!);
      expect(store.get(ids[tableSize]!)[0]).toBe(42);
      expect(store.stats().objectCount).toBe(tableSize);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    checklist.refcount,
    'empty objects: create(id, 0) gives an empty view, and a hundred empty objects come and go without leaking space',
    () => {
      const store = ObjectStore.create(sandbox.segment('empty'), { capacity: 1 << 16, tableSize: 256 });
      const probe = randomObjectId();
      expect(store.create(probe, 0).length).toBe(0);
      store.abort(probe);
      const ids = Array.from({ length: 100 }, () => store.put(Buffer.alloc(0)));
      for (const id of ids) {
        expect(store.get(id).length).toBe(0);
        store.release(id);
        store.delete(id);
      }
      const s = store.stats();
      expect([s.objectCount, s.usedBytes, s.freeBlocks], 'all gone, space whole').toEqual([0, 0, 1]);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    checklist.refcount,
    'an entry that wrapped past the last slot is still found after its home slot is freed and the table tidies its tombstones',
    () => {
      const tableSize = 16;
      const store = ObjectStore.create(sandbox.segment('wrapped'), { capacity: 1 << 16, tableSize });
      // Three ids homed at the last slot: the second and third wrap to slots 0 and 1.
      const [a, b, c] = collidingIds(3, tableSize, tableSize - 1) as [ObjectId, ObjectId, ObjectId];
      // Five ids homed at slot 5, and one more at slot 5 after them, to keep their tombstones.
      const xs = collidingIds(6, tableSize, 5);
      for (const id of [a, b, c, ...xs]) store.put(Buffer.from(id.slice(0, 6)), id);
      // Freeing a's slot and then five more leaves tombstones that a tidy table cleans up, however
      // it does it; b and c must stay reachable across the end of the table.
      store.delete(a);
      for (const id of xs.slice(0, 5)) store.delete(id);
      for (const id of [b, c, xs[5]!]) {
        expect(store.contains(id), `id ${id.slice(0, 8)} after the deletes`).toBe(true);
        expect(store.get(id).toString()).toBe(id.slice(0, 6));
        store.release(id);
      }
      expect(() => store.put(Buffer.from('dup'), b), 'b is known, not created twice').toThrowMiniRay('ERR_OBJECT_EXISTS');
      const s = store.stats();
      expect(s.objectCount).toBe(3);
      expect(s.tombstones + s.objectCount, 'an empty slot remains').toBeLessThan(tableSize);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.refcount,
    'the smallest store, a table of one slot, opens in another handle and holds exactly one object',
    () => {
      const name = sandbox.segment('one-slot');
      const store = ObjectStore.create(name, { capacity: 4096, tableSize: 1 });
      const other = ObjectStore.open(name);
      const id = other.put(Buffer.from('the only one'));
      expect(() => other.put(Buffer.from('a second'))).toThrowMiniRay('ERR_TABLE_FULL');
      expect(store.get(id).toString()).toBe('the only one');
      store.release(id);
      other.close();
      store.close();
    },
    { weight: Severity.code },
  );

  graded(
    checklist.refcount,
    'the largest capacity is min(kMaxCapacity, the runtime\'s largest ArrayBuffer) and one byte more is ERR_INVALID_ARGUMENT; the largest fails with ERR_SHM_FULL where /dev/shm is smaller, leaving nothing',
    () => {
      const name = sandbox.segment('max-capacity');
      // Views of the data region are one ArrayBuffer: Node 20 caps it at 4 GiB, below kMaxCapacity.
      const largest = Math.min(MAX_CAPACITY, bufferConstants.MAX_LENGTH);
      for (const capacity of [largest + 1, MAX_CAPACITY + 1]) {
        expect(() => ObjectStore.create(name, { capacity }), `capacity ${capacity}`).toThrowMiniRay('ERR_INVALID_ARGUMENT');
        expect(segmentExists(name), 'a refused create leaves nothing behind').toBe(false);
      }
      const fs = statfsSync(SHM_DIR);
      // Only where the kernel refuses the largest store outright, without reserving anything.
      if (fs.blocks * fs.bsize + (1 << 30) <= largest) {
        expect(() => ObjectStore.create(name, { capacity: largest }), `capacity ${largest}`).toThrowMiniRay('ERR_SHM_FULL');
        expect(segmentExists(name), 'the failed create left nothing behind').toBe(false);
      }
      ObjectStore.create(name, { capacity: 4096 }).close();
    },
    { weight: Severity.code },
  );
});
