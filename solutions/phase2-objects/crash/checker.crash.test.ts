// The segment checker finds what it promises to find: each test damages a healthy store in one way
// (as a bug or a stray write would) and expects the checker to say so. A checker that always says
// "ok" would make every crash-point test above worthless.
import { afterEach, describe, expect, test } from 'vitest';

import { removeTrackedSegments, uniqueSegmentName } from '../../../testkit/segments.js';
import { fixedId } from './scenarios.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../../../phase2-objects/index.js';
import { blockOffset, collidingIds, fieldAt, peek, poke, readU64, slotOffset, u32, u64 } from '../../../phase2-objects/test/fixtures.js';

afterEach(removeTrackedSegments);

const info = ObjectStore.layoutInfo();
const ENTRY = info['size.entry'] ?? 0;
const CLIENT = info['size.client'] ?? 0;

function slotAt(index: number): number {
  return (info['tableOffset'] ?? 0) + index * ENTRY;
}

function slotOf(name: string, id: ObjectId): number {
  return (slotOffset(name, id) - (info['tableOffset'] ?? 0)) / ENTRY;
}

function healthy(tableSize = 32): { name: string; store: ObjectStore; ids: ObjectId[] } {
  const name = uniqueSegmentName('checked');
  const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize });
  // Fixed ids: every run damages the same slots.
  const ids = [1000, 2000, 3000, 4000].map((n, i) => store.put(Buffer.alloc(n, i + 1), fixedId('checker', i)));
  store.delete(ids[1]!);
  ids.splice(1, 1);
  return { name, store, ids };
}

function problems(name: string): string {
  return ObjectStore.check(name).problems.join('\n');
}

function addU64(name: string, field: string, delta: number): void {
  poke(name, fieldAt(field), u64(readU64(name, fieldAt(field)) + delta));
}

