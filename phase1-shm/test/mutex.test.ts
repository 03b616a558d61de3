// Checklist 1.2: a process-shared, robust mutex with bounded waits.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../testkit/children.js';
import { graded, Severity } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ShmStore } from '../index.js';

const sandbox = useSandbox();
const item = checklist.mutex;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('phase 1: the lock', () => {
  graded(item, 'a lock held by another process makes lock() fail with ERR_LOCK_TIMEOUT naming its pid', async () => {
    const name = sandbox.segment('timeout');
    const store = ShmStore.create(name, { capacity: 4096, lockTimeoutMs: 300 });
    const child = await spawnChild({ label: 'holder' });
    const holding = child.run(fx, 'holdLock', { name });
    await child.waitEvent('locked');
    expect(() => store.debug.lock()).toThrowMiniRay('ERR_LOCK_TIMEOUT', String(child.pid));
    child.signal('release');
    await holding;
    expect(() => store.debug.lock(), 'the lock works once released').not.toThrow();
    store.debug.unlock();
    expect(store.stats().lockRecoveries, 'a lock given back is no takeover').toBe(0);
    store.close();
  });

  graded(item, 'a process SIGKILLed while holding the lock does not wedge the store', async () => {
    const name = sandbox.segment('robust');
    const store = ShmStore.create(name, { capacity: 4096, lockTimeoutMs: 1000 });
    const child = await spawnChild({ label: 'victim' });
    void child.run(fx, 'holdLock', { name }).catch(() => undefined);
    await child.waitEvent('locked');
    await child.kill('SIGKILL');
    expect(() => store.debug.lock(), 'the lock of a dead holder is taken over').not.toThrow();
    store.debug.unlock();
    expect(() => store.debug.lock(), 'and works as usual afterwards').not.toThrow();
    store.debug.unlock();
    expect(store.stats().lockRecoveries, 'the takeover is counted').toBe(1);
    store.close();
  });

  graded(
    item,
    'open() while another process holds the lock leaves the lock held: the new handle waits and times out naming the holder',
    async () => {
      const name = sandbox.segment('open-while-held');
      const store = ShmStore.create(name, { capacity: 4096, lockTimeoutMs: 300 });
      const child = await spawnChild({ label: 'holder' });
      const holding = child.run(fx, 'holdLock', { name });
      await child.waitEvent('locked');
      // An opener that initialises the mutex again wipes the holder's lock: its lock() then succeeds.
      const opener = ShmStore.open(name, { lockTimeoutMs: 300 });
      expect(() => opener.debug.lock(), "the opener must not re-initialise the creator's mutex").toThrowMiniRay(
        'ERR_LOCK_TIMEOUT',
        String(child.pid),
      );
      expect(() => store.debug.lock(), 'nor may the creator get the lock').toThrowMiniRay('ERR_LOCK_TIMEOUT');
      child.signal('release');
      await holding;
      opener.debug.lock();
      opener.debug.unlock();
      opener.close();
      store.close();
    },
    { weight: Severity.data },
  );
});
