// Hidden suite, checklists 2.1 and 2.2: the table and the allocator on their own, at their
// boundaries. A table of one slot, the first and the last slot, a table filled to exactly its size
// by ids of one home slot; the whole region in one allocation, an object exactly the size of the
// largest free block (a hole in the middle, behind a smaller one on the free list), a rest of one
// header, the first and the last block freed, a region filled with blocks of a header alone.
import { describe, expect } from 'vitest';

import { graded, Severity } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ComponentBench, SlotState } from '../../../phase2-objects/components.js';
import { randomObjectId, type ObjectId } from '../../../phase2-objects/index.js';
import { collidingIds } from '../../../phase2-objects/test/fixtures.js';
import { expectSound } from '../../../phase2-objects/test/sound-region.js';

const sandbox = useSandbox();
const HEADER = 64;

function table(slots: number): ComponentBench {
  const bench = ComponentBench.create(sandbox.segment('table'), { slots, dataBytes: 4096 });
  bench.table.init();
  return bench;
}

function allocator(dataBytes = 64 * 1024): ComponentBench {
  const bench = ComponentBench.create(sandbox.segment('alloc'), { slots: 4, dataBytes });
  bench.allocator.init();
  return bench;
}

describe('phase 2 (hidden): the table on its own, at its boundaries', () => {
  const item = checklist.table;

  graded(
    item,
    'a table of one slot holds exactly one id: a second insert is ERR_TABLE_FULL, a find of an absent id ends, and the slot erased takes a new id',
    () => {
      const bench = table(1);
      const a = randomObjectId();
      expect(bench.table.insert(a), 'the only slot').toBe(0);
      expect(() => bench.table.insert(randomObjectId()), 'a second id in a table of one slot').toThrowMiniRay('ERR_TABLE_FULL');
      expect(bench.table.find(randomObjectId()), 'an absent id in a full table of one slot').toBe(-1);
      expect(bench.table.find(a)).toBe(0);
      bench.table.erase(a);
      expect(bench.table.find(a), 'erased').toBe(-1);
      const b = randomObjectId();
      expect(bench.table.insert(b), 'the erased slot is reused').toBe(0);
      expect(bench.table.find(b)).toBe(0);
      expect(bench.table.stats(), 'one live entry, no tombstone left').toMatchObject({ live: 1, tombstones: 0 });
      bench.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'the first and the last slot: ids homed at the last slot fill it and wrap to slot 0, ids homed at slot 0 queue behind them, and all stay found when the last slot is erased',
    () => {
      const slots = 16;
      const bench = table(slots);
      const [l1, l2] = collidingIds(2, slots, slots - 1) as [ObjectId, ObjectId];
      const [f1, f2] = collidingIds(2, slots, 0) as [ObjectId, ObjectId];
      expect(bench.table.insert(l1), 'an id homed at the last slot').toBe(slots - 1);
      expect(bench.table.insert(l2), 'the next one wraps to slot 0').toBe(0);
      expect(bench.table.insert(f1), 'an id homed at slot 0, which is taken').toBe(1);
      expect(bench.table.insert(f2)).toBe(2);
      bench.table.erase(l1);
      expect(bench.table.slot(slots - 1).state, 'the last slot is a tombstone').toBe(SlotState.tombstone);
      for (const [id, at, what] of [
        [l2, 0, 'homed at the last slot, found past its tombstone'],
        [f1, 1, 'homed at slot 0'],
        [f2, 2, 'homed at slot 0, second'],
        [l1, -1, 'erased'],
      ] as const) {
        expect(bench.table.find(id), what).toBe(at);
      }
      const again = collidingIds(1, slots, slots - 1)[0] as ObjectId;
      expect(bench.table.insert(again), 'a new id homed at the last slot takes its tombstone').toBe(slots - 1);
      expect(bench.table.stats(), 'counters').toMatchObject({ live: 4, tombstones: 0 });
      bench.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a table filled to exactly its size by ids of one home slot: the last sits just before home and is found after probing every slot; erased and inserted again, it takes the same slot',
    () => {
      const slots = 8;
      const home = 5;
      const bench = table(slots);
      const ids = collidingIds(slots, slots, home);
      const got = ids.map((id) => bench.table.insert(id));
      expect(got, 'from the home slot round to the slot before it').toEqual([5, 6, 7, 0, 1, 2, 3, 4]);
      ids.forEach((id, i) => expect(bench.table.find(id), `id #${i}, ${i + 1} probes from home`).toBe(got[i]));
      expect(() => bench.table.insert(collidingIds(1, slots, home)[0] as ObjectId), 'a ninth id').toThrowMiniRay('ERR_TABLE_FULL');
      const last = ids[slots - 1] as ObjectId;
      bench.table.erase(last);
      expect(bench.table.find(last), 'erased').toBe(-1);
      expect(() => bench.table.insert(ids[0] as ObjectId), 'the first id is still live').toThrowMiniRay('ERR_OBJECT_EXISTS');
      expect(bench.table.insert(last), 'the only free slot, reached after probing all the others').toBe(4);
      ids.forEach((id, i) => expect(bench.table.find(id), `id #${i} after the refill`).toBe(got[i]));
      expect(bench.table.stats(), 'a full table again').toMatchObject({ live: slots, tombstones: 0 });
      bench.close();
    },
    { weight: Severity.data },
  );
});

describe('phase 2 (hidden): the allocator on its own, at its boundaries', () => {
  const item = checklist.space;

  graded(
    item,
    'a fresh region takes one object of exactly the region less one header; one byte more is ERR_SHM_FULL and changes nothing',
    () => {
      const bench = allocator();
      const s = bench.allocator.stats();
      const whole = s.segmentSize - s.dataOffset - HEADER;
      const before = bench.allocator.blocks();
      expect(() => bench.allocator.allocate(whole + 1), `${whole + 1} bytes in a region of ${whole + HEADER}`).toThrowMiniRay('ERR_SHM_FULL');
      expect(bench.allocator.blocks(), 'a refused allocate changes no block').toEqual(before);
      const p = bench.allocator.allocate(whole);
      expect(p, 'the payload right after the first header').toBe(s.dataOffset + HEADER);
      const walk = expectSound(bench, 'after the whole region was taken');
      expect(walk.blocks, 'one allocated block').toHaveLength(1);
      expect(() => bench.allocator.allocate(0), 'nothing is left, not even for an empty object').toThrowMiniRay('ERR_SHM_FULL');
      bench.allocator.free(p);
      expect(expectSound(bench, 'after freeing it').blocks).toHaveLength(1);
      expect(bench.allocator.stats().largestFree).toBe(whole);
      bench.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'the smallest data region, a single header: its one free block holds exactly one empty object, largestFree is 0, and one byte more is ERR_SHM_FULL',
    () => {
      // The table's size moves where the data region starts: find one that leaves it one header
      // before the end of a page.
      let bench: ComponentBench | undefined;
      for (let slots = 1; slots <= 64 && bench === undefined; slots += 1) {
        const b = ComponentBench.create(sandbox.segment('one-header'), { slots, dataBytes: HEADER });
        b.allocator.init();
        const s = b.allocator.stats();
        if (s.segmentSize - s.dataOffset === HEADER) bench = b;
        else b.close();
      }
      if (bench === undefined) throw new Error('no table size of 1..64 slots leaves a data region of one header');
      const s = bench.allocator.stats();
      expect([s.largestFree, s.freeBlocks], 'one free block of a header alone').toEqual([0, 1]);
      expect(() => bench.allocator.allocate(1), 'one byte').toThrowMiniRay('ERR_SHM_FULL');
      expect(bench.allocator.allocate(0), 'an empty object takes the only block').toBe(s.dataOffset + HEADER);
      expect(() => bench.allocator.allocate(0), 'a second empty object').toThrowMiniRay('ERR_SHM_FULL');
      expect(bench.allocator.stats().largestFree, 'nothing free').toBe(0);
      bench.allocator.free(s.dataOffset + HEADER);
      expect(expectSound(bench, 'after freeing it').blocks).toHaveLength(1);
      bench.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'an object exactly the size of the largest free block (a hole in the middle, behind a smaller hole on the free list) takes it whole; one byte more is ERR_SHM_FULL',
    () => {
      const bench = allocator();
      // [small][sep][big][sep][the rest, taken]: then the holes are freed, big first, so the free
      // list is small -> big.
      const small = bench.allocator.allocate(256);
      bench.allocator.allocate(64);
      const big = bench.allocator.allocate(4096);
      bench.allocator.allocate(64);
      bench.allocator.allocate(bench.allocator.stats().largestFree);
      bench.allocator.free(big);
      bench.allocator.free(small);
      const s = bench.allocator.stats();
      expect(s.largestFree, 'largestFree looks past the head of the free list').toBe(4096);
      const before = bench.allocator.blocks();
      expect(() => bench.allocator.allocate(4097), '4097 bytes: more than any one free block, less than all free bytes').toThrowMiniRay(
        'ERR_SHM_FULL',
      );
      expect(bench.allocator.blocks(), 'a refused allocate changes no block').toEqual(before);
      expect(bench.allocator.allocate(4096), 'the exact fit takes the big hole, past the small one').toBe(big);
      const walk = expectSound(bench, 'after the exact fit');
      expect(walk.blocks.filter((b) => b.free === 1).map((b) => b.offset), 'only the small hole is free: no split').toEqual([small - HEADER]);
      expect(bench.allocator.stats().largestFree).toBe(256);
      bench.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'a free block one header larger than the object is split: the rest is a block of a header alone, free, and an empty object takes it exactly',
    () => {
      const bench = allocator();
      const hole = bench.allocator.allocate(1024); // a block of 64 + 1024
      bench.allocator.allocate(64);
      bench.allocator.allocate(bench.allocator.stats().largestFree);
      bench.allocator.free(hole);
      const p = bench.allocator.allocate(1024 - HEADER);
      expect(p, 'the object takes the front of the hole').toBe(hole);
      const walk = expectSound(bench, 'after the split');
      const rest = walk.blocks.find((b) => b.offset === hole - HEADER + 1024);
      expect(rest, 'a block right after the object').toBeDefined();
      expect([rest?.size, rest?.free], 'the rest: one header, free').toEqual([HEADER, 1]);
      expect(bench.allocator.stats().largestFree, 'the free block of a header alone holds 0 bytes').toBe(0);
      expect(bench.allocator.allocate(0), 'an empty object takes the header-alone block').toBe(hole + 1024);
      expect(expectSound(bench, 'after the empty object').blocks.every((b) => b.free === 0), 'nothing is free').toBe(true);
      bench.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'the first and the last block of the region freed, each beside allocated blocks only, then the one between: one block again, every boundary tag right',
    () => {
      const bench = allocator();
      const first = bench.allocator.allocate(500);
      const middle = bench.allocator.allocate(3000);
      const last = bench.allocator.allocate(bench.allocator.stats().largestFree);
      expect(bench.allocator.stats().freeBlocks, 'the region is full').toBe(0);
      bench.allocator.free(first);
      expectSound(bench, 'after freeing the first block (nothing before it)');
      bench.allocator.free(last);
      expectSound(bench, 'after freeing the last block (nothing after it)');
      expect(bench.allocator.stats().freeBlocks).toBe(2);
      bench.allocator.free(middle);
      const walk = expectSound(bench, 'after freeing the block between them');
      expect(walk.blocks, 'one block').toHaveLength(1);
      const s = bench.allocator.stats();
      expect([s.usedBytes, s.largestFree], 'used and largest free').toEqual([0, s.segmentSize - s.dataOffset - HEADER]);
      bench.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a region filled with empty objects (blocks of a header alone) to the last byte: one more is ERR_SHM_FULL; freed in two passes, every other first, it is one block again',
    () => {
      const bench = allocator(4096);
      const s0 = bench.allocator.stats();
      const n = (s0.segmentSize - s0.dataOffset) / HEADER;
      const payloads = Array.from({ length: n }, () => bench.allocator.allocate(0));
      expect(new Set(payloads).size, 'every empty object has a block of its own').toBe(n);
      expect(() => bench.allocator.allocate(0), `object ${n + 1} in a region of ${n} headers`).toThrowMiniRay('ERR_SHM_FULL');
      expectSound(bench, `after ${n} empty objects`);
      payloads.forEach((p, i) => {
        if (i % 2 === 0) bench.allocator.free(p);
      });
      expectSound(bench, 'after freeing every other block');
      expect(bench.allocator.stats().freeBlocks, 'no two of them are neighbours').toBe(Math.ceil(n / 2));
      payloads.forEach((p, i) => {
        if (i % 2 === 1) bench.allocator.free(p);
      });
      expect(expectSound(bench, 'after freeing the rest').blocks).toHaveLength(1);
      bench.close();
    },
    { weight: Severity.data },
  );
});
