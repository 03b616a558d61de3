// Hidden suite, checklist 2.4: reference counts across processes.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild, spawnChildren } from '../../../testkit/children.js';
import { graded, Severity } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, randomObjectId } from '../../../phase2-objects/index.js';

const sandbox = useSandbox();
const item = checklist.refcount;
const fx = fixtures<typeof import('../../../phase2-objects/test/fixtures.js')>(
  new URL('../../../phase2-objects/test/fixtures.ts', import.meta.url),
);

describe('phase 2 (hidden): reference counts', () => {
  graded(item, 'pinned in A, delete from B is refused; released in A, the delete succeeds and A sees it gone', async () => {
    const name = sandbox.segment('xproc');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const id = store.put(Buffer.from('shared'));
    const [a, b] = await spawnChildren(2);
    const holding = a!.run(fx, 'pinAndHold', { name, id });
    await a!.waitEvent('pinned');
    expect(await b!.run(fx, 'tryOp', { name, id, op: 'delete' }), 'delete while A pins it').toBe('ERR_OBJECT_IN_USE');
    expect(store.contains(id), 'the refused delete changed nothing').toBe(true);
    a!.signal('release');
    await holding;
    expect(await b!.run(fx, 'tryOp', { name, id, op: 'delete' }), 'delete after A released').toBe('ok');
    expect(await a!.run(fx, 'tryOp', { name, id, op: 'get' }), 'A looks again').toBe('ERR_OBJECT_NOT_FOUND');
    expect(store.stats().objectCount).toBe(0);
    store.close();
  });

  graded(item, 'two processes pin one object: delete is refused until both have released', async () => {
    const name = sandbox.segment('two-pins');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const id = store.put(Buffer.from('popular'));
    const [a, b] = await spawnChildren(2);
    const ha = a!.run(fx, 'pinAndHold', { name, id });
    const hb = b!.run(fx, 'pinAndHold', { name, id });
    await Promise.all([a!.waitEvent('pinned'), b!.waitEvent('pinned')]);
    expect(store.stats().pinned).toBe(2);
    a!.signal('release');
    await ha;
    expect(() => store.delete(id), 'B still pins it').toThrowMiniRay('ERR_OBJECT_IN_USE');
    b!.signal('release');
    await hb;
    store.delete(id);
    expect(store.stats().pinned).toBe(0);
    store.close();
  });

  graded(item, 'release() is per handle: a double release, or releasing another handle\'s pin, is ERR_INVALID_ARGUMENT', async () => {
    const name = sandbox.segment('double');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const id = store.put(Buffer.from('x'));
    expect(() => store.release(id), 'never pinned').toThrowMiniRay('ERR_INVALID_ARGUMENT');
    store.get(id);
    const child = await spawnChild();
    expect(await child.run(fx, 'tryOp', { name, id, op: 'release' }), "the child's handle holds no pin").toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(store.stats().pinned, "the parent's pin is intact").toBe(1);
    store.release(id);
    expect(() => store.release(id), 'double release').toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(store.stats().pinned).toBe(0);
    store.delete(id);
    store.close();
  });

  graded(item, "close() releases the handle's pins", async () => {
    const name = sandbox.segment('close-pins');
    const store = ObjectStore.create(name, { capacity: 1 << 16 });
    const id = store.put(Buffer.from('x'));
    const child = await spawnChild();
    const holding = child.run(fx, 'pinAndHold', { name, id, closeInstead: true });
    await child.waitEvent('pinned');
    expect(() => store.delete(id)).toThrowMiniRay('ERR_OBJECT_IN_USE');
    child.signal('release');
    await holding;
    expect(store.stats().pinned, 'the child closed without release(): close gave its pin back').toBe(0);
    store.delete(id);
    store.close();
  });

  graded(item, 'every get pins once, getMany included, and stats().pinned is exact', () => {
    const store = ObjectStore.create(sandbox.segment('count'), { capacity: 1 << 16 });
    const ids = [0, 1, 2].map((i) => store.put(Buffer.from([i])));
    store.getMany(ids);
    store.getMany([ids[0]!, ids[0]!]);
    store.get(ids[1]!);
    expect(store.stats().pinned).toBe(6);
    for (const [id, n] of [
      [ids[0]!, 3],
      [ids[1]!, 2],
      [ids[2]!, 1],
    ] as const) {
      for (let k = 0; k < n; k += 1) {
        expect(() => store.delete(id), `${n - k} pin(s) left`).toThrowMiniRay('ERR_OBJECT_IN_USE');
        store.release(id);
      }
      store.delete(id);
    }
    expect(store.stats().objectCount).toBe(0);
    store.close();
  });

  graded(item, "release() before seal is ERR_OBJECT_NOT_SEALED, and the creator's pin stays", () => {
    const store = ObjectStore.create(sandbox.segment('release-unsealed'), { capacity: 1 << 16 });
    const id = randomObjectId();
    store.create(id, 8);
    expect(() => store.release(id)).toThrowMiniRay('ERR_OBJECT_NOT_SEALED');
    expect(store.stats().pinned).toBe(1);
    store.seal(id);
    store.release(id);
    expect(() => store.release(id), 'the creator had one pin').toThrowMiniRay('ERR_INVALID_ARGUMENT');
    store.delete(id);
    store.close();
  });

  graded(
    item,
    "a handle's pins on one object stop at 65,535 (the count never wraps): the next get is ERR_TABLE_FULL, and a getMany that would pass the limit (an id twice) pins none of its ids",
    () => {
      const store = ObjectStore.create(sandbox.segment('pin-limit'), { capacity: 1 << 16 });
      const id = store.put(Buffer.from('pinned to the limit'));
      const other = store.put(Buffer.from('listed first'));
      const base = store.stats().pinned;
      const LIMIT = 65_535;
      for (let i = 0; i < LIMIT; i += 1) store.get(id);
      expect(store.stats().pinned, `${LIMIT} gets, none released`).toBe(base + LIMIT);
      expect(() => store.get(id), 'get number 65,536').toThrowMiniRay('ERR_TABLE_FULL');
      expect(store.stats().pinned, 'the refused get pinned nothing').toBe(base + LIMIT);
      store.release(id); // one below the limit
      expect(() => store.getMany([other, id, id]), 'two more pins of an object one below its limit').toThrowMiniRay('ERR_TABLE_FULL');
      expect(store.stats().pinned, 'the refused getMany pinned none of its ids, not even the first').toBe(base + LIMIT - 1);
      expect(store.getMany([id]).map((b) => b?.toString()), 'one more pin reaches the limit exactly').toEqual(['pinned to the limit']);
      for (let i = 0; i < LIMIT; i += 1) store.release(id);
      expect(() => store.release(id), 'every pin given back').toThrowMiniRay('ERR_INVALID_ARGUMENT');
      expect(store.stats().pinned, 'as before the first get').toBe(base);
      store.delete(id);
      expect(store.contains(id), 'deleted once unpinned').toBe(false);
      store.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );
});
