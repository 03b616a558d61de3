// Checklist 2.1: the object table on its own (src/object_table.cc), before any ObjectStore exists.
// These tests need nothing but ObjectTable: they pass as soon as the table is right.
import { describe, expect } from 'vitest';

import { randomObjectId, type ObjectId } from '../../lib/ids.js';
import { graded, Severity } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ComponentBench, SlotState, type SlotView } from '../components.js';

const sandbox = useSandbox();
const item = checklist.table;

function table(slots: number): ComponentBench {
  const bench = ComponentBench.create(sandbox.segment('table'), { slots, dataBytes: 4096 });
  bench.table.init();
  return bench;
}

// `n` fresh ids whose probe paths all start at `home`.
function colliding(n: number, slots: number, home: number): ObjectId[] {
  const out: ObjectId[] = [];
  while (out.length < n) {
    const id = randomObjectId();
    if (ComponentBench.homeSlot(id, slots) === home) out.push(id);
  }
  return out;
}

function allSlots(bench: ComponentBench): SlotView[] {
  return Array.from({ length: bench.table.stats().slots }, (_, i) => bench.table.slot(i));
}

describe('phase 2: the object table on its own', () => {
  graded(
    item,
    'Init: every slot empty, the header records the offset and slot count; 0 slots and more than 2^22 are ERR_INVALID_ARGUMENT',
    () => {
      const bench = table(64);
      const s = bench.table.stats();
      expect(s.offset, 'TableHeader::offset: where the entries start').toBe(s.tableOffset);
      expect(s.slots, 'TableHeader::slots').toBe(64);
      expect([s.live, s.tombstones], 'live and tombstones of an empty table').toEqual([0, 0]);
      expect(allSlots(bench).every((v) => v.state === SlotState.empty), 'every slot is empty').toBe(true);
      bench.close();
      // Init asked for fewer or more slots than the limits allow.
      for (const slots of [0, 2 ** 22 + 1]) {
        const b = ComponentBench.create(sandbox.segment('bad-init'), { slots: 1, dataBytes: 4096 });
        expect(() => b.table.init(slots), `Init with ${slots} slots`).toThrowMiniRay('ERR_INVALID_ARGUMENT');
        b.close();
      }
    },
    { weight: Severity.code },
  );

  graded(
    item,
    'insert puts an id at its home slot and find returns that slot; a second insert of a live id is ERR_OBJECT_EXISTS; live counts entries',
    () => {
      const bench = table(64);
      const ids = Array.from({ length: 10 }, () => randomObjectId());
      const slots = ids.map((id) => bench.table.insert(id));
      expect(slots[0], 'the first id in an empty table lands at its home slot').toBe(ComponentBench.homeSlot(ids[0] as ObjectId, 64));
      ids.forEach((id, i) => {
        expect(bench.table.find(id), `find of id #${i}`).toBe(slots[i]);
        const v = bench.table.slot(slots[i] as number);
        expect(v.id, `the slot insert returned holds id #${i}`).toBe(id);
        expect(v.state, `a new entry is unsealed (SlotState 2)`).toBe(SlotState.unsealed);
      });
      expect(() => bench.table.insert(ids[0] as ObjectId)).toThrowMiniRay('ERR_OBJECT_EXISTS');
      expect(bench.table.stats().live, 'live entries').toBe(ids.length);
      expect(bench.table.find(randomObjectId()), 'an id never inserted').toBe(-1);
      bench.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'ids that share a home slot take the slots after it in turn, wrapping past the last one, and all stay found after one in the middle is erased',
    () => {
      const slots = 16;
      const bench = table(slots);
      const ids = colliding(5, slots, slots - 2); // homes at slot 14: they fill 14, 15, 0, 1, 2
      const got = ids.map((id) => bench.table.insert(id));
      expect(got, 'linear probing from slot 14, wrapping around').toEqual([14, 15, 0, 1, 2]);
      bench.table.erase(ids[2] as ObjectId);
      expect(bench.table.slot(0).state, 'the erased entry leaves a tombstone, not an empty slot').toBe(SlotState.tombstone);
      ids.forEach((id, i) => expect(bench.table.find(id), `id #${i} after #2 was erased`).toBe(i === 2 ? -1 : got[i]));
      expect(bench.table.stats(), 'counters after one erase').toMatchObject({ live: 4, tombstones: 1 });
      bench.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'insert takes the first tombstone on its path, but only after checking that the id is not further along it',
    () => {
      const slots = 16;
      const bench = table(slots);
      const [a, b, c, d] = colliding(4, slots, 3) as [ObjectId, ObjectId, ObjectId, ObjectId];
      for (const id of [a, b, c]) bench.table.insert(id);
      bench.table.erase(b); // slot 4 is a tombstone now, c is at 5
      expect(() => bench.table.insert(c), 'c is live beyond the tombstone').toThrowMiniRay('ERR_OBJECT_EXISTS');
      expect(bench.table.insert(d), 'a new id reuses the tombstone').toBe(4);
      expect(bench.table.stats(), 'the tombstone became an entry').toMatchObject({ live: 3, tombstones: 0 });
      bench.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a table with every slot taken refuses insert with ERR_TABLE_FULL, and a find of an absent id still ends (-1)',
    () => {
      const slots = 8;
      const bench = table(slots);
      const ids = Array.from({ length: slots }, () => randomObjectId());
      ids.forEach((id) => bench.table.insert(id));
      expect(() => bench.table.insert(randomObjectId())).toThrowMiniRay('ERR_TABLE_FULL');
      expect(bench.table.find(randomObjectId()), 'no empty slot ends the walk: it must stop after every slot').toBe(-1);
      bench.table.erase(ids[5] as ObjectId);
      expect(bench.table.find(randomObjectId()), 'a table of entries and one tombstone').toBe(-1);
      const again = randomObjectId();
      bench.table.insert(again);
      expect(bench.table.find(again)).toBeGreaterThanOrEqual(0);
      bench.close();
    },
    { weight: Severity.data, timeoutMs: 10_000 },
  );

  graded(
    item,
    'insert and erase write every word through the journal: undone instead of committed, they leave every slot and counter as it was',
    () => {
      const slots = 16;
      const bench = table(slots);
      const [a, b, c] = colliding(3, slots, 9) as [ObjectId, ObjectId, ObjectId];
      bench.table.insert(a);
      bench.table.insert(b);
      bench.table.erase(a);
      const before = allSlots(bench);
      bench.table.insert(c, { commit: false });
      expect(allSlots(bench), 'after an insert that was undone').toEqual(before);
      expect(bench.table.stats(), 'counters after an undone insert').toMatchObject({ live: 1, tombstones: 1 });
      bench.table.erase(b, { commit: false });
      expect(allSlots(bench), 'after an erase that was undone').toEqual(before);
      expect(bench.table.stats(), 'counters after an undone erase').toMatchObject({ live: 1, tombstones: 1 });
      expect(bench.table.find(b), 'b is still there').toBe(10);
      bench.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'churn: 4,000 inserts and erases in 32 slots, with tidy() after each erase, leave an empty slot at all times and every live id found',
    () => {
      const slots = 32;
      const bench = table(slots);
      const live: ObjectId[] = [];
      let x = 12345;
      const rand = (n: number): number => {
        x = (x * 1103515245 + 12345) >>> 0;
        return (x >>> 8) % n;
      };
      for (let step = 0; step < 4000; step += 1) {
        if (live.length < 20 && (live.length < 4 || rand(2) === 0)) {
          const id = randomObjectId();
          bench.table.insert(id);
          live.push(id);
        } else {
          const [id] = live.splice(rand(live.length), 1) as [ObjectId];
          bench.table.erase(id);
          bench.table.tidy();
          const s = bench.table.stats();
          expect(s.live + s.tombstones, `step ${step}: tombstones may not fill the table (live ${s.live}, tombstones ${s.tombstones})`).toBeLessThan(slots);
        }
        if (step % 97 === 0) {
          live.forEach((id, i) => expect(bench.table.find(id), `step ${step}: live id #${i}`).toBeGreaterThanOrEqual(0));
          const states = allSlots(bench).map((v) => v.state);
          const s = bench.table.stats();
          expect(states.filter((st) => st === SlotState.tombstone).length, `step ${step}: tombstones counted exactly`).toBe(s.tombstones);
          expect(s.live, `step ${step}: live counted exactly`).toBe(live.length);
        }
      }
      live.forEach((id, i) => expect(bench.table.find(id), `live id #${i} at the end`).toBeGreaterThanOrEqual(0));
      bench.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    item,
    "Check: a second table over the segment finds the first one's entries; slots of 0, a table larger than the mapping or at another offset are ERR_LAYOUT_MISMATCH",
    () => {
      const bench = table(64);
      const ids = Array.from({ length: 5 }, () => randomObjectId());
      const at = ids.map((id) => bench.table.insert(id));
      bench.table.check();
      ids.forEach((id, i) => expect(bench.table.find(id), `id #${i} seen by the opener's table`).toBe(at[i]));
      const good = bench.table.stats();
      for (const [field, value] of [
        ['table.slots', 0],
        ['table.slots', 2 ** 22],
        ['table.offset', good.tableOffset + 192],
        ['table.offset', 2 ** 40],
      ] as const) {
        bench.poke(field, value);
        expect(() => bench.table.check(), `${field} = ${value}`).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
        bench.poke('table.slots', good.slots);
        bench.poke('table.offset', good.offset);
      }
      bench.table.check();
      expect(bench.table.find(ids[0] as ObjectId), 'a sound header is accepted again').toBe(at[0]);
      bench.close();
    },
    { weight: Severity.behaviour },
  );
});
