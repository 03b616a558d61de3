// Checklist 1.4: several processes on one segment.
import { describe, expect } from 'vitest';

import { barrier, fixtures, spawnChildren } from '../../testkit/children.js';
import { graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ShmStore } from '../index.js';

const sandbox = useSandbox();
const item = checklist.multiprocess;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('phase 1: two processes', () => {
  graded(item, 'objects put by two processes at once all read back byte-exact in a third', async () => {
    const name = sandbox.segment('two');
    const store = ShmStore.create(name, { capacity: 1 << 20, maxObjects: 256 });
    const children = await spawnChildren(2);
    const runs = children.map((c, i) =>
      c.run(fx, 'putMany', { name, count: 50, seed: i + 1, maxSize: 2000, barrier: true }),
    );
    await barrier(children);
    const records = (await Promise.all(runs)).flat();
    expect(store.stats().objectCount).toBe(100);
    expect(await children[0]?.run(fx, 'verifyAll', { name, records })).toEqual([]);
    store.close();
  });

  graded(item, 'a write through a view in one process is seen by get() in another', async () => {
    const name = sandbox.segment('shared');
    const store = ShmStore.create(name, { capacity: 4096 });
    const id = store.put(Buffer.from('plasma'));
    const [child] = await spawnChildren(1);
    await child?.run(fx, 'pokeByte', { name, id, index: 0, value: 0x50 });
    expect(store.get(id).toString(), 'the child wrote into the same physical memory').toBe('Plasma');
    store.close();
  });
});
