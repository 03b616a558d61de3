// Hidden suite, checklist 2.3: Plasma's lifecycle, across processes.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild, spawnChildren } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { waitUntilAsleep } from '../../../testkit/asleep.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, randomObjectId } from '../../../phase2-objects/index.js';
import { patternBytes, sha1 } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.lifecycle;
const fx = fixtures<typeof import('../../../phase2-objects/test/fixtures.js')>(
  new URL('../../../phase2-objects/test/fixtures.ts', import.meta.url),
);

describe('phase 2 (hidden): lifecycle', () => {
  graded(item, 'create of an id that exists, unsealed or sealed, is ERR_OBJECT_EXISTS in another process too', async () => {
    const name = sandbox.segment('exists');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const unsealed = randomObjectId();
    const sealed = randomObjectId();
    store.create(unsealed, 100);
    store.put(Buffer.from('x'), sealed);
    const child = await spawnChild();
    expect(await child.run(fx, 'tryOp', { name, id: unsealed, op: 'contains' })).toBe('false');
    for (const id of [unsealed, sealed]) {
      expect(() => store.create(id, 5)).toThrowMiniRay('ERR_OBJECT_EXISTS');
      await expect(
        child.run(fx, 'putObject', { name, id, seed: 1, size: 10 }),
        'the child cannot create it either',
      ).rejects.toMatchObject({ code: 'ERR_OBJECT_EXISTS' });
    }
    expect(store.stats().objectCount).toBe(2);
    store.close();
  });

  graded(item, 'get of an unsealed object waits out its timeout, then ERR_TIMEOUT (sync and Promise)', async () => {
    const store = ObjectStore.create(sandbox.segment('timeout'), { capacity: 1 << 16 });
    const id = randomObjectId();
    store.create(id, 10);
    let t0 = Date.now();
    expect(() => store.get(id, { timeoutMs: 200 })).toThrowMiniRay('ERR_TIMEOUT');
    expect(Date.now() - t0, 'the sync get waited about its timeout').toBeGreaterThanOrEqual(180);
    t0 = Date.now();
    await expect(store.getAsync(id, { timeoutMs: 200 })).toRejectMiniRay('ERR_TIMEOUT');
    expect(Date.now() - t0, 'the async get waited about its timeout').toBeGreaterThanOrEqual(180);
    expect(() => store.get(randomObjectId()), 'an id never created').toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
    expect(store.stats().pinned, "a failed get pins nothing: the one pin is the creator's").toBe(1);
    store.close();
  });

  for (const mode of ['sync', 'async'] as const) {
    graded(item, `seal in process B wakes a ${mode} get waiting in process A`, async () => {
      const name = sandbox.segment(`wake-${mode}`);
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const id = randomObjectId();
      const [a, b] = await spawnChildren(2);
      const waiting = a!.run(fx, 'waitGet', { name, id, timeoutMs: 4000, mode, release: true });
      await a!.waitEvent('waiting');
      await waitUntilAsleep(a!.pid, name); // A is asleep inside get()
      // B keeps its store open until A is done: only the seal itself may wake A.
      const putting = b!.run(fx, 'putObject', { name, id, seed: 42, size: 5000, holdOpen: true });
      const expected = (await b!.waitEvent('sealed')) as string;
      const result = await waiting;
      b!.signal('close');
      await putting;
      expect(result.outcome, 'A got the object B sealed').toBe('ok');
      expect(result.sha1).toBe(expected);
      expect(result.elapsedMs, 'the seal woke A: it did not sleep until its 4000 ms timeout').toBeLessThan(3500);
      if (mode === 'async') expect(result.ticks, "A's event loop kept running while it waited").toBeGreaterThan(0);
      expect(store.stats().pinned, 'A released its pin').toBe(0);
      store.close();
    });
  }

  graded(item, 'an untimed get (-1) in A returns once B seals', async () => {
    const name = sandbox.segment('forever');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const id = randomObjectId();
    const view = store.create(id, 64);
    const a = await spawnChild({ label: 'A' });
    const waiting = a.run(fx, 'waitGet', { name, id, timeoutMs: -1, mode: 'async' });
    await a.waitEvent('waiting');
    await waitUntilAsleep(a.pid, name);
    patternBytes(3, 64).copy(view);
    store.seal(id);
    const result = await waiting;
    expect(result.outcome).toBe('ok');
    expect(result.sha1).toBe(sha1(patternBytes(3, 64)));
    store.close();
  });

  graded(item, 'getMany returns null for ids not sealed in time and pins only what it returns', async () => {
    const name = sandbox.segment('many');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const a = store.put(Buffer.from('a'));
    const b = randomObjectId();
    store.create(b, 1).write('b');
    const missing = randomObjectId();
    const got = store.getMany([a, b, missing], { timeoutMs: 50 });
    expect(got.map((v) => (v === null ? null : v.toString()))).toEqual(['a', null, null]);
    expect(store.stats().pinned, "a's pin, and b's creator's pin").toBe(2);
    const pending = store.getManyAsync([a, b], { timeoutMs: 5000 });
    await waitUntilAsleep(process.pid, name);
    store.seal(b);
    const both = await pending;
    expect(both.map((v) => v?.toString())).toEqual(['a', 'b']);
    expect(store.stats().pinned, 'two earlier pins plus two').toBe(4);
    store.close();
  });

  graded(item, 'contains() is false until the seal, seen from another process', async () => {
    const name = sandbox.segment('contains');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const id = randomObjectId();
    const child = await spawnChild();
    expect(await child.run(fx, 'tryOp', { name, id, op: 'contains' }), 'before create').toBe('false');
    store.create(id, 8);
    expect(await child.run(fx, 'tryOp', { name, id, op: 'contains' }), 'created, unsealed').toBe('false');
    expect(await child.run(fx, 'tryOp', { name, id, op: 'seal' }), 'another process may seal it').toBe('ok');
    expect(store.contains(id)).toBe(true);
    store.close();
  });

  graded(item, 'abort: space comes back, the id is free, a sealed object cannot be aborted', () => {
    const store = ObjectStore.create(sandbox.segment('abort'), { capacity: 1 << 16 });
    const id = randomObjectId();
    store.create(id, 20_000);
    store.abort(id);
    expect(store.stats().usedBytes).toBe(0);
    expect(() => store.seal(id), 'seal after abort').toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
    expect(() => store.abort(id), 'abort twice').toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
    store.put(Buffer.from('now sealed'), id);
    expect(() => store.abort(id)).toThrowMiniRay('ERR_OBJECT_SEALED');
    expect(() => store.delete(randomObjectId())).toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
    const unsealed = randomObjectId();
    store.create(unsealed, 5);
    expect(() => store.delete(unsealed), 'delete of an unsealed object').toThrowMiniRay('ERR_OBJECT_NOT_SEALED');
    store.close();
  });

  graded(item, 'a waiter SIGKILLed mid-wait harms nobody: another process still waits and wakes', async () => {
    const name = sandbox.segment('killwait');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const id = randomObjectId();
    const view = store.create(id, 4);
    const [victim, survivor] = await spawnChildren(2);
    void victim!.run(fx, 'waitGet', { name, id, timeoutMs: -1, mode: 'async' }).catch(() => undefined);
    void victim!.run(fx, 'waitGet', { name, id, timeoutMs: 10_000, mode: 'sync' }).catch(() => undefined);
    await victim!.waitEvent('waiting');
    await waitUntilAsleep(victim!.pid, name);
    await victim!.kill('SIGKILL');
    const waiting = survivor!.run(fx, 'waitGet', { name, id, timeoutMs: 4000, mode: 'sync', release: true });
    await survivor!.waitEvent('waiting');
    await waitUntilAsleep(survivor!.pid, name);
    view.write('live');
    store.seal(id);
    store.release(id); // the creator's pin
    const result = await waiting;
    expect(result.outcome).toBe('ok');
    expect(result.elapsedMs, 'the seal woke the survivor before its 4000 ms timeout').toBeLessThan(3500);
    expect(store.get(id, { timeoutMs: 0 }).toString()).toBe('live');
    store.release(id);
    store.delete(id);
    expect(store.stats().objectCount).toBe(0);
    store.close();
  });

  graded(item, 'close() cancels an untimed getAsync with ERR_CLOSED; views from before stay readable', async () => {
    const name = sandbox.segment('close');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const kept = store.get(store.put(Buffer.from('still here')));
    const pending = store.getAsync(randomObjectId(), { timeoutMs: -1 });
    await waitUntilAsleep(process.pid, name);
    store.close();
    await expect(pending).toRejectMiniRay('ERR_CLOSED');
    expect(kept.toString()).toBe('still here');
    expect(() => store.contains(randomObjectId())).toThrowMiniRay('ERR_CLOSED');
  });

  graded(
    item,
    'put() of a view of an object that was released and deleted: refused, nothing stored, the id stays free (put is all or nothing)',
    () => {
      const store = ObjectStore.create(sandbox.segment('stale-view'), { capacity: 1 << 16, tableSize: 64 });
      // Fill the data region to its last byte, so that a new object of the deleted one's size can
      // only go where the deleted one was.
      const ids = Array.from({ length: 6 }, (_, i) => store.put(Buffer.alloc(4000, i + 1)));
      const rest = store.stats().largestFree;
      const filler = store.put(Buffer.alloc(rest, 9));
      expect(store.stats().largestFree, 'no free space left').toBe(0);
      const stale = store.get(ids[2]!);
      store.release(ids[2]!);
      store.delete(ids[2]!);
      const before = store.stats();
      const id = randomObjectId();
      expect(() => store.put(stale, id), 'the bytes to store lie where they would be stored').toThrowMiniRay(
        'ERR_INVALID_ARGUMENT',
      );
      const after = store.stats();
      expect(after.objectCount, 'nothing was stored').toBe(before.objectCount);
      expect(after.usedBytes, 'no space was kept').toBe(before.usedBytes);
      expect(after.pinned).toBe(0);
      store.put(Buffer.alloc(4000, 7), id);
      expect(store.get(id).equals(Buffer.alloc(4000, 7)), 'the id was free for a put that works').toBe(true);
      expect(store.get(filler).length).toBe(rest);
      store.close();
    },
    { weight: Severity.data },
  );
});
