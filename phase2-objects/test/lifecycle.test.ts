// Checklist 2.3: Plasma's object lifecycle.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../testkit/children.js';
import { Severity, graded } from '../../testkit/graded.js';
import { waitUntilAsleep } from '../../testkit/asleep.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ObjectStore, randomObjectId } from '../index.js';
import { sha1 } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.lifecycle;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('phase 2: create, seal, abort, get', () => {
  graded(item, 'create() returns a writable view of the requested size; the object is invisible until sealed', () => {
    const store = ObjectStore.create(sandbox.segment('create'), { capacity: 1 << 16 });
    const id = randomObjectId();
    const view = store.create(id, 6);
    expect(view.length, 'the view has the requested size').toBe(6);
    view.write('plasma');
    expect(store.contains(id), 'contains() is false before seal').toBe(false);
    expect(() => store.get(id), 'get() of an unsealed object with timeoutMs 0').toThrowMiniRay('ERR_TIMEOUT');
    store.seal(id);
    expect(store.contains(id), 'contains() is true after seal').toBe(true);
    expect(store.get(id).toString()).toBe('plasma');
    store.close();
  });

  graded(item, 'create of an existing id is ERR_OBJECT_EXISTS; a second seal is ERR_OBJECT_SEALED', () => {
    const store = ObjectStore.create(sandbox.segment('exists'), { capacity: 1 << 16 });
    const id = randomObjectId();
    store.create(id, 10);
    expect(() => store.create(id, 10)).toThrowMiniRay('ERR_OBJECT_EXISTS');
    store.seal(id);
    expect(() => store.seal(id)).toThrowMiniRay('ERR_OBJECT_SEALED');
    expect(() => store.put(Buffer.from('x'), id)).toThrowMiniRay('ERR_OBJECT_EXISTS');
    store.close();
  });

  graded(item, 'abort() drops an unsealed object and its id can be created again', () => {
    const store = ObjectStore.create(sandbox.segment('abort'), { capacity: 1 << 16 });
    const id = randomObjectId();
    store.create(id, 1000);
    store.abort(id);
    expect(store.stats().objectCount).toBe(0);
    expect(store.stats().usedBytes, 'the aborted object gave its space back').toBe(0);
    expect(() => store.get(id)).toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
    store.put(Buffer.from('second life'), id);
    expect(store.get(id).toString()).toBe('second life');
    store.close();
  });

  graded(item, 'getAsync() resolves when the object is sealed, and the event loop keeps running meanwhile', async () => {
    const name = sandbox.segment('async');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const id = randomObjectId();
    const view = store.create(id, 5);
    const pending = store.getAsync(id, { timeoutMs: 10_000 });
    await waitUntilAsleep(process.pid, name); // a pool thread of this process sleeps in the get
    // While it sleeps, this thread's event loop still runs: three timer ticks come and go.
    let ticks = 0;
    const ticked = await new Promise<boolean>((resolve) => {
      const giveUp = setTimeout(() => resolve(false), 5000);
      const timer = setInterval(() => {
        ticks += 1;
        if (ticks < 3) return;
        clearInterval(timer);
        clearTimeout(giveUp);
        resolve(true);
      }, 1);
    });
    expect(ticked, 'timers fired while the get was waiting: it did not block the event loop').toBe(true);
    view.write('ready');
    store.seal(id);
    expect((await pending).toString()).toBe('ready');
    store.close();
  });

  graded(item, 'a get() waiting in another process wakes up when this process seals', async () => {
    const name = sandbox.segment('wake');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const id = randomObjectId();
    const child = await spawnChild({ label: 'waiter' });
    const waiting = child.run(fx, 'waitGet', { name, id, timeoutMs: 4000, mode: 'sync' });
    await child.waitEvent('waiting');
    await waitUntilAsleep(child.pid, name); // the child is asleep inside get()
    const data = Buffer.from('sealed by the parent');
    store.create(id, data.length).set(data);
    store.seal(id);
    const result = await waiting;
    expect(result.outcome, 'the waiting get returns the object').toBe('ok');
    expect(result.sha1).toBe(sha1(data));
    expect(result.elapsedMs, 'the seal woke it: it did not sleep until its 4000 ms timeout').toBeLessThan(3500);
    store.close();
  });

  graded(
    item,
    'only its creator may abort an unsealed object: another process gets ERR_OBJECT_IN_USE and the object survives',
    async () => {
      const name = sandbox.segment('abort-owner');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const id = randomObjectId();
      const view = store.create(id, 6);
      const child = await spawnChild();
      expect(await child.run(fx, 'tryOp', { name, id, op: 'abort' }), 'abort from a process that did not create it').toBe(
        'ERR_OBJECT_IN_USE',
      );
      // The creator keeps writing through its view: the space is still its object's.
      view.write('intact');
      store.seal(id);
      store.release(id);
      expect(store.get(id).toString()).toBe('intact');
      expect(store.stats().objectCount).toBe(1);
      store.close();
    },
    { weight: Severity.data },
  );
});
