// Checklist 4.5: processes that die holding a lock.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../testkit/children.js';
import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, type LockRef } from '../index.js';
import { checkedObject, idsOfStripe, verifyChecked } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.repair;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

async function killHolder(name: string, lock: LockRef): Promise<void> {
  const child = await spawnChild({ label: 'victim' });
  void child.run(fx, 'holdLock', { name, lock }).catch(() => undefined);
  await child.waitEvent('locked');
  await child.kill('SIGKILL');
}

describe('phase 4: a process that dies holding a lock', () => {
  for (const lock of [{ stripe: 0 }, 'allocator', 'lru'] as const) {
    const what = typeof lock === 'string' ? `the ${lock} lock` : 'a stripe lock';
    graded(
      item,
      `a holder killed holding ${what}: the next operation repairs, every sealed object is intact, the counts are exact`,
      async () => {
        const name = sandbox.segment('kill');
        const store = ObjectStore.create(name, { capacity: 1 << 20, stripes: 2 });
        const ids = [...idsOfStripe(3, 2, 0), ...idsOfStripe(3, 2, 1)];
        ids.forEach((id, i) => store.put(checkedObject(i, 100 + i * 2000), id));
        const before = store.stats();
        await killHolder(name, lock);
        for (const id of ids) {
          expect(verifyChecked(store.get(id)), `object ${id} after the repair`).toBe(true);
          store.release(id);
        }
        const s = store.stats();
        expect(s.repairs, 'the segment was repaired once').toBe(1);
        expect(s.lockRecoveries).toBeGreaterThanOrEqual(1);
        expect(s.objectCount).toBe(ids.length);
        expect(s.usedBytes, 'no space lost or leaked').toBe(before.usedBytes);
        expect(s.evictable, 'the LRU list holds every object again').toBe(ids.length);
        expect(s.clients, "the dead process's handle was reclaimed").toBe(1);
        expect(ObjectStore.check(name).problems, 'the segment checker finds nothing wrong').toEqual([]);
        store.put(checkedObject(99, 5000));
        store.close();
      },
      { weight: Severity.data },
    );
  }
});
