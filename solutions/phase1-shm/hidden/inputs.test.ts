// Hidden, checklists 1.1 and 1.3: every bad input gets its typed error, and nothing breaks.
import { openSync, readdirSync, writeSync, closeSync, writeFileSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { Severity, graded } from '../../../testkit/graded.js';
import { encodeLE, readSegment, writeSegment } from '../../../testkit/hostile.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { SHM_DIR, TEST_PREFIX, segmentExists } from '../../../testkit/segments.js';
import { checklist } from '../../../phase1-shm/checklist.js';
import { ShmStore, type ObjectId } from '../../../phase1-shm/index.js';
import { ENTRY_BYTES, GEOMETRY, HEADER_BYTES, usesSuggestedLayout } from './layout.js';

const sandbox = useSandbox();

// Overwrites bytes of a segment file in place (as a stray process or a bad tool might).
function scribble(name: string, offset: number, bytes: Buffer): void {
  const fd = openSync(`${SHM_DIR}${name}`, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

describe('hidden phase 1: bad segments and names', () => {
  graded(checklist.segment, 'open() refuses a segment whose magic is wrong with ERR_LAYOUT_MISMATCH', () => {
    const name = sandbox.segment('magic');
    ShmStore.create(name, { capacity: 4096 }).close();
    scribble(name, 0, Buffer.from('NOTMINIR'));
    expect(() => ShmStore.open(name, { lockTimeoutMs: 200 })).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
  });

  graded(checklist.segment, 'open() refuses a segment whose layout version differs with ERR_LAYOUT_MISMATCH', () => {
    const name = sandbox.segment('version');
    ShmStore.create(name, { capacity: 4096 }).close();
    const v = Buffer.alloc(4);
    v.writeUInt32LE(0x7fff0001, 0);
    scribble(name, 8, v);
    expect(() => ShmStore.open(name, { lockTimeoutMs: 200 })).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
  });

  graded(checklist.segment, 'open() refuses an empty or truncated segment with ERR_LAYOUT_MISMATCH, without crashing', () => {
    const empty = sandbox.segment('empty');
    writeFileSync(`${SHM_DIR}${empty}`, Buffer.alloc(0), { mode: 0o600 });
    expect(() => ShmStore.open(empty, { lockTimeoutMs: 200 })).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
    const tiny = sandbox.segment('tiny');
    writeFileSync(`${SHM_DIR}${tiny}`, Buffer.from('MRAYSHM1'), { mode: 0o600 });
    expect(() => ShmStore.open(tiny, { lockTimeoutMs: 200 })).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
  });

  graded(checklist.segment, 'a missing segment, an existing name and bad names each get their typed error', () => {
    const name = sandbox.segment('names');
    expect(() => ShmStore.open(name)).toThrowMiniRay('ERR_SEGMENT_NOT_FOUND');
    const store = ShmStore.create(name, { capacity: 4096 });
    expect(() => ShmStore.create(name, { capacity: 4096 })).toThrowMiniRay('ERR_SEGMENT_EXISTS');
    const bad = ['x', '/', '//', '/a/b', '/..', `/${'n'.repeat(300)}`, '/nul\0byte', '/tab\there', '/ünïcode'];
    for (const n of bad) {
      expect(() => ShmStore.create(n, { capacity: 4096 }), `create('${n.slice(0, 20)}')`).toThrowMiniRay('ERR_BAD_NAME');
      expect(() => ShmStore.open(n), `open('${n.slice(0, 20)}')`).toThrowMiniRay('ERR_BAD_NAME');
    }
    expect(store.put(Buffer.from('still fine')).length).toBe(40);
    store.close();
  });

  graded(checklist.segment, 'absurd sizes are refused with ERR_INVALID_ARGUMENT and leave nothing in /dev/shm', () => {
    const before = new Set(readdirSync(SHM_DIR));
    const cases: Array<{ capacity: number; maxObjects?: number }> = [
      { capacity: 0 },
      { capacity: 2 ** 52 },
      { capacity: 4096, maxObjects: 0 },
      { capacity: 4096, maxObjects: 2 ** 31 },
    ];
    for (const opts of cases) {
      const name = sandbox.segment('absurd');
      expect(() => ShmStore.create(name, opts), JSON.stringify(opts)).toThrowMiniRay('ERR_INVALID_ARGUMENT');
      expect(segmentExists(name), `a refused create(${JSON.stringify(opts)}) left its segment behind`).toBe(false);
    }
    // Only this test process's names: other test files (and other users of the machine) create
    // segments at the same time.
    const mine = `${TEST_PREFIX}${process.pid}-`;
    const leftovers = readdirSync(SHM_DIR).filter((f) => !before.has(f) && f.startsWith(mine));
    expect(leftovers).toEqual([]);
    const ok = sandbox.segment('ok');
    ShmStore.create(ok, { capacity: 4096, maxObjects: 1 }).close();
  });
});

describe('hidden phase 1: bad data and ids', () => {
  graded(checklist.putget, 'non-Buffer data and malformed ids get ERR_INVALID_ARGUMENT and the store is unchanged', () => {
    const store = ShmStore.create(sandbox.segment('data'), { capacity: 64 * 1024 });
    const id = store.put(Buffer.from('good'));
    for (const bad of ['a string', 42, null, undefined, { length: 3 }, [1, 2, 3]]) {
      expect(() => store.put(bad as unknown as Uint8Array), `put(${JSON.stringify(bad)})`).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    }
    for (const bad of ['', 'xyz', 'g'.repeat(40), '0'.repeat(39), '0'.repeat(41)]) {
      expect(() => store.get(bad as ObjectId), `get('${bad}')`).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    }
    // A Uint8Array that is a window on a larger buffer is taken at its own offset and length.
    const big = Buffer.from('0123456789');
    const window = new Uint8Array(big.buffer, big.byteOffset + 3, 4);
    expect(store.get(store.put(window)).toString()).toBe('3456');
    const s = store.stats();
    expect(s.objectCount).toBe(2);
    expect(store.get(id).toString()).toBe('good');
    store.close();
  });

  graded(
    checklist.putget,
    'only the first objectCount entries are objects: the all-zero id and an entry a killed put wrote but never counted are ERR_OBJECT_NOT_FOUND',
    () => {
      const name = sandbox.segment('uncounted');
      const store = ShmStore.create(name, { capacity: 64 * 1024, maxObjects: 8 });
      const zero = '00'.repeat(20) as ObjectId;
      // The slot after the last object is still all zeros: it must not match the all-zero id.
      expect(() => store.get(zero), 'get(all-zero id) in an empty store').toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
      const first = store.put(Buffer.from('first'));
      expect(() => store.get(zero), 'get(all-zero id) after one put').toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
      // Real damage, where the segment follows the suggested layout: a put killed after it wrote its
      // entry and bytes, before it published the count. The entry is not an object.
      const header = readSegment(name, 0, HEADER_BYTES);
      if (usesSuggestedLayout(header, store.stats())) {
        const at = (o: number): number => Number(header.readBigUInt64LE(o));
        const ghost = 'ab'.repeat(20) as ObjectId;
        const next = at(GEOMETRY.nextOffset);
        writeSegment(name, at(GEOMETRY.dataOffset) + next, Buffer.from('ghost'));
        const entry = Buffer.concat([Buffer.from(ghost, 'hex'), encodeLE(0n, 4), encodeLE(BigInt(next), 8), encodeLE(5n, 8)]);
        expect(entry.length).toBe(ENTRY_BYTES);
        writeSegment(name, at(GEOMETRY.tableOffset) + ENTRY_BYTES, entry);
        expect(() => store.get(ghost), 'an entry past objectCount').toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
        // The next put takes the uncounted slot and space: the ghost stays gone, nothing else moves.
        const second = store.put(Buffer.from('second'));
        expect(() => store.get(ghost), 'the slot now holds the next put').toThrowMiniRay('ERR_OBJECT_NOT_FOUND');
        expect(store.get(second).toString()).toBe('second');
      }
      expect(store.get(first).toString()).toBe('first');
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(checklist.putget, 'filling the segment: ERR_SHM_FULL at the exact limit, earlier objects intact, no space leaked', () => {
    const store = ShmStore.create(sandbox.segment('fill'), { capacity: 64 * 1024, maxObjects: 4096 });
    const capacity = store.stats().capacity;
    const ids: ObjectId[] = [];
    let full = false;
    for (let i = 0; i < 10_000 && !full; i += 1) {
      try {
        ids.push(store.put(Buffer.alloc(100, i & 0xff)));
      } catch (e) {
        expect(e).toMatchObject({ code: 'ERR_SHM_FULL' });
        full = true;
      }
    }
    expect(full, 'a put eventually fails with ERR_SHM_FULL').toBe(true);
    expect(ids.length, 'objects of 100 bytes take 128 each').toBe(Math.floor(capacity / 128));
    ids.forEach((id, i) => expect(store.get(id).equals(Buffer.alloc(100, i & 0xff)), `object ${i}`).toBe(true));
    const s = store.stats();
    expect(s.usedBytes).toBe(ids.length * 128);
    const rest = capacity - s.usedBytes;
    if (rest > 0) expect(store.get(store.put(Buffer.alloc(rest, 1))).length, 'the remaining bytes still fit').toBe(rest);
    expect(() => store.put(Buffer.alloc(1))).toThrowMiniRay('ERR_SHM_FULL');
    store.close();
  });
});
