// Checklist 2.5: several processes on one store.
import { describe, expect } from 'vitest';

import { barrier, fixtures, spawnChildren } from '../../testkit/children.js';
import { graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore } from '../index.js';

const sandbox = useSandbox();
const item = checklist.stress;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('phase 2: two processes', () => {
  graded(item, 'two processes creating, reading and deleting at once lose and corrupt nothing', async () => {
    const name = sandbox.segment('two');
    const store = ObjectStore.create(name, { capacity: 1 << 20, tableSize: 512 });
    const children = await spawnChildren(2);
    const runs = children.map((c, i) =>
      c.run(fx, 'churn', { name, child: i, children: 2, ops: 300, maxSize: 2000, seed: 7, keep: 60 }, 60_000),
    );
    await barrier(children);
    const reports = await Promise.all(runs);
    for (const r of reports) expect(r.failures, 'failures inside a child').toEqual([]);
    const live = reports.flatMap((r) => r.live);
    expect(store.stats().objectCount, 'every object still in the store is one a child kept').toBe(live.length);
    expect(await children[0]?.run(fx, 'verifyIds', { name, ids: live })).toEqual([]);
    expect(store.stats().pinned, 'every get was released').toBe(0);
    store.close();
  });
});
