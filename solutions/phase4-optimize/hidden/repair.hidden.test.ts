// Hidden, checklist 4.5: processes killed at any moment of a churn with eviction.
import { closeSync, openSync, writeSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { fixtures, spawnChildren } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase4-optimize/checklist.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../../../phase4-optimize/index.js';
import { checkedObject, idsOfStripe, verifyChecked } from '../../../phase4-optimize/test/fixtures.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('../../../phase4-optimize/test/fixtures.js')>(
  new URL('../../../phase4-optimize/test/fixtures.ts', import.meta.url),
);
const hiddenFx = fixtures<typeof import('./eviction-fixtures.js')>(new URL('./eviction-fixtures.ts', import.meta.url));
const ENTRY_BYTES = 256; // layout.h: ObjectEntry
const ENTRY_STATE = 20; // its state, after the 20-byte id
const TOMBSTONE = 1;

describe('phase 4 (hidden): repair', () => {
  for (const lock of [{ stripe: 1 }, 'allocator', 'lru'] as const) {
    graded(
      checklist.repair,
      `a process killed holding ${typeof lock === 'string' ? `the ${lock} lock` : 'a stripe lock'} and a pin: the repair itself gives the pin back`,
      async () => {
        const name = sandbox.segment('deadpin');
        const store = ObjectStore.create(name, { capacity: 1 << 18, stripes: 2 });
        const ids = [0, 1, 2, 3].map((i) => store.put(checkedObject(i, 500 + i * 3000)));
        const [child] = await spawnChildren(1);
        void child!.run(fx, 'pinThenHoldLock', { name, id: ids[1]!, lock }).catch(() => undefined);
        await child!.waitEvent('locked');
        await child!.kill('SIGKILL');
        store.stats(); // takes every lock in turn: the first that the dead process held repairs
        expect(store.stats().repairs, 'one repair').toBe(1);
        expect(store.stats().clients, 'the dead handle is gone without reclaim()').toBe(1);
        expect(store.stats().pinned, 'and so is its pin').toBe(0);
        store.delete(ids[1]!);
        for (const id of [ids[0]!, ids[2]!, ids[3]!]) expect(verifyChecked(store.get(id))).toBe(true);
        store.close();
      },
      { weight: Severity.data },
    );
  }


  graded(
    checklist.repair,
    'a process SIGKILLed outside any lock with an unsealed object and a pin: reclaim() gives back exactly its handle, its pin and its object, and every byte',
    async () => {
      const name = sandbox.segment('deadcreator');
      const store = ObjectStore.create(name, { capacity: 1 << 18, stripes: 2 });
      const kept = store.put(checkedObject(1, 20_000));
      const start = store.stats();
      const [created] = idsOfStripe(1, 2, 1);
      const [child] = await spawnChildren(1);
      const holding = child!.run(hiddenFx, 'createAndPin', { name, created: created!, size: 30_000, pinned: kept });
      holding.catch(() => undefined); // killed below
      await child!.waitEvent('holding');
      expect(store.stats()).toMatchObject({ clients: 2, pinned: 2, objectCount: 2 });
      await child!.kill('SIGKILL');
      expect(store.reclaim(), 'one dead handle, its pin, its unsealed object').toEqual({ clients: 1, pins: 1, objects: 1 });
      const after = store.stats();
      expect(after.clients).toBe(1);
      expect(after.pinned, 'no pin left').toBe(0);
      expect(after.objectCount, 'the unsealed object is gone').toBe(1);
      expect(after.usedBytes, 'its space is free again').toBe(start.usedBytes);
      expect(store.reclaim(), 'nothing twice').toEqual({ clients: 0, pins: 0, objects: 0 });
      store.create(created!, 10); // its id is free again
      store.abort(created!);
      expect(verifyChecked(store.get(kept))).toBe(true);
      store.release(kept);
      expect(ObjectStore.check(name).problems).toEqual([]);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.repair,
    'a delete cut short after its slot was erased leaves a block no slot owns: the repair after a dead lock holder gives it back',
    async () => {
      const name = sandbox.segment('leak');
      const slotsPerStripe = 8;
      const store = ObjectStore.create(name, { capacity: 1 << 18, stripes: 1, slotsPerStripe });
      const kept = store.put(checkedObject(1, 9_000));
      const start = store.stats();
      // An id whose probe starts at a slot of its own: the object lies in its home slot.
      let lost = randomObjectId();
      while (ObjectStore.homeSlotOf(lost, slotsPerStripe) === ObjectStore.homeSlotOf(kept, slotsPerStripe)) lost = randomObjectId();
      store.put(checkedObject(2, 40_000), lost);
      // The slot as a delete's first step leaves it: a tombstone, its block still allocated.
      const { tableOffset } = store.debug.layout();
      const fd = openSync(`/dev/shm/${name.replace(/^\//, '')}`, 'r+');
      try {
        const state = Buffer.alloc(4);
        state.writeUInt32LE(TOMBSTONE);
        writeSync(fd, state, 0, 4, tableOffset + ObjectStore.homeSlotOf(lost, slotsPerStripe) * ENTRY_BYTES + ENTRY_STATE);
      } finally {
        closeSync(fd);
      }
      expect(store.contains(lost), 'the slot no longer holds the object').toBe(false);
      const [child] = await spawnChildren(1);
      void child!.run(fx, 'holdLock', { name, lock: 'allocator' }).catch(() => undefined);
      await child!.waitEvent('locked');
      await child!.kill('SIGKILL');
      store.stats(); // takes every lock in turn: the one the dead process held repairs
      const after = store.stats();
      expect(after.repairs, 'one repair').toBe(1);
      expect(after.objectCount).toBe(1);
      expect(after.usedBytes, 'the block nobody owned is free again').toBe(start.usedBytes);
      expect(ObjectStore.check(name).problems).toEqual([]);
      expect(verifyChecked(store.get(kept))).toBe(true);
      store.release(kept);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.repair,
    'two of four churning processes SIGKILLed mid-run: survivors finish, every object is intact or gone, and no byte leaks',
    async () => {
      const name = sandbox.segment('churnkill');
      const store = ObjectStore.create(name, { capacity: 1 << 19, stripes: 8, slotsPerStripe: 128 });
      const base = store.stats().usedBytes;
      const keep: ObjectId[] = [0, 1, 2].map((i) => store.put(checkedObject(i, 3000 + i * 7000)));
      for (const id of keep) store.get(id); // pinned by the test: never evicted
      const children = await spawnChildren(4);
      const runs = children.map((c, i) =>
        c.run(fx, 'churn', { name, child: i, ops: i < 2 ? 100_000 : 800, seed: 3, maxSize: 12_000 }, 120_000),
      );
      for (const r of runs.slice(0, 2)) r.catch(() => undefined); // these two are killed
      await Promise.all(children.map((c) => c.waitEvent('ready')));
      for (const c of children) c.signal('go');
      await new Promise((resolve) => setTimeout(resolve, 400));
      await children[0]!.kill('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 150));
      await children[1]!.kill('SIGKILL');
      const survivors = await Promise.all(runs.slice(2));
      for (const r of survivors) expect(r.failures, 'failures inside a survivor').toEqual([]);
      for (const id of keep) expect(verifyChecked(store.get(id)), `pinned object ${id}`).toBe(true);
      store.reclaim();
      const s = store.stats();
      expect(s.clients, 'the dead handles were reclaimed').toBe(1);
      expect(s.pinned, "only this process's pins are left").toBe(2 * keep.length);
      expect(s.lockOrderViolations).toBe(0);
      // Whatever the kills left, evicting and deleting it all gives every byte back.
      for (const id of keep) {
        store.release(id);
        store.release(id);
      }
      const fresh: ObjectId[] = [];
      for (let i = 0; i < 160; i += 1) fresh.push(store.put(checkedObject(1000 + i, 8000)));
      for (const id of fresh) if (store.contains(id)) store.delete(id);
      const end = store.stats();
      expect(end.objectCount, 'every old object was evicted, every new one deleted').toBe(0);
      expect(end.usedBytes, 'no byte leaked by the kills').toBe(base);
      expect(end.pool.slabs).toBe(0);
      expect(end.freeBlocks).toBe(1);
      store.close();
    },
    { weight: Severity.data, timeoutMs: 150_000 },
  );

  graded(
    checklist.repair,
    'a repair of a sound segment changes nothing: same objects, same bytes, same LRU order',
    () => {
      const store = ObjectStore.create(sandbox.segment('noop'), { capacity: 3 * 60_100 + 500, stripes: 4 });
      const ids = [0, 1, 2].map((i) => store.put(checkedObject(i, 60_000)));
      store.get(ids[0]!);
      store.release(ids[0]!);
      const before = store.stats();
      store.debug.repair();
      const after = store.stats();
      expect({ ...after, locks: null, repairs: null }).toEqual({ ...before, locks: null, repairs: null });
      store.put(checkedObject(9, 60_000));
      expect(store.evictedSince(0).ids, 'the LRU order survived the repair').toEqual([ids[1]]);
      store.close();
    },
    { weight: Severity.behaviour },
  );
});
