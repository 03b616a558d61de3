// Checklist 4.5: the segment checker (`npm run miniray -- check NAME`, given) on the store you built.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { SHM_DIR } from '../../testkit/segments.js';
import { checkSegment } from '../../tools/miniray.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../index.js';
import { checkedObject, verifyChecked } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.repair;

// Writes `bytes` at `offset` of segment `name` from outside any store (damage), returning what was there.
function scribble(name: string, offset: number, bytes: Buffer): Buffer {
  const fd = openSync(`${SHM_DIR}${name}`, 'r+');
  try {
    const old = Buffer.alloc(bytes.length);
    readSync(fd, old, 0, bytes.length, offset);
    writeSync(fd, bytes, 0, bytes.length, offset);
    return old;
  } finally {
    closeSync(fd);
  }
}

describe('phase 4: the segment checker', () => {
  graded(
    item,
    'after churn with evictions, pins and deletes from two handles, the segment checker finds every invariant holding; a damaged block header or slot is named',
    async () => {
      const name = sandbox.segment('check');
      const store = ObjectStore.create(name, { capacity: 300_000, stripes: 4, slotsPerStripe: 32 });
      const other = ObjectStore.open(name);
      const ids: ObjectId[] = [];
      // Large objects (free list) and small ones (three size classes of the pool), more than fit.
      for (let i = 0; i < 24; i += 1) ids.push(store.put(checkedObject(i, i % 4 === 0 ? 30_000 : 100 + 300 * (i % 3))));
      const s = store.stats();
      expect(s.evictions, 'the churn evicted objects').toBeGreaterThan(0);
      const present = ids.filter((id) => store.contains(id));
      for (const id of present.slice(0, 4)) expect(verifyChecked(other.get(id)), `object ${id}`).toBe(true); // pinned
      for (const id of present.slice(0, 2)) other.release(id);
      for (const id of present.slice(4, 7)) store.delete(id);
      store.create(randomObjectId(), 700); // unsealed, pinned by its creator

      const sound = await checkSegment(name);
      expect(sound?.kind, 'the checker dispatches on the phase-4 magic').toBe('phase 4 store');
      expect(sound?.problems, 'the segment checker finds nothing wrong').toEqual([]);
      const report = ObjectStore.check(name);
      const after = store.stats();
      expect(report.objects, 'objects counted by the checker').toBe(after.objectCount);
      expect(report.lru, 'the LRU list walked by the checker').toBe(after.evictable);
      expect(report.pinned, 'pins counted by the checker: 2 by the reader, 1 by the creator').toBe(3);
      expect(report.usedBytes).toBe(after.usedBytes);

      // Real damage, from outside: the first block's magic, then stripe 0's first slot's state.
      const { dataOffset, tableOffset } = store.debug.layout();
      const magic = scribble(name, dataOffset + 16, Buffer.alloc(4));
      expect((await checkSegment(name))?.problems.join('\n')).toMatch(/block at \d+ has a damaged header/);
      scribble(name, dataOffset + 16, magic);
      const state = scribble(name, tableOffset + 20, Buffer.from([9, 0, 0, 0]));
      expect((await checkSegment(name))?.problems.join('\n')).toMatch(/stripe 0 slot 0 has an unknown state 9/);
      scribble(name, tableOffset + 20, state);
      expect((await checkSegment(name))?.problems, 'repaired by hand: sound again').toEqual([]);
      other.close();
      store.close();
    },
    { weight: Severity.data },
  );
});
