// Checklist 1.2: a process-shared, robust mutex with bounded waits.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../testkit/children.js';
import { graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ShmStore } from '../index.js';

const sandbox = useSandbox();
const item = checklist.mutex;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('phase 1: the lock', () => {
  graded(item, 'a lock held by another process makes put() fail with ERR_LOCK_TIMEOUT naming its pid', async () => {
    const name = sandbox.segment('timeout');
    const store = ShmStore.create(name, { capacity: 4096, lockTimeoutMs: 300 });
    const child = await spawnChild({ label: 'holder' });
    const holding = child.run(fx, 'holdLock', { name });
    await child.waitEvent('locked');
    expect(() => store.put(Buffer.from('x'))).toThrowMiniRay('ERR_LOCK_TIMEOUT', String(child.pid));
    child.signal('release');
    await holding;
    expect(store.get(store.put(Buffer.from('after'))).toString(), 'the lock works once released').toBe('after');
    store.close();
  });

  graded(item, 'a process SIGKILLed while holding the lock does not wedge the store', async () => {
    const name = sandbox.segment('robust');
    const store = ShmStore.create(name, { capacity: 4096, lockTimeoutMs: 1000 });
    const before = store.put(Buffer.from('before'));
    const child = await spawnChild({ label: 'victim' });
    void child.run(fx, 'holdLock', { name }).catch(() => undefined);
    await child.waitEvent('locked');
    await child.kill('SIGKILL');
    const after = store.put(Buffer.from('after'));
    expect(store.get(before).toString()).toBe('before');
    expect(store.get(after).toString()).toBe('after');
    expect(store.stats().lockRecoveries, 'the takeover is counted').toBe(1);
    store.close();
  });
});
