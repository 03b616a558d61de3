// Hidden suite, checklist 2.6: recovery after a process dies holding the lock. A recovery with
// nothing to repair changes nothing, and spares what live processes are doing.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { graded, Severity } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { MiniRayError, ObjectStore, randomObjectId, type ObjectId, type ObjectStoreStats } from '../../../phase2-objects/index.js';
import { checkedObject, collidingIds, verifyChecked } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.stress;
const pub = fixtures<typeof import('../../../phase2-objects/test/fixtures.js')>(
  new URL('../../../phase2-objects/test/fixtures.ts', import.meta.url),
);
const fx = fixtures<typeof import('./recovery-fixtures.js')>(new URL('./recovery-fixtures.ts', import.meta.url));

const shape = (s: ObjectStoreStats): Record<string, number> => ({
  objectCount: s.objectCount,
  sealedCount: s.sealedCount,
  usedBytes: s.usedBytes,
  freeBytes: s.freeBytes,
  largestFree: s.largestFree,
  freeBlocks: s.freeBlocks,
  tombstones: s.tombstones,
  pinned: s.pinned,
});

// Kills a child that holds the store's lock with nothing half-done (store.debug.lock()).
async function killLockHolder(name: string): Promise<void> {
  const holder = await spawnChild({ label: 'holder' });
  void holder.run(pub, 'holdLock', { name }).catch(() => undefined);
  await holder.waitEvent('locked');
  await holder.kill('SIGKILL');
}

describe('phase 2 (hidden): a recovery with nothing to repair', () => {
  graded(
    item,
    'a holder dies with nothing half-done: the recovery changes nothing (counts, tombstones, bytes, free blocks, pins) and spares a live process\'s unsealed object',
    async () => {
      const tableSize = 64;
      const name = sandbox.segment('nothing-to-repair');
      const store = ObjectStore.create(name, { capacity: 1 << 20, tableSize, lockTimeoutMs: 2000 });
      // Tombstones inside a probe chain that wraps from the last slot to the first, made after
      // every other object is in (so that no later insert reuses them).
      const chain = collidingIds(6, tableSize, tableSize - 1);
      chain.forEach((id, i) => store.put(checkedObject(100 + i, 300), id));
      // Holes between objects in the data region.
      const objects = Array.from({ length: 10 }, (_, i) => store.put(checkedObject(i + 1, 1000 * (i + 1)), collidingIds(1, tableSize, 10 + i)[0]));
      store.delete(chain[2]!);
      store.delete(chain[3]!);
      for (const i of [2, 5, 6]) store.delete(objects[i]!);
      const kept = [...chain.filter((_, i) => i !== 2 && i !== 3), ...objects.filter((_, i) => ![2, 5, 6].includes(i))];
      // Pins, and an object a live process is still writing.
      store.get(objects[0]!);
      store.get(objects[0]!);
      const writer = await spawnChild({ label: 'writer' });
      const [unsealed] = collidingIds(1, tableSize, 40) as [ObjectId]; // away from the tombstones
      const writing = writer.run(fx, 'createThenSeal', { name, id: unsealed, size: 5000 });
      await writer.waitEvent('created');
      const before = store.stats();
      expect(before.tombstones, 'the set-up left tombstones').toBeGreaterThan(0);

      await killLockHolder(name);
      const after = store.stats();
      expect(after.lockRecoveries, 'the takeover is counted').toBe(before.lockRecoveries + 1);
      expect(shape(after), 'the store as it was before the holder died').toEqual(shape(before));
      for (const id of kept) {
        expect(verifyChecked(store.get(id)), `object ${id}`).toBe(true);
        store.release(id);
      }
      expect(writer.alive, 'the live writer survived the recovery').toBe(true);
      writer.signal('seal');
      const sum = await writer.waitEvent('sealed');
      expect(store.contains(unsealed), "the live writer's object survived the recovery").toBe(true);
      expect(verifyChecked(store.get(unsealed))).toBe(true);
      store.release(unsealed);
      writer.signal('close');
      await writing;
      expect(sum).toBeTypeOf('string');
      // Everything goes, and the space is whole again.
      store.release(objects[0]!);
      store.release(objects[0]!);
      for (const id of [...kept, unsealed]) store.delete(id);
      const end = store.stats();
      expect([end.objectCount, end.usedBytes, end.freeBlocks], 'all deleted: nothing used, one free block').toEqual([0, 0, 1]);
      store.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    item,
    'a store filled to its last byte, the last object an empty one, comes through a recovery untouched',
    async () => {
      const name = sandbox.segment('full-recovery');
      const store = ObjectStore.create(name, { capacity: 64 * 1024, tableSize: 16, lockTimeoutMs: 2000 });
      const big = store.put(checkedObject(1, 30_000));
      // Leave room for one block header at most, then put an empty object at the very end.
      const rest = store.stats().largestFree;
      const filler = store.put(checkedObject(2, Math.max(8, rest - 64)));
      // (An allocator with larger block headers may have no room left even for that.)
      let empty: ObjectId | undefined = randomObjectId();
      try {
        store.put(Buffer.alloc(0), empty);
      } catch (e) {
        if (!(e instanceof MiniRayError && e.code === 'ERR_SHM_FULL')) throw e;
        empty = undefined;
      }
      const before = store.stats();
      await killLockHolder(name);
      expect(shape(store.stats()), 'the store as it was').toEqual(shape(before));
      for (const id of [big, filler]) {
        expect(verifyChecked(store.get(id)), `object ${id}`).toBe(true);
        store.release(id);
      }
      if (empty !== undefined) {
        expect(store.get(empty).length, 'the empty object at the end').toBe(0);
        store.release(empty);
        store.delete(empty);
      }
      for (const id of [big, filler]) store.delete(id);
      expect(store.stats().usedBytes).toBe(0);
      store.close();
    },
    { weight: Severity.data },
  );
});
