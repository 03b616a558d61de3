// Hidden suite, checklist 2.6: four processes at once, and a process that dies holding the lock.
import { describe, expect } from 'vitest';

import { barrier, fixtures, spawnChild, spawnChildren } from '../../../testkit/children.js';
import { graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, randomObjectId } from '../../../phase2-objects/index.js';
import { checkedObject, verifyChecked } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.stress;
const fx = fixtures<typeof import('../../../phase2-objects/test/fixtures.js')>(
  new URL('../../../phase2-objects/test/fixtures.ts', import.meta.url),
);

describe('phase 2 (hidden): many processes', () => {
  graded(
    item,
    '4 processes x 2,000 mixed operations with a checksum in every object: nothing lost, nothing corrupted, counts exact',
    async () => {
      const name = sandbox.segment('stress');
      const store = ObjectStore.create(name, { capacity: 4 << 20, tableSize: 1024, lockTimeoutMs: 20_000 });
      const children = await spawnChildren(4);
      const runs = children.map((c, i) =>
        c.run(fx, 'churn', { name, child: i, children: 4, ops: 2000, maxSize: 6000, seed: 99, keep: 120 }, 120_000),
      );
      await barrier(children);
      const reports = await Promise.all(runs);
      reports.forEach((r, i) => expect(r.failures, `failures in child ${i}`).toEqual([]));
      const live = reports.flatMap((r) => r.live);
      const s = store.stats();
      expect(s.objectCount, 'objects in the store = objects the children kept').toBe(live.length);
      expect(s.sealedCount).toBe(live.length);
      expect(s.pinned, 'every pin was released').toBe(0);
      expect(reports.reduce((n, r) => n + r.othersRead, 0), 'the children read each other\'s objects').toBeGreaterThan(0);
      expect(await children[0]!.run(fx, 'verifyIds', { name, ids: live }, 60_000)).toEqual([]);
      for (const id of live) store.delete(id);
      const end = store.stats();
      expect(end.usedBytes, 'all deleted: no block leaked').toBe(0);
      expect(end.objectCount).toBe(0);
      store.close();
    },
    180_000,
  );

  graded(item, 'a process SIGKILLed holding the lock: the next locker recovers and every object is intact', async () => {
    const name = sandbox.segment('lockdeath');
    const store = ObjectStore.create(name, { capacity: 1 << 18, tableSize: 64, lockTimeoutMs: 2000 });
    const objects = [1, 2, 3, 4, 5].map((seed) => {
      const data = checkedObject(seed, 1000 * seed);
      return { id: store.put(data), data };
    });
    store.delete(objects[1]!.id);
    const victim = await spawnChild({ label: 'victim' });
    void victim.run(fx, 'holdLock', { name }).catch(() => undefined);
    await victim.waitEvent('locked');
    await victim.kill('SIGKILL');
    const fresh = store.put(checkedObject(77, 3000));
    const s = store.stats();
    expect(s.lockRecoveries, 'the takeover is counted').toBe(1);
    expect(s.objectCount).toBe(5);
    for (const { id } of [objects[0]!, ...objects.slice(2), { id: fresh }]) {
      expect(verifyChecked(store.get(id)), `object ${id}`).toBe(true);
      store.release(id);
      store.delete(id);
    }
    expect(store.stats().usedBytes).toBe(0);
    expect(() => store.create(randomObjectId(), Math.floor(s.capacity * 0.95))).not.toThrow();
    store.close();
  });
});
