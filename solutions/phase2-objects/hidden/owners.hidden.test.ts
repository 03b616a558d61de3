// Hidden suite, checklist 2.5: owners. Client records with pid and start time; what a dead (or
// forgetful) client held comes back by itself: at open, before "full", when a handle is collected.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, randomObjectId } from '../../../phase2-objects/index.js';
import { fieldAt, peek, poke } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.owners;
const fx = fixtures<typeof import('../../../phase2-objects/test/fixtures.js')>(
  new URL('../../../phase2-objects/test/fixtures.ts', import.meta.url),
);
const hx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

// The index of the open client record of process `pid`, read from the segment.
function clientOf(name: string, pid: number): number {
  const info = ObjectStore.layoutInfo();
  for (let c = 0; c < (info['maxClients'] ?? 0); c += 1) {
    const at = fieldAt('header.clients') + c * (info['size.client'] ?? 0);
    const state = peek(name, at + fieldAt('client.state'), 4).readUInt32LE();
    const owner = peek(name, at + fieldAt('client.pid'), 4).readInt32LE();
    if (state === 1 && owner === pid) return at;
  }
  throw new Error(`no open client record of pid ${pid}`);
}

async function waitUntil(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('phase 2 (hidden): owners', () => {
  graded(
    item,
    'nobody calls reclaim(): the next handle to open the store gives back what a dead process held',
    async () => {
      const name = sandbox.segment('reclaim-at-open');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const sealed = store.put(Buffer.from('pinned by the dead'));
      const unsealed = randomObjectId();
      // One process pins an object and writes another, unsealed, then dies (not holding the lock).
      const child = await spawnChild({ label: 'dead' });
      void child.run(fx, 'pinAndHold', { name, id: sealed }).catch(() => undefined);
      void child.run(fx, 'createAndHold', { name, id: unsealed, size: 3000 }).catch(() => undefined);
      await Promise.all([child.waitEvent('pinned'), child.waitEvent('created')]);
      await child.kill('SIGKILL');
      const opener = ObjectStore.open(name);
      const s = store.stats();
      expect(s.pinned, "the dead process's pin and its creator pin").toBe(0);
      expect(s.objectCount, "the dead process's unsealed object").toBe(1);
      expect(s.clients, 'this handle and the new one').toBe(2);
      expect(ObjectStore.check(name).problems, 'the segment checker finds nothing wrong').toEqual([]);
      opener.close();
      store.delete(sealed);
      store.put(Buffer.from('free again'), unsealed);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'a process killed holding the lock and a pin: the next locker takes over the lock and gives the pin back',
    async () => {
      const name = sandbox.segment('reclaim-at-recovery');
      const store = ObjectStore.create(name, { capacity: 1 << 16, lockTimeoutMs: 5000 });
      const id = store.put(Buffer.from('x'));
      const child = await spawnChild({ label: 'holder' });
      void child.run(hx, 'pinThenLock', { name, id }).catch(() => undefined);
      await child.waitEvent('locked');
      await child.kill('SIGKILL');
      const s = store.stats();
      expect(s.lockRecoveries).toBe(1);
      expect(s.pinned, "the dead holder's pin").toBe(0);
      expect(s.clients).toBe(1);
      expect(ObjectStore.check(name).problems, 'the segment checker finds nothing wrong').toEqual([]);
      store.delete(id);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'before ERR_SHM_FULL or ERR_TABLE_FULL, the space and the slots of dead creators are given back',
    async () => {
      const name = sandbox.segment('reclaim-when-full');
      const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 8 });
      const child = await spawnChild({ label: 'hoarder' });
      // Eight unsealed objects: every slot, and most of the space.
      void child.run(hx, 'createManyAndHold', { name, count: 8, size: 6000 }).catch(() => undefined);
      await child.waitEvent('created');
      expect(() => store.put(Buffer.from('x')), 'the hoarder is alive: the table is full').toThrowMiniRay(
        'ERR_TABLE_FULL',
      );
      await child.kill('SIGKILL');
      const big = store.put(Buffer.alloc(Math.floor(store.stats().capacity * 0.8), 3));
      expect(store.stats().objectCount, "the dead hoarder's objects made room").toBe(1);
      expect(ObjectStore.check(name).problems, 'the segment checker finds nothing wrong').toEqual([]);
      expect(store.get(big).length).toBe(Math.floor(store.stats().capacity * 0.8));
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    "a dead client's pid now belongs to a living process: it is still recognised as dead (pid and start time)",
    async () => {
      const name = sandbox.segment('pid-reused');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const id = store.put(Buffer.from('x'));
      const child = await spawnChild({ label: 'reader' });
      void child.run(fx, 'pinAndHold', { name, id }).catch(() => undefined);
      await child.waitEvent('pinned');
      const record = clientOf(name, child.pid);
      await child.kill('SIGKILL');
      // The kernel gave the dead reader's pid to another process: here, this very test's process
      // (alive, but started at another time).
      const pid = Buffer.alloc(4);
      pid.writeInt32LE(process.pid);
      poke(name, record + fieldAt('client.pid'), pid);
      expect(store.reclaim(), 'the record names a process that is gone').toEqual({ clients: 1, pins: 1, objects: 0 });
      expect(ObjectStore.check(name).problems, 'the segment checker finds nothing wrong').toEqual([]);
      expect(store.stats().pinned).toBe(0);
      store.delete(id);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'a handle collected without close() gives back its pins and its client record, while its process lives on',
    async () => {
      const name = sandbox.segment('collected');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const id = store.put(Buffer.from('x'));
      const child = await spawnChild({ label: 'forgetful' });
      const done = child.run(hx, 'leakHandle', { name, id });
      await child.waitEvent('collected');
      await waitUntil('the pin of the collected handle is given back', () => store.stats().pinned === 0);
      expect(child.alive, 'given back by the handle, not by a death').toBe(true);
      expect(store.stats().clients).toBe(1);
      store.delete(id);
      child.signal('exit');
      await done;
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(item, `64 handles may be open at once; the 65th open is ERR_TABLE_FULL until one closes`, () => {
    const name = sandbox.segment('clients');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const max = ObjectStore.layoutInfo()['maxClients'] ?? 0;
    const more = Array.from({ length: max - 1 }, () => ObjectStore.open(name));
    expect(store.stats().clients).toBe(max);
    expect(() => ObjectStore.open(name)).toThrowMiniRay('ERR_TABLE_FULL');
    more.pop()?.close();
    const again = ObjectStore.open(name);
    expect(again.stats().clients).toBe(max);
    for (const h of [...more, again]) h.close();
    expect(store.stats().clients).toBe(1);
    store.close();
  });

  graded(
    item,
    "two handles of one process are two clients: one cannot abort the other's object, and closing one keeps the other's pins",
    () => {
      const name = sandbox.segment('two-handles');
      const a = ObjectStore.create(name, { capacity: 1 << 16 });
      const b = ObjectStore.open(name);
      const id = randomObjectId();
      a.create(id, 10);
      expect(() => b.abort(id)).toThrowMiniRay('ERR_OBJECT_IN_USE');
      a.seal(id);
      a.release(id);
      a.get(id);
      b.get(id);
      b.close();
      expect(a.stats().pinned, "b's pin went with b; a's stays").toBe(1);
      expect(() => a.delete(id)).toThrowMiniRay('ERR_OBJECT_IN_USE');
      a.release(id);
      a.delete(id);
      a.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'close() aborts the objects the handle created and did not seal, and gives their space back',
    () => {
      const name = sandbox.segment('close-aborts');
      const a = ObjectStore.create(name, { capacity: 1 << 16 });
      const b = ObjectStore.open(name);
      const id = randomObjectId();
      b.create(id, 20_000);
      expect(a.stats().objectCount).toBe(1);
      b.close();
      const s = a.stats();
      expect(s.objectCount).toBe(0);
      expect(s.usedBytes).toBe(0);
      a.put(Buffer.from('the id is free'), id);
      a.close();
    },
    { weight: Severity.behaviour },
  );
});
