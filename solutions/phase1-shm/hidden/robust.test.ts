// Hidden, checklist 1.2: the lock survives dead holders and names live ones.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase1-shm/checklist.js';
import { ShmStore, type ObjectId } from '../../../phase1-shm/index.js';
import { numberedObject } from './fixtures.js';

const sandbox = useSandbox();
const item = checklist.mutex;
const pub = fixtures<typeof import('../../../phase1-shm/test/fixtures.js')>(
  new URL('../../../phase1-shm/test/fixtures.ts', import.meta.url),
);
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('hidden phase 1: the robust lock', () => {
  graded(item, 'a child SIGKILLed while holding the lock: the next lock in another process succeeds within a second', async () => {
    const name = sandbox.segment('killed');
    const store = ShmStore.create(name, { capacity: 64 * 1024, lockTimeoutMs: 1000 });
    const kept = store.put(Buffer.from('kept'));
    const victim = await spawnChild({ label: 'victim' });
    void victim.run(pub, 'holdLock', { name }).catch(() => undefined);
    await victim.waitEvent('locked');
    await victim.kill('SIGKILL');
    const other = await spawnChild({ label: 'next-locker' });
    expect(await other.run(fx, 'tryPut', { name, lockTimeoutMs: 1000 })).toEqual({ code: 'ok', message: '' });
    // And the lock stays usable afterwards, here too.
    expect(store.get(store.put(Buffer.from('again'))).toString()).toBe('again');
    expect(store.get(kept).toString()).toBe('kept');
    expect(store.stats().objectCount).toBe(3);
  });

  graded(item, 'a child SIGKILLed in the middle of puts leaves every completed object intact and the store usable', async () => {
    const name = sandbox.segment('midput');
    const size = 1 << 20;
    const store = ShmStore.create(name, { capacity: 256 << 20, maxObjects: 4096, lockTimeoutMs: 2000 });
    const victim = await spawnChild({ label: 'putter' });
    void victim.run(fx, 'putForever', { name, size, seed: 7 }, 60_000).catch(() => undefined);
    const done: Array<{ id: ObjectId; i: number }> = [];
    for (let i = 0; i < 20; i += 1) done.push((await victim.waitEvent('put')) as { id: ObjectId; i: number });
    await victim.kill('SIGKILL');
    // The store works after the holder died, and everything the child saw completed is there.
    const after = store.put(Buffer.from('after the kill'));
    expect(store.get(after).toString()).toBe('after the kill');
    for (const rec of done) {
      expect(store.get(rec.id).equals(numberedObject(7, size, rec.i)), `object ${rec.i} (${rec.id})`).toBe(true);
    }
    const s = store.stats();
    expect(s.objectCount, 'objects the child completed, plus ours').toBeGreaterThanOrEqual(done.length + 1);
    expect(s.usedBytes).toBeLessThanOrEqual(s.capacity);
  });

  graded(item, 'a child holding the lock past the timeout: ERR_LOCK_TIMEOUT names its pid, from any process', async () => {
    const name = sandbox.segment('holder');
    const store = ShmStore.create(name, { capacity: 4096, lockTimeoutMs: 250 });
    const holder = await spawnChild({ label: 'holder' });
    const holding = holder.run(pub, 'holdLock', { name });
    await holder.waitEvent('locked');
    const third = await spawnChild({ label: 'third' });
    const r = await third.run(fx, 'tryPut', { name, lockTimeoutMs: 250 });
    expect(r.code).toBe('ERR_LOCK_TIMEOUT');
    expect(r.message, 'the message names the holder').toContain(String(holder.pid));
    expect(() => store.stats()).toThrowMiniRay('ERR_LOCK_TIMEOUT', String(holder.pid));
    holder.signal('release');
    await holding;
    expect(store.stats().objectCount).toBe(0);
    store.close();
  });
});
