// Phase 4's crash points: the reference built with them (binding.gyp's phase4_crash) is killed at
// every crash point of put (small and large, with eviction), delete, get+release and close. Each
// time, the next process must find a store that repairs itself: every object sealed before is
// intact (or, for the operation's own object and an eviction's victim, cleanly absent), and
// evicting and deleting everything gives every byte back: nothing leaked, nothing freed twice.
//
//   MINIRAY_IMPL=solution MINIRAY_CRASH_SUITES=1 npx vitest run solutions/phase4-optimize/crash
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, test } from 'vitest';

import { useSandbox } from '../../../testkit/sandbox.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../../../phase4-optimize/index.js';
import { checkedObject, verifyChecked } from '../../../phase4-optimize/test/fixtures.js';
import { crashPointsOf, killAtEachPassage, killRunning } from '../../phase3-scheduler/crash/runner.js';

const CHILD = fileURLToPath(new URL('./crash-child.mjs', import.meta.url));
const sandbox = useSandbox();

interface Prepared {
  readonly name: string;
  readonly store: ObjectStore;
  readonly base: number; // usedBytes of the empty store
  readonly objects: readonly ObjectId[]; // sealed before the crash
  readonly target: ObjectId; // the operation's object
  readonly mayVanish: ReadonlySet<ObjectId>; // absent afterwards is fine (deleted, evicted)
}

// A store nearly full of large objects and some small ones: a large put has to evict.
function prepare(op: string, tag: string): Prepared {
  const name = sandbox.segment(tag);
  const store = ObjectStore.create(name, { capacity: 4 * 40_064 + 65_600 + 1000, stripes: 4, slotsPerStripe: 32 });
  const base = store.stats().usedBytes;
  const objects: ObjectId[] = [];
  for (let i = 0; i < 4; i += 1) objects.push(store.put(checkedObject(i, 40_000)));
  for (let i = 0; i < 4; i += 1) objects.push(store.put(checkedObject(10 + i, 300)));
  let target = randomObjectId();
  const mayVanish = new Set<ObjectId>();
  if (op === 'delete' || op === 'get-release' || op === 'close-holding') target = objects[5]!;
  if (op === 'delete') mayVanish.add(target);
  if (op === 'put-large') for (const id of objects) mayVanish.add(id); // eviction victims
  return { name, store, base, objects, target, mayVanish };
}

// Repaired, consistent, and not a byte leaked.
function checkAfter(p: Prepared, what: string): void {
  // Killed holding a lock: the checker sees the dead holder and leaves the repair to the next
  // operation. Killed between operations: every invariant holds as it is.
  const seen = ObjectStore.check(p.name);
  expect(seen.problems, `${what}: the segment checker before the repair`).toEqual([]);
  p.store.reclaim(); // the dead process's handle, if no repair gave it back already
  const repaired = ObjectStore.check(p.name);
  expect(repaired.repairPending, `${what}: repaired`).toBe(false);
  expect(repaired.problems, `${what}: the segment checker after the repair`).toEqual([]);
  const s = p.store.stats();
  expect(s.lockOrderViolations, `${what}: no lock waited for out of order`).toBe(0);
  for (const id of p.objects) {
    if (!p.store.contains(id)) {
      expect(p.mayVanish.has(id), `${what}: object ${id} sealed before the crash is gone`).toBe(true);
      continue;
    }
    expect(verifyChecked(p.store.get(id)), `${what}: object ${id} intact`).toBe(true);
    p.store.release(id);
  }
  expect(p.store.stats().clients, `${what}: the dead handle is not left behind`).toBe(1);
  expect(p.store.stats().pinned, `${what}: no pin of the dead process left`).toBe(0);
  // Evict everything old with fresh objects, then delete those: every byte comes back.
  const fresh: ObjectId[] = [];
  for (let i = 0; i < 12; i += 1) fresh.push(p.store.put(checkedObject(100 + i, 40_000)));
  for (const id of fresh) if (p.store.contains(id)) p.store.delete(id);
  const end = p.store.stats();
  expect(end.objectCount, `${what}: every old object evicted, every fresh one deleted`).toBe(0);
  expect(end.usedBytes, `${what}: no byte leaked`).toBe(p.base);
  expect(end.pool.slabs, `${what}: no slab kept`).toBe(0);
  expect(end.freeBlocks, `${what}: the free space in one piece`).toBe(1);
}

describe('phase 4 crash points: a process killed between any two writes of shared state', () => {
  afterAll(killRunning); // phase4_crash itself is built by vitest's global setup

  for (const op of ['put-small', 'put-large', 'delete', 'get-release', 'close-holding']) {
    test(`${op}: killed at each of its crash points (every passage, or the first ones and the last), the store repairs itself and keeps every sealed object`, async () => {
      const probe = prepare(op, `${op}-probe`);
      const points = [...new Set(await crashPointsOf(CHILD, [op, probe.name, probe.target]))];
      checkAfter(probe, `${op} without a crash`);
      probe.store.close();
      expect(points.length, `${op} passes crash points`).toBeGreaterThan(0);
      const coverage: string[] = [];
      for (const point of points) {
        const c = await killAtEachPassage(CHILD, point, {
          prepare: () => prepare(op, `${op}-x`),
          args: (p) => [op, p.name, p.target],
          check: (p, passage) => checkAfter(p, `${op} killed at ${point}:${passage}`),
          dispose: (p) => p.store.close(),
        });
        coverage.push(`${point} ${c.killed === c.passages ? `${c.passages}/${c.passages}` : `${c.killed} of ${c.passages} passages`}`);
      }
      console.info(`phase 4 ${op}: killed at ${coverage.join(', ')}`);
    }, 300_000);
  }
});
