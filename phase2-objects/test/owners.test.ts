// Checklist 2.5: owners. Every handle is a client recorded in the segment (pid and start time);
// what a client of a dead process held, any process gives back.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../testkit/children.js';
import { Severity, graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId } from '../index.js';

const sandbox = useSandbox();
const item = checklist.owners;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('phase 2: owners', () => {
  graded(
    item,
    'a process killed while it writes its unsealed object (not holding the lock): reclaim() aborts the object, and its id and space are free again',
    async () => {
      const name = sandbox.segment('dead-creator');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const before = store.stats();
      const id = randomObjectId();
      const child = await spawnChild({ label: 'creator' });
      void child.run(fx, 'createAndHold', { name, id, size: 5000 }).catch(() => undefined);
      await child.waitEvent('created');
      expect(store.stats().clients, 'the child is a client of the store').toBe(2);
      await child.kill('SIGKILL');
      expect(store.reclaim(), 'the dead client, and the object it will never seal').toEqual({
        clients: 1,
        pins: 0,
        objects: 1,
      });
      expect(ObjectStore.check(name).problems, 'the segment checker finds nothing wrong').toEqual([]);
      const after = store.stats();
      expect(after.objectCount).toBe(before.objectCount);
      expect(after.usedBytes, 'its space came back').toBe(before.usedBytes);
      expect(after.clients, 'only this handle is left').toBe(1);
      store.put(Buffer.from('second life'), id);
      expect(store.get(id).toString()).toBe('second life');
      expect(store.reclaim(), 'nothing more to give back').toEqual({ clients: 0, pins: 0, objects: 0 });
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a process killed holding pins: reclaim() gives them back, and the object can be deleted',
    async () => {
      const name = sandbox.segment('dead-reader');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const id = store.put(Buffer.from('read by the dead'));
      const child = await spawnChild({ label: 'reader' });
      void child.run(fx, 'pinAndHold', { name, id }).catch(() => undefined);
      await child.waitEvent('pinned');
      expect(() => store.delete(id), 'pinned by the child').toThrowMiniRay('ERR_OBJECT_IN_USE');
      await child.kill('SIGKILL');
      expect(store.reclaim()).toEqual({ clients: 1, pins: 1, objects: 0 });
      expect(ObjectStore.check(name).problems, 'the segment checker finds nothing wrong').toEqual([]);
      expect(store.stats().pinned).toBe(0);
      store.delete(id);
      expect(store.stats().objectCount).toBe(0);
      store.close();
    },
    { weight: Severity.behaviour },
  );
});
