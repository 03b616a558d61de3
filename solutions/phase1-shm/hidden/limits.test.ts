// Hidden, checklist 1.1: the limits the header gives (kMaxObjects, kMaxCapacity), the bytes that
// are a contract with tools, segments changed behind the store's back, and resources given back.
import { constants as bufferConstants } from 'node:buffer';
import { readFileSync, readdirSync, statfsSync, truncateSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { graded, Severity } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { SHM_DIR, segmentExists } from '../../../testkit/segments.js';
import { checklist } from '../../../phase1-shm/checklist.js';
import { ShmStore } from '../../../phase1-shm/index.js';

const sandbox = useSandbox();
const item = checklist.segment;
const MAX_OBJECTS = 1 << 22; // kMaxObjects in shm_store.h
const MAX_CAPACITY = 2 ** 36; // kMaxCapacity

describe('hidden phase 1: limits and contracts', () => {
  graded(
    item,
    'maxObjects of 1 and of exactly kMaxObjects (4,194,304) are accepted and one more is refused; a capacity one byte over kMaxCapacity is refused',
    () => {
      const big = sandbox.segment('max-objects');
      const store = ShmStore.create(big, { capacity: 4096, maxObjects: MAX_OBJECTS });
      expect(store.stats().maxObjects).toBe(MAX_OBJECTS);
      store.close();
      ShmStore.unlink(big);
      const over = sandbox.segment('over');
      expect(() => ShmStore.create(over, { capacity: 4096, maxObjects: MAX_OBJECTS + 1 })).toThrowMiniRay('ERR_INVALID_ARGUMENT');
      expect(() => ShmStore.create(over, { capacity: MAX_CAPACITY + 1 })).toThrowMiniRay('ERR_INVALID_ARGUMENT');
      expect(segmentExists(over), 'a refused create leaves no file').toBe(false);
      // The smallest table, one entry, is a valid store to open too.
      const one = sandbox.segment('one-entry');
      ShmStore.create(one, { capacity: 4096, maxObjects: 1 }).close();
      const opened = ShmStore.open(one);
      opened.put(Buffer.from('the only one'));
      expect(() => opened.put(Buffer.from('a second'))).toThrowMiniRay('ERR_TABLE_FULL');
      opened.close();
    },
    { weight: Severity.code },
  );

  graded(item, "a segment's first bytes are the magic 'MRAYSHM1' and layout version 1, the contract with tools", () => {
    const name = sandbox.segment('magic-bytes');
    const store = ShmStore.create(name, { capacity: 4096 });
    const head = readFileSync(`${SHM_DIR}${name}`).subarray(0, 12);
    expect(head.subarray(0, 8).toString('latin1'), 'bytes 0-7').toBe('MRAYSHM1');
    expect(head.readUInt32LE(8), 'bytes 8-11').toBe(1);
    store.close();
  }, { weight: Severity.code });

  graded(
    item,
    'a segment truncated or grown behind the store is refused on open with ERR_LAYOUT_MISMATCH (never a SIGBUS later)',
    () => {
      for (const [how, factor] of [
        ['truncated', 0.5],
        ['grown', 2],
      ] as const) {
        const name = sandbox.segment(how);
        const store = ShmStore.create(name, { capacity: 1 << 20 });
        store.put(Buffer.alloc(1000, 1));
        const size = store.stats().segmentSize;
        store.close();
        truncateSync(`${SHM_DIR}${name}`, Math.floor(size * factor));
        expect(() => ShmStore.open(name, { lockTimeoutMs: 200 }), `a ${how} segment`).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
      }
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a create that cannot fit fails at once and leaves no file behind: ERR_SHM_FULL where /dev/shm is smaller than the largest store, ERR_INVALID_ARGUMENT beyond the largest',
    () => {
      // The largest store: kMaxCapacity, or less where the runtime's largest ArrayBuffer is smaller
      // (4 GiB on Node 20), since views cover the data region and a one-entry table of 40 bytes.
      const largest = Math.min(MAX_CAPACITY, bufferConstants.MAX_LENGTH - 40);
      // Larger than the whole file system, so the kernel refuses at once, reserving nothing.
      const fs = statfsSync(SHM_DIR);
      const total = fs.blocks * fs.bsize;
      const capacity = total + (1 << 30);
      const name = sandbox.segment('too-big');
      if (capacity <= largest) {
        // The largest store is a valid size: only the memory is missing.
        for (const c of [capacity, largest]) {
          expect(() => ShmStore.create(name, { capacity: c, maxObjects: 1 }), `a ${(c / 2 ** 30).toFixed(1)} GiB store in a ${(total / 2 ** 30).toFixed(1)} GiB /dev/shm`).toThrowMiniRay('ERR_SHM_FULL');
          expect(segmentExists(name), 'the failed create removed its half-made segment').toBe(false);
        }
      } else {
        expect(() => ShmStore.create(name, { capacity, maxObjects: 1 }), `a ${(capacity / 2 ** 30).toFixed(1)} GiB store, beyond the largest of ${(largest / 2 ** 30).toFixed(1)} GiB`).toThrowMiniRay('ERR_INVALID_ARGUMENT');
        expect(segmentExists(name), 'the refused create left nothing behind').toBe(false);
      }
      const store = ShmStore.create(name, { capacity: 4096 });
      expect(store.stats().objectCount, 'the name is free for a create that fits').toBe(0);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'create, open and close 200 times: no file descriptor is left open',
    () => {
      const fds = (): number => readdirSync('/proc/self/fd').length;
      const name = sandbox.segment('fds');
      const keep = ShmStore.create(name, { capacity: 4096 });
      const before = fds();
      for (let i = 0; i < 100; i += 1) {
        ShmStore.open(name).close();
        const other = sandbox.segment('fd');
        ShmStore.create(other, { capacity: 4096 }).close();
        ShmStore.unlink(other);
      }
      expect(fds() - before, 'file descriptors left open by 200 creates and opens').toBeLessThanOrEqual(2);
      keep.close();
    },
    { weight: Severity.behaviour },
  );
});
