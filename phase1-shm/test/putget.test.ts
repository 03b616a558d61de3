// Checklist 1.3: put and get with bump allocation, a metadata table and zero-copy reads.
import { describe, expect } from 'vitest';

import { graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ShmStore, type ObjectId } from '../index.js';

const sandbox = useSandbox();
const item = checklist.putget;

describe('phase 1: put and get', () => {
  graded(item, 'get(put(bytes)) returns the same bytes, for empty, small and 1 MiB objects', () => {
    const store = ShmStore.create(sandbox.segment('roundtrip'), { capacity: 4 << 20 });
    const payloads = [Buffer.alloc(0), Buffer.from('hello, plasma'), Buffer.alloc(1 << 20, 7)];
    const ids = payloads.map((p) => store.put(p));
    expect(new Set(ids).size, 'every put returns a fresh id').toBe(3);
    ids.forEach((id, i) => {
      expect(/^[0-9a-f]{40}$/.test(id), `id '${id}' must be 40 hex digits`).toBe(true);
      expect(store.get(id).equals(payloads[i] ?? Buffer.alloc(0)), `object ${i} reads back`).toBe(true);
    });
    store.close();
  });

  graded(item, 'objects start at 64-byte aligned offsets and stats() counts them', () => {
    const store = ShmStore.create(sandbox.segment('align'), { capacity: 64 * 1024, maxObjects: 16 });
    const sizes = [1, 63, 64, 65, 100];
    const ids = sizes.map((n) => store.put(Buffer.alloc(n, 1)));
    for (const id of ids) expect(store.get(id).byteOffset % 64, 'offset must be a multiple of 64').toBe(0);
    const s = store.stats();
    expect(s.objectCount).toBe(5);
    expect(s.maxObjects).toBe(16);
    expect(s.usedBytes, 'used bytes = sizes rounded up to 64').toBe(64 + 64 + 64 + 128 + 128);
    expect(s.capacity).toBeGreaterThanOrEqual(64 * 1024);
    expect(s.freeBytes).toBe(s.capacity - s.usedBytes);
    store.close();
  });

  graded(item, 'get() is zero-copy: two gets of one object share memory', () => {
    const store = ShmStore.create(sandbox.segment('zerocopy'), { capacity: 64 * 1024 });
    const id = store.put(Buffer.from('abc'));
    const a = store.get(id);
    const b = store.get(id);
    a[0] = 0x7a; // 'z'
    expect(b.toString(), 'a write through one view must show in the other').toBe('zbc');
    store.close();
  });

  graded(item, 'get() of an unknown id fails with ERR_OBJECT_NOT_FOUND', () => {
    const store = ShmStore.create(sandbox.segment('notfound'), { capacity: 4096 });
    store.put(Buffer.from('x'));
    expect(() => store.get('00'.repeat(20) as ObjectId)).toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
    store.close();
  });

  graded(item, 'a put that does not fit fails with ERR_SHM_FULL and earlier objects stay intact', () => {
    const store = ShmStore.create(sandbox.segment('full'), { capacity: 8192, maxObjects: 64 });
    const first = store.put(Buffer.alloc(1000, 1));
    const capacity = store.stats().capacity;
    expect(() => store.put(Buffer.alloc(capacity, 2))).toThrowMiniRay('ERR_SHM_FULL');
    expect(store.get(first).equals(Buffer.alloc(1000, 1))).toBe(true);
    expect(store.stats().objectCount).toBe(1);
    store.close();
  });

  graded(item, 'a put beyond maxObjects fails with ERR_TABLE_FULL', () => {
    const store = ShmStore.create(sandbox.segment('table'), { capacity: 64 * 1024, maxObjects: 3 });
    for (let i = 0; i < 3; i += 1) store.put(Buffer.from([i]));
    expect(() => store.put(Buffer.from([9]))).toThrowMiniRay('ERR_TABLE_FULL');
    store.close();
  });
});
