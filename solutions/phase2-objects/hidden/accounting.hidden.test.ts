// Hidden suite, checklist 2.6: exact accounting after a process is SIGKILLed in the middle of puts or
// deletes: what returned, plus at most the one in flight; never more, never fewer.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { graded, Severity } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, type ObjectId } from '../../../phase2-objects/index.js';
import { checkedObject, verifyChecked } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.stress;
const fx = fixtures<typeof import('./accounting-fixtures.js')>(new URL('./accounting-fixtures.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const idOf = (i: number): ObjectId => `${i.toString(16).padStart(8, '0')}${'c'.repeat(32)}` as ObjectId;

function recorded(file: string): ObjectId[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /^[0-9a-f]{40}$/.test(l)) as ObjectId[];
}

// Kills `child` once `record` lists `n` operations, or its fixture call `running` ended by itself.
async function killAfter(record: string, n: number, child: { kill: (s: NodeJS.Signals) => Promise<void> }, running: Promise<unknown>): Promise<ObjectId[]> {
  let stopped = false;
  void running.catch(() => undefined).finally(() => (stopped = true));
  const deadline = Date.now() + 20_000;
  while (recorded(record).length < n && !stopped && Date.now() < deadline) await sleep(1);
  await child.kill('SIGKILL');
  return recorded(record);
}

describe('phase 2 (hidden): accounting after a kill', () => {
  graded(
    item,
    'a putter SIGKILLed mid-put, three times: sealed = the puts that returned plus at most one, at most one unsealed left, every sealed object complete, the store whole',
    async () => {
      const size = 16 * 1024;
      for (let round = 0; round < 3; round += 1) {
        const name = sandbox.segment(`killed-putter-${round}`);
        const record = join(tmpdir(), `miniray-record-${process.pid}-p${round}.txt`);
        rmSync(record, { force: true });
        const store = ObjectStore.create(name, { capacity: 64 << 20, tableSize: 8192, lockTimeoutMs: 5000 });
        try {
          const start = store.stats();
          const putter = await spawnChild({ label: 'putter' });
          const running = putter.run(fx, 'putRecorded', { name, size, record, abortEvery: 7 }, 60_000);
          await putter.waitEvent('started');
          const returned = await killAfter(record, 20, putter, running);
          expect(returned.length, 'the putter made progress').toBeGreaterThanOrEqual(20);
          const s = store.stats();
          const what = `round ${round}: ${returned.length} puts returned`;
          expect(s.sealedCount, `${what}; sealed objects`).toBeGreaterThanOrEqual(returned.length);
          expect(s.sealedCount, `${what}; sealed objects (at most one more: the one in flight)`).toBeLessThanOrEqual(returned.length + 1);
          expect(s.objectCount - s.sealedCount, `${what}; unsealed objects left by the dead putter`).toBeLessThanOrEqual(1);
          expect(s.lockRecoveries, 'one kill, at most one takeover').toBeLessThanOrEqual(1);
          // Every sealed object, recorded or the one in flight, is complete.
          const last = Number.parseInt(returned.at(-1)?.slice(0, 8) ?? '0', 16);
          const sealed: ObjectId[] = [];
          for (let i = 1; i <= last + 3; i += 1) if (store.contains(idOf(i))) sealed.push(idOf(i));
          expect(sealed.length, `${what}; the sealed objects are the putter's`).toBe(s.sealedCount);
          for (const id of returned) expect(sealed, `${what}; ${id} returned`).toContain(id);
          for (const id of sealed) {
            expect(verifyChecked(store.get(id)), `${what}; sealed object ${id} is complete`).toBe(true);
            store.release(id);
            store.delete(id);
          }
          const after = store.stats();
          if (after.objectCount === 0) {
            expect(after.usedBytes, `${what}; all deleted: nothing used`).toBe(0);
            expect(after.freeBlocks, `${what}; all deleted: one free block`).toBe(1);
            expect(after.largestFree, `${what}; all deleted: the whole store free`).toBe(start.largestFree);
          }
          const big = store.put(Buffer.alloc(after.largestFree, 7));
          expect(store.get(big).length, 'the store takes an object as large as its largest free block').toBe(after.largestFree);
        } finally {
          store.close();
          ObjectStore.unlink(name);
          rmSync(record, { force: true });
        }
      }
    },
    { weight: Severity.data, timeoutMs: 90_000 },
  );

  graded(
    item,
    'a deleter SIGKILLed mid-delete: the objects left are those whose delete did not return, less at most the one in flight, and each is intact',
    async () => {
      const name = sandbox.segment('killed-deleter');
      const record = join(tmpdir(), `miniray-record-${process.pid}-d.txt`);
      rmSync(record, { force: true });
      // A table so large that the deletes never make it tidy its tombstones: the test is about
      // the count, not about a rehash interrupted halfway.
      const store = ObjectStore.create(name, { capacity: 16 << 20, tableSize: 16384, lockTimeoutMs: 5000 });
      try {
        const ids = Array.from({ length: 3000 }, (_, i) => store.put(checkedObject(i + 1, 1000), idOf(i + 1)));
        const deleter = await spawnChild({ label: 'deleter' });
        const running = deleter.run(fx, 'deleteRecorded', { name, ids, record }, 60_000);
        await deleter.waitEvent('started');
        const deleted = new Set(await killAfter(record, 100, deleter, running));
        const s = store.stats();
        const left = ids.length - deleted.size;
        expect(s.objectCount, `${deleted.size} deletes returned; objects left (at most one fewer: the one in flight)`).toBeLessThanOrEqual(left);
        expect(s.objectCount, `${deleted.size} deletes returned; objects left`).toBeGreaterThanOrEqual(left - 1);
        expect(s.sealedCount).toBe(s.objectCount);
        const present = ids.filter((id) => store.contains(id));
        expect(present.length, 'contains() agrees with the count').toBe(s.objectCount);
        for (const id of present) {
          expect(deleted.has(id), `${id} was deleted, yet it is still there`).toBe(false);
          expect(verifyChecked(store.get(id)), `object ${id} is intact`).toBe(true);
          store.release(id);
          store.delete(id);
        }
        const end = store.stats();
        expect([end.objectCount, end.usedBytes, end.freeBlocks], 'all deleted: no object, no byte used, one free block').toEqual([0, 0, 1]);
      } finally {
        store.close();
        rmSync(record, { force: true });
      }
    },
    { weight: Severity.data, timeoutMs: 90_000 },
  );
});
