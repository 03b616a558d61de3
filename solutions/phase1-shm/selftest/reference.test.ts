// Self-tests of the phase-1 reference (not graded): checks that need the reference's own layout.
import { describe, expect, test } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { encodeLE, readSegment, writeSegment } from '../../../testkit/hostile.js';
import { randomObjectId } from '../../../lib/ids.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { ShmStore, type ObjectId } from '../../../phase1-shm/index.js';
import { ENTRY_BYTES, HEADER_BYTES } from '../hidden/layout.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

const TABLE_OFFSET = 40;
const DATA_OFFSET = 48;
const NEXT_OFFSET = 56;
const OBJECT_COUNT = 64;
const MUTEX_KIND = 88;
const u64 = (name: string, offset: number): bigint => readSegment(name, offset, 8).readBigUInt64LE();

describe('phase 1 glue: bytes from the segment itself', () => {
  // A view's .buffer is the whole mapping: a program can hand put() bytes that overlap the very
  // space the put fills. The C library's memcpy happens to cope on x86-64, so only the sanitizer
  // run (ASan: memcpy-param-overlap) sees the undefined copy; every run checks the bytes.
  test('put() of bytes reaching from an object into the free space after it stores them as they were', () => {
    const name = sandbox.segment('overlap');
    const store = ShmStore.create(name, { capacity: 64 * 1024, maxObjects: 16 });
    const first = store.get(store.put(Buffer.alloc(64, 1)));
    // 200 bytes from the middle of the first object into the free space the next put will fill.
    const source = new Uint8Array(first.buffer, first.byteOffset + 32, 200);
    for (let i = 0; i < source.length; i += 1) source[i] = (i * 7 + 3) & 0xff;
    const expected = Buffer.from(source);
    const second = store.put(source);
    expect(store.get(second).equals(expected), 'the stored bytes are the source as it was before the put').toBe(true);
    store.close();
  });
});

describe('phase 1 reference: the header is checked and repaired', () => {
  test('open() refuses a table_offset that wraps past 2^64 once the table is added (ERR_LAYOUT_MISMATCH)', () => {
    const name = sandbox.segment('wrap');
    const store = ShmStore.create(name, { capacity: 4096, maxObjects: 1024 });
    // 64-aligned, and table_offset + 1024 * 40 wraps to 36,800: below data_offset, so a check
    // written as `data_offset >= table_offset + max_objects * 40` passes.
    writeSegment(name, TABLE_OFFSET, encodeLE((1n << 64n) - 4096n, 8));
    expect(() => ShmStore.open(name, { lockTimeoutMs: 200 })).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
    store.close();
  });

  test('a holder killed after counting an object but before advancing the bump pointer: the next put does not overwrite it', async () => {
    // The state a put leaves when its stores are reordered (as -O3 did to plain stores) and its
    // process dies between them. Recovery must rebuild the bump pointer from the counted entries.
    const name = sandbox.segment('reorder');
    const store = ShmStore.create(name, { capacity: 64 * 1024, maxObjects: 16, lockTimeoutMs: 2000 });
    const first = store.put(Buffer.from('first'));
    const next = u64(name, NEXT_OFFSET);
    const dataOffset = Number(u64(name, DATA_OFFSET));
    const child = await spawnChild({ label: 'holder' });
    void child.run(fx, 'lockAndWait', { name }).catch(() => undefined);
    await child.waitEvent('locked');
    const counted = randomObjectId();
    const entry = Buffer.alloc(ENTRY_BYTES);
    Buffer.from(counted, 'hex').copy(entry, 0);
    entry.writeBigUInt64LE(next, 24);
    entry.writeBigUInt64LE(7n, 32);
    writeSegment(name, dataOffset + Number(next), Buffer.from('counted'));
    writeSegment(name, HEADER_BYTES + ENTRY_BYTES, entry);
    writeSegment(name, OBJECT_COUNT, encodeLE(2n, 8));
    await child.kill('SIGKILL');
    const later = store.put(Buffer.from('later!!'));
    expect(store.get(counted as ObjectId).toString(), 'the counted object is intact').toBe('counted');
    expect(store.get(later).toString()).toBe('later!!');
    expect(store.get(first).toString()).toBe('first');
    expect(store.stats().lockRecoveries).toBe(1);
    store.close();
  });

  test('a mutex kind word of any value is refused before the C library sees it (ERR_SEGMENT_CORRUPT)', async () => {
    // glibc asserts (and aborts) on some kinds, e.g. priority-protect with a garbage owner.
    const name = sandbox.segment('kind');
    const store = ShmStore.create(name, { capacity: 4096 });
    const original = readSegment(name, MUTEX_KIND, 4);
    const child = await spawnChild({ label: 'opener' });
    for (let kind = 0; kind < 256; kind += 1) {
      if (kind === original.readUInt32LE()) continue;
      writeSegment(name, MUTEX_KIND, encodeLE(BigInt(kind), 4));
      const out = await child.run(fx, 'openAndLock', { name });
      expect(out.map((o) => o.result), `kind ${kind}`).toEqual(['ok', 'ERR_SEGMENT_CORRUPT']);
    }
    writeSegment(name, MUTEX_KIND, original);
    expect(child.alive).toBe(true);
    store.close();
  });
});
