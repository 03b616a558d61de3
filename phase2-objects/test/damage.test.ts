// Checklist 2.6: what the lesson promises about a damaged segment, checked in public: block headers
// scribbled over by a stray write give typed errors in every process, never a crash.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../testkit/children.js';
import { graded, Severity } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId } from '../index.js';
import { blockOffset, scribble } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.stress;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));
const TYPED = ['ok', 'ERR_SEGMENT_CORRUPT', 'ERR_OBJECT_NOT_FOUND', 'ERR_SHM_FULL', 'ERR_TABLE_FULL'];

describe('phase 2: a damaged segment', () => {
  graded(
    item,
    'block headers scribbled over by a stray write: get, delete, create and stats in another process give typed errors, never a crash',
    async () => {
      const name = sandbox.segment('scribbled-blocks');
      const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 32 });
      const ids = [0, 1, 2].map((i) => store.put(Buffer.alloc(300, i)));
      for (const id of ids) scribble(name, blockOffset(name, id), 64, 0xab);
      const child = await spawnChild({ label: 'prober' });
      const r = await child.run(fx, 'probeCorrupt', { name, ids, extra: randomObjectId() }, 10_000);
      expect(r.del, 'delete must check the block header it frees').toContain('ERR_SEGMENT_CORRUPT');
      for (const o of [...r.get, ...r.del, r.create, r.contains, r.stats]) expect(TYPED, 'every outcome is typed').toContain(o);
      expect(child.alive, 'the prober survived').toBe(true);
      store.close();
    },
    { weight: Severity.data },
  );

});
