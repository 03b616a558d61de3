// Hidden, checklist 1.4: four processes race on one segment.
import { describe, expect } from 'vitest';

import { barrier, fixtures, spawnChildren } from '../../../testkit/children.js';
import { graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase1-shm/checklist.js';
import { ShmStore } from '../../../phase1-shm/index.js';
import { sha1, type PutRecord } from '../../../phase1-shm/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.multiprocess;
const fx = fixtures<typeof import('../../../phase1-shm/test/fixtures.js')>(
  new URL('../../../phase1-shm/test/fixtures.ts', import.meta.url),
);
const align64 = (n: number): number => Math.ceil(n / 64) * 64;

describe('hidden phase 1: concurrency', () => {
  graded(
    item,
    '4 processes x 500 concurrent puts of random sizes: every object reads back byte-exact from every process, counts and used bytes exact',
    async () => {
      const name = sandbox.segment('stress');
      const store = ShmStore.create(name, { capacity: 24 << 20, maxObjects: 2100, lockTimeoutMs: 10_000 });
      const children = await spawnChildren(4, { label: 'putter' });
      const runs = children.map((c, i) =>
        c.run(fx, 'putMany', { name, count: 500, seed: 1000 + i, maxSize: 16_384, barrier: true }, 60_000),
      );
      await barrier(children);
      const records: PutRecord[] = (await Promise.all(runs)).flat();
      expect(new Set(records.map((r) => r.id)).size, 'ids are unique').toBe(2000);
      const s = store.stats();
      expect(s.objectCount, 'object count after 2000 puts').toBe(2000);
      expect(s.usedBytes, 'used bytes = sum of sizes rounded up to 64').toBe(
        records.reduce((sum, r) => sum + align64(r.size), 0),
      );
      // Every process, including this one, reads every object back.
      const verdicts = await Promise.all(children.map((c) => c.run(fx, 'verifyAll', { name, records }, 60_000)));
      verdicts.forEach((bad, i) => expect(bad, `objects wrong in child ${i + 1}`).toEqual([]));
      const badHere = records.filter((r) => sha1(store.get(r.id)) !== r.sha1).map((r) => r.id);
      expect(badHere, 'objects wrong in the parent').toEqual([]);
      store.close();
    },
    90_000,
  );

  graded(item, 'one process maps the segment twice (two addresses): both mappings see every object', () => {
    const name = sandbox.segment('twice');
    const creator = ShmStore.create(name, { capacity: 1 << 20, maxObjects: 64 });
    const a = ShmStore.open(name);
    const b = ShmStore.open(name);
    const fromA = [a.put(Buffer.from('written through mapping A')), a.put(Buffer.alloc(5000, 0xa))];
    const fromB = [b.put(Buffer.from('written through mapping B')), b.put(Buffer.alloc(7000, 0xb))];
    for (const [store, label] of [
      [a, 'A'],
      [b, 'B'],
      [creator, 'creator'],
    ] as const) {
      expect(store.get(fromA[0]!).toString(), `mapping ${label} reads A's object`).toBe('written through mapping A');
      expect(store.get(fromB[0]!).toString(), `mapping ${label} reads B's object`).toBe('written through mapping B');
      expect(store.get(fromA[1]!).equals(Buffer.alloc(5000, 0xa)), `mapping ${label}: A's 5000 bytes`).toBe(true);
      expect(store.get(fromB[1]!).equals(Buffer.alloc(7000, 0xb)), `mapping ${label}: B's 7000 bytes`).toBe(true);
    }
    expect(a.get(fromA[0]!).buffer, 'two opens are two mappings').not.toBe(b.get(fromA[0]!).buffer);
    a.close();
    b.close();
    creator.close();
  });
});
