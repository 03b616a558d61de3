// Checklist 2.6: several processes on one store.
import { describe, expect } from 'vitest';

import { barrier, fixtures, spawnChild, spawnChildren } from '../../testkit/children.js';
import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore } from '../index.js';
import { fieldAt, peek, poke, u32, u64 } from './fixtures.js';

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
    expect(ObjectStore.check(name).problems, 'the segment checker finds nothing wrong').toEqual([]);
    store.close();
  });

  graded(
    item,
    'a holder killed in the middle of a change: the next locker undoes the change from the journal',
    async () => {
      const name = sandbox.segment('undo');
      const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 64 });
      const a = store.put(Buffer.from('first'));
      const b = store.put(Buffer.from('second'));
      const victim = await spawnChild({ label: 'victim' });
      void victim.run(fx, 'holdLock', { name }).catch(() => undefined);
      await victim.waitEvent('locked');
      // What a process killed half-way through a change leaves: the table's live count already
      // changed (to 5), and the journal still holds the word's old value (2).
      const live = fieldAt('header.table.live');
      poke(name, live, u64(5));
      poke(name, fieldAt('header.journal.records'), Buffer.concat([u64(live), u64(2)]));
      poke(name, fieldAt('header.journal.count'), u32(1));
      await victim.kill('SIGKILL');
      const s = store.stats();
      expect(s.lockRecoveries, 'the next locker took over the lock').toBe(1);
      expect(s.objectCount, 'the half-done change was undone').toBe(2);
      expect(peek(name, fieldAt('header.journal.count'), 4).readUInt32LE(), 'the journal is empty again').toBe(0);
      expect(ObjectStore.check(name).problems).toEqual([]);
      expect(store.get(a).toString()).toBe('first');
      expect(store.get(b).toString()).toBe('second');
      store.close();
    },
    { weight: Severity.data },
  );
});
