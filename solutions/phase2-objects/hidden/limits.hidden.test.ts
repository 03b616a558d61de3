// Hidden suite, checklists 2.1 and 2.2: a closed handle refuses everything, a table filled to
// exactly its size from its last slot, and empty objects.
import { describe, expect } from 'vitest';

import { graded, Severity } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, randomObjectId } from '../../../phase2-objects/index.js';
import { collidingIds } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();

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
      const store = ObjectStore.open(name);
      store.get(sealed);
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
      expect([s.objectCount, s.sealedCount, s.pinned], 'the closed handle changed nothing, and gave its pin back').toEqual([2, 1, 0]);
      other.close();
    },
    { weight: Severity.code },
  );

  graded(
    checklist.table,
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
    checklist.space,
    'empty objects: create(id, 0), seal and get give an empty view; a hundred of them come and go without leaking space',
    () => {
      const store = ObjectStore.create(sandbox.segment('empty'), { capacity: 1 << 16, tableSize: 256 });
      const ids = Array.from({ length: 100 }, () => {
        const id = randomObjectId();
        expect(store.create(id, 0).length).toBe(0);
        store.seal(id);
        return id;
      });
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
});
