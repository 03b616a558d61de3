// Hidden suite, checklist 2.4: collisions, deletes inside probe chains, a full table, corruption.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../../../phase2-objects/index.js';
import { collidingIds, fieldAt, poke, scribble, u64 } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.refcount;
const fx = fixtures<typeof import('../../../phase2-objects/test/fixtures.js')>(
  new URL('../../../phase2-objects/test/fixtures.ts', import.meta.url),
);
const hx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('phase 2 (hidden): the table under collisions', () => {
  graded(item, 'deletes in the middle of one long probe chain keep every later id reachable', () => {
    const tableSize = 64;
    const store = ObjectStore.create(sandbox.segment('chain'), { capacity: 1 << 20, tableSize });
    const ids = collidingIds(24, tableSize, 60); // the chain wraps around the end of the table
    ids.forEach((id, i) => store.put(Buffer.from(`#${i}`), id));
    const gone = new Set([2, 9, 10, 17]);
    for (const i of gone) store.delete(ids[i]!);
    ids.forEach((id, i) => {
      expect(store.contains(id), `id #${i} of the chain (deleted: ${gone.has(i)})`).toBe(!gone.has(i));
      if (!gone.has(i)) {
        expect(store.get(id).toString()).toBe(`#${i}`);
        store.release(id);
      }
    });
    // New colliding ids and a deleted one re-created: all found, no duplicates.
    const more = collidingIds(3, tableSize, 60);
    more.forEach((id) => store.put(Buffer.from('new'), id));
    store.put(Buffer.from('again'), ids[9]!);
    expect(() => store.put(Buffer.from('dup'), ids[23]!), 'the chain end is still known').toThrowMiniRay(
      'ERR_OBJECT_EXISTS',
    );
    for (const id of more) expect(store.contains(id)).toBe(true);
    expect(store.get(ids[9]!).toString()).toBe('again');
    expect(store.stats().objectCount).toBe(24 - 4 + 3 + 1);
    store.close();
  });

  graded(item, 'two clusters that run into each other stay searchable through deletes', () => {
    const tableSize = 64;
    const store = ObjectStore.create(sandbox.segment('clusters'), { capacity: 1 << 20, tableSize });
    const a = collidingIds(10, tableSize, 20);
    const b = collidingIds(10, tableSize, 24);
    const all = a.flatMap((id, i) => [id, b[i]!]);
    all.forEach((id, i) => store.put(Buffer.from([i]), id));
    const dropped = all.filter((_, i) => i % 3 === 0);
    dropped.forEach((id) => store.delete(id));
    all.forEach((id, i) => expect(store.contains(id), `id ${i}`).toBe(i % 3 !== 0));
    store.close();
  });

  graded(item, 'the table fills to exactly tableSize objects, then ERR_TABLE_FULL; a miss in a full table still returns', async () => {
    const name = sandbox.segment('limit');
    const tableSize = 50;
    const store = ObjectStore.create(name, { capacity: 1 << 20, tableSize });
    const ids = Array.from({ length: tableSize }, (_, i) => store.put(Buffer.from([i])));
    const before = store.stats();
    expect(() => store.put(Buffer.from([1]))).toThrowMiniRay('ERR_TABLE_FULL');
    expect(() => store.create(randomObjectId(), 10)).toThrowMiniRay('ERR_TABLE_FULL');
    expect(store.stats().usedBytes, 'a refused create keeps no space').toBe(before.usedBytes);
    ids.forEach((id, i) => expect(store.get(id)[0], `object ${i}`).toBe(i));
    expect(store.stats().tableLoad).toBe(1);
    const child = await spawnChild({ label: 'misses' });
    expect(
      await child.run(fx, 'missLookups', { name, ids: [randomObjectId(), randomObjectId()] }, 10_000),
      'lookups of absent ids in a full table end',
    ).toEqual([false, false]);
    store.close();
  });

  graded(item, 'churn at 90% load: 30x tableSize creates and deletes never hit ERR_TABLE_FULL or lose an object, and tombstones never take every free slot', async () => {
    const name = sandbox.segment('churn');
    const tableSize = 64;
    const keep = Math.floor(tableSize * 0.9);
    const store = ObjectStore.create(name, { capacity: 1 << 20, tableSize });
    const live: ObjectId[] = [];
    const pool = [...collidingIds(40, tableSize, 7), ...collidingIds(40, tableSize, 8)];
    let n = 0;
    for (let round = 0; round < tableSize * 30; round += 1) {
      while (live.length < keep) {
        const id = n < pool.length && round % 2 === 0 ? pool[n % pool.length]! : randomObjectId();
        n += 1;
        if (live.includes(id)) continue;
        store.put(Buffer.from(id.slice(0, 8)), id);
        live.push(id);
      }
      const victim = live.splice((round * 7919) % live.length, 1)[0]!;
      store.delete(victim);
      if (round % 97 === 0) {
        for (const id of live) expect(store.contains(id), `round ${round}`).toBe(true);
      }
    }
    for (const id of live) {
      expect(store.get(id).toString()).toBe(id.slice(0, 8));
      store.release(id);
    }
    const after = store.stats();
    expect(after.objectCount).toBe(live.length);
    // When to sweep is the table's choice, but a sweep must come: tombstones that take every slot
    // no object holds leave no empty slot, and every miss then walks the whole table.
    expect(
      after.tombstones + after.objectCount,
      `after the churn ${after.tombstones} tombstones and ${after.objectCount} objects fill ${after.tombstones + after.objectCount} of ${tableSize} slots: tombstones were never swept`,
    ).toBeLessThan(tableSize);
    const child = await spawnChild({ label: 'misses' });
    const misses = Array.from({ length: 200 }, () => randomObjectId());
    expect(
      await child.run(fx, 'missLookups', { name, ids: misses }, 10_000),
      'misses after heavy churn end (tombstones do not pile up forever)',
    ).toEqual(misses.map(() => false));
    store.close();
  });

  graded(item, 'a table scribbled over gives ERR_SEGMENT_CORRUPT, never a crash', async () => {
    const name = sandbox.segment('corrupt-table');
    const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 32 });
    const ids = [0, 1, 2].map((i) => store.put(Buffer.from([i])));
    const layout = store.debug.layout();
    scribble(name, layout.tableOffset, layout.tableBytes, 0xab);
    const child = await spawnChild({ label: 'prober' });
    const ab = 'ab'.repeat(20) as ObjectId;
    const r = await child.run(fx, 'probeCorrupt', { name, ids, extra: ab }, 10_000);
    expect(r.get.at(-1), 'get of the id the garbage spells').toBe('ERR_SEGMENT_CORRUPT');
    for (const o of [...r.get, ...r.del, r.create, r.contains, r.stats]) {
      expect(['ok', 'ERR_SEGMENT_CORRUPT', 'ERR_OBJECT_NOT_FOUND', 'ERR_TABLE_FULL']).toContain(o);
    }
    expect(child.alive, 'the prober survived').toBe(true);
    store.close();
  });

  graded(
    item,
    "the table's geometry rewritten by another process after open (slots 0, offsets out of range): this process keeps the copy it made at open, no crash",
    async () => {
      const name = sandbox.segment('geometry-after-open');
      const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 32 });
      const ids = [0, 1, 2].map((i) => store.put(Buffer.from([i])));
      const child = await spawnChild({ label: 'reader' });
      const running = child.run(hx, 'lookupsAfterChange', { name, ids: [...ids, randomObjectId()] }, 20_000);
      await child.waitEvent('open');
      poke(name, fieldAt('header.table.slots'), u64(0));
      poke(name, fieldAt('header.table.offset'), u64(2n ** 62n));
      poke(name, fieldAt('header.allocator.begin'), u64(2n ** 63n));
      poke(name, fieldAt('header.allocator.end'), u64(1));
      child.signal('go');
      const out = await running;
      expect(child.alive, 'the reader survived').toBe(true);
      for (const o of out) expect(['ok', 'ERR_SEGMENT_CORRUPT', 'ERR_OBJECT_NOT_FOUND']).toContain(o);
      expect(out.slice(0, 6), 'lookups with the geometry copied at open still find every object').toEqual(
        Array(6).fill('ok'),
      );
      store.close();
    },
    { weight: Severity.data },
  );
});