describe('the segment checker', () => {
  test('a healthy store: no problems, and the counts, owners and pins it reports are right', () => {
    const { name, store, ids } = healthy();
    const unsealed = randomObjectId();
    store.create(unsealed, 100);
    store.get(ids[0]!);
    const r = ObjectStore.check(name);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, objects: 4, sealed: 3, pinned: 2, openTransaction: 0, repairPending: false });
    expect(r.usedBytes).toBe(store.stats().usedBytes);
    expect(r.clients).toEqual([
      expect.objectContaining({ pid: process.pid, alive: true, pins: 2, unsealed: 1, slot: store.debug.layout().client }),
    ]);
    store.close();
  });

  test('an id live in two slots, sharing one block', () => {
    const { name, store, ids } = healthy();
    const slot = slotOf(name, ids[0]!);
    const copy = peek(name, slotAt(slot), ENTRY);
    let free = (slot + 1) % 32;
    while (peek(name, slotAt(free) + fieldAt('entry.state'), 4).readUInt32LE() !== 0) free = (free + 1) % 32;
    poke(name, slotAt(free), copy);
    addU64(name, 'header.table.live', 1);
    addU64(name, 'header.sealedCount', 1);
    const p = problems(name);
    expect(p).toContain('is live twice');
    expect(p).toContain('shares its block');
    store.close();
  });

  test('a block that no entry owns (a leak)', () => {
    const { name, store, ids } = healthy();
    poke(name, slotAt(slotOf(name, ids[1]!)) + fieldAt('entry.state'), u32(1));
    addU64(name, 'header.table.live', -1);
    addU64(name, 'header.table.tombstones', 1);
    addU64(name, 'header.sealedCount', -1);
    expect(problems(name)).toContain('belongs to no object: it leaked');
    store.close();
  });

  test('an entry cut off from its home slot by an empty slot', () => {
    const name = uniqueSegmentName('unreachable');
    const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 32 });
    const [a, b] = collidingIds(2, 32, 7);
    store.put(Buffer.from('a'), a);
    store.put(Buffer.from('b'), b);
    poke(name, slotAt(7) + fieldAt('entry.state'), u32(0));
    const p = problems(name);
    expect(p).toContain('is unreachable');
    store.close();
  });

  test('blocks that do not tile the data region', () => {
    const { name, store, ids } = healthy();
    const block = blockOffset(name, ids[0]!);
    poke(name, block + fieldAt('block.size'), u64(readU64(name, block) + 64));
    expect(problems(name)).toContain('do not tile');
    store.close();
  });

  test('free space not coalesced, and a free block missing from the list', () => {
    const { name, store, ids } = healthy();
    // The last object is followed by the free tail: mark its block free without listing it.
    const block = blockOffset(name, ids[2]!);
    poke(name, block + fieldAt('block.free'), u32(1));
    const p = problems(name);
    expect(p).toContain('not coalesced');
    expect(p).toContain('not on the free list');
    store.close();
  });

  test('a free list that runs in a cycle', () => {
    const { name, store } = healthy();
    const head = readU64(name, fieldAt('header.allocator.freeHead'));
    poke(name, head + fieldAt('block.nextFree'), u64(head));
    poke(name, head + fieldAt('block.prevFree'), u64(head));
    expect(problems(name)).toMatch(/cycle|links back/);
    store.close();
  });

  test('counters that disagree with what they count', () => {
    const { name, store } = healthy();
    addU64(name, 'header.allocator.usedBytes', 64);
    addU64(name, 'header.sealedCount', 1);
    addU64(name, 'header.allocator.freeBlocks', 1);
    addU64(name, 'header.table.tombstones', 3);
    const p = problems(name);
    for (const what of ['used_bytes says', 'sealed_count says', 'free_blocks says', 'tombstones; there are']) {
      expect(p).toContain(what);
    }
    store.close();
  });

  test('pins of a client that is not open, and an unsealed object without its creator pin', () => {
    const { name, store, ids } = healthy();
    const unsealed = randomObjectId();
    store.create(unsealed, 64);
    const free = store.debug.layout().client === 5 ? 6 : 5;
    poke(name, slotAt(slotOf(name, ids[0]!)) + fieldAt('entry.pins') + 2 * free, Buffer.from([3, 0]));
    const me = store.debug.layout().client;
    poke(name, slotAt(slotOf(name, unsealed)) + fieldAt('entry.pins') + 2 * me, Buffer.from([0, 0]));
    const p = problems(name);
    expect(p).toContain('which is not open');
    expect(p).toContain('must hold exactly one pin');
    store.close();
  });

  test('an open transaction is checked as it will be once undone', () => {
    const { name, store } = healthy();
    const live = fieldAt('header.table.live');
    poke(name, live, u64(9));
    expect(problems(name), 'without the record, the damage shows').toContain('live entries');
    poke(name, fieldAt('header.journal.records'), Buffer.concat([u64(live), u64(3)]));
    poke(name, fieldAt('header.journal.count'), u32(1));
    const r = ObjectStore.check(name);
    expect(r.problems).toEqual([]);
    expect(r.openTransaction).toBe(1);
    poke(name, fieldAt('header.journal.records'), u64(3));
    expect(problems(name), 'a record no transaction may write').toContain('which no transaction may write');
    poke(name, fieldAt('header.journal.count'), u32(0));
    poke(name, live, u64(3));
    store.close();
  });

  test('a client record of a dead process is listed as not alive', () => {
    const { name, store } = healthy();
    const record = fieldAt('header.clients') + store.debug.layout().client * CLIENT;
    poke(name, record + fieldAt('client.startTime'), u64(1));
    const r = ObjectStore.check(name);
    expect(r.clients).toEqual([expect.objectContaining({ pid: process.pid, alive: false })]);
    store.close();
  });

  test('a segment that is not a phase-2 store is a report, not a crash', () => {
    const name = uniqueSegmentName('foreign');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    poke(name, 0, Buffer.from('NOTMINE!'));
    expect(problems(name)).toContain('magic');
    poke(name, 0, Buffer.alloc(4096, 0xab));
    expect(ObjectStore.check(name).ok).toBe(false);
    store.close();
  });
});
