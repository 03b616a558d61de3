// Hidden suite, checklist 2.4: the allocator reuses, splits exactly, coalesces, and checks offsets.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../../../phase2-objects/index.js';
import { blockOffset, checkedObject, peek, poke, scribble, verifyChecked } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.refcount;
const fx = fixtures<typeof import('../../../phase2-objects/test/fixtures.js')>(
  new URL('../../../phase2-objects/test/fixtures.ts', import.meta.url),
);
const CAPACITY = 1 << 20;

// A deterministic generator, so a failure replays exactly.
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

describe('phase 2 (hidden): space', () => {
  graded(item, '10x the capacity created and deleted in mixed sizes: no ERR_SHM_FULL, nothing corrupted', () => {
    const store = ObjectStore.create(sandbox.segment('tenfold'), { capacity: CAPACITY, tableSize: 512 });
    const rand = rng(20240601);
    const live: Array<{ id: ObjectId; seed: number }> = [];
    let liveBytes = 0;
    let total = 0;
    let seed = 1;
    const sizes = [8, 63, 64, 65, 500, 4096, 4097, 20_000, 65_536];
    while (total < 10 * CAPACITY) {
      const size = rand(3) === 0 ? (sizes[rand(sizes.length)] ?? 8) : 8 + rand(40_000);
      // Keep at most a third of the capacity live: there is always room, if space is reused.
      while (liveBytes + size > CAPACITY / 3 && live.length > 0) {
        const [victim] = live.splice(rand(live.length), 1);
        const view = store.get(victim!.id);
        expect(verifyChecked(view), `object ${victim!.id} intact before its delete`).toBe(true);
        liveBytes -= view.length;
        store.release(victim!.id);
        store.delete(victim!.id);
      }
      const id = randomObjectId();
      seed += 1;
      if (rand(6) === 0) {
        store.create(id, size);
        store.abort(id); // aborted space must come back too
        continue;
      }
      const data = checkedObject(seed, size);
      const view = store.create(id, data.length);
      data.copy(view);
      store.seal(id);
      store.release(id); // the creator's pin, held since create()
      live.push({ id, seed });
      liveBytes += data.length;
      total += data.length;
    }
    for (const { id } of live) {
      expect(verifyChecked(store.get(id)), `object ${id} intact at the end`).toBe(true);
      store.release(id);
      store.delete(id);
    }
    const s = store.stats();
    expect(s.usedBytes, 'everything deleted: nothing used').toBe(0);
    expect(s.objectCount).toBe(0);
    expect(() => store.create(randomObjectId(), Math.floor(s.capacity * 0.95)), 'the free space is one piece again').not.toThrow();
    store.close();
  });

  graded(item, 'a freed block merges with free neighbours on both sides', () => {
    const store = ObjectStore.create(sandbox.segment('both'), { capacity: CAPACITY });
    const fifth = Math.floor(CAPACITY / 5) - 1024;
    const ids = [0, 1, 2, 3, 4].map((i) => store.put(Buffer.alloc(fifth, i)));
    store.delete(ids[1]!);
    store.delete(ids[3]!);
    expect(() => store.create(randomObjectId(), 2 * fifth), 'two separate holes, neither big enough').toThrowMiniRay(
      'ERR_SHM_FULL',
    );
    store.delete(ids[2]!); // joins the holes on its left and on its right
    const big = randomObjectId();
    const view = store.create(big, 3 * fifth);
    view.fill(9);
    store.seal(big);
    expect(store.get(ids[0]!).equals(Buffer.alloc(fifth, 0)), 'the left neighbour is untouched').toBe(true);
    expect(store.get(ids[4]!).equals(Buffer.alloc(fifth, 4)), 'the right neighbour is untouched').toBe(true);
    store.close();
  });

  graded(item, 'adjacent objects of awkward sizes never overlap (exact splitting)', () => {
    const store = ObjectStore.create(sandbox.segment('split'), { capacity: CAPACITY, tableSize: 256 });
    const sizes = [0, 1, 63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 256, 257, 1000, 4095, 4096, 4097];
    // Leave holes of odd sizes behind, then fill them: splits of every size.
    const first = sizes.map((n) => store.put(Buffer.alloc(n, 1)));
    first.filter((_, i) => i % 2 === 0).forEach((id) => store.delete(id));
    const objects = sizes.flatMap((n, i) =>
      [n, n + 1, Math.max(0, n - 1)].map((m, k) => {
        const data = Buffer.alloc(m, (i * 3 + k) % 250);
        return { id: store.put(data), data };
      }),
    );
    for (const { id, data } of objects) {
      const view = store.get(id);
      expect(view.length).toBe(data.length);
      expect(view.equals(data), `object of ${data.length} bytes intact after its neighbours were written`).toBe(true);
      expect(view.byteOffset % 64, 'payloads are 64-byte aligned').toBe(0);
    }
    store.close();
  });

  graded(item, 'a scribbled-over data region gives ERR_SEGMENT_CORRUPT, never a crash', async () => {
    const name = sandbox.segment('corrupt-data');
    const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 32 });
    const ids = [0, 1, 2, 3].map((i) => store.put(Buffer.alloc(500, i)));
    const layout = store.debug.layout();
    scribble(name, layout.dataOffset, layout.dataBytes, 0xab);
    const child = await spawnChild({ label: 'prober' });
    const r = await child.run(fx, 'probeCorrupt', { name, ids, extra: randomObjectId() }, 10_000);
    for (const o of [...r.del, r.create, r.stats]) {
      expect(['ok', 'ERR_SEGMENT_CORRUPT'], 'only clean results or ERR_SEGMENT_CORRUPT').toContain(o);
    }
    expect(child.alive, 'the prober survived').toBe(true);
    store.close();
  });

  graded(
    item,
    'a delete that fails half-way (the next block is damaged) changes nothing: counters, blocks and table as before',
    () => {
      const name = sandbox.segment('half-way');
      const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 32 });
      const ids = [1000, 1000, 1000].map((n, i) => store.put(Buffer.alloc(n, i + 1)));
      const before = store.stats();
      // The third object's block header, right after the second object's block.
      const third = blockOffset(name, ids[2]!);
      const saved = peek(name, third, 64);
      scribble(name, third + 16, 4, 0xee); // its magic
      expect(() => store.delete(ids[1]!)).toThrowMiniRay('ERR_SEGMENT_CORRUPT');
      poke(name, third, saved);
      const after = store.stats();
      expect(after.usedBytes, 'the failed free gave nothing back').toBe(before.usedBytes);
      expect(after.freeBlocks).toBe(before.freeBlocks);
      expect(after.objectCount).toBe(before.objectCount);
      expect(ObjectStore.check(name).problems, 'the segment is exactly as before').toEqual([]);
      store.delete(ids[1]!);
      expect(store.stats().usedBytes).toBe(before.usedBytes - 1088);
      store.close();
    },
    { weight: Severity.data },
  );
});
