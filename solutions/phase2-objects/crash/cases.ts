// The operations the crash-point suite kills, each in a state that sends it down a particular path
// of the table and the allocator. Split in two groups, one per test file, so that vitest runs them
// on both cores.
import { patternBytes } from '../../../testkit/data.js';
import { fixedColliding, fixedId, scenario, type Step } from './scenarios.js';

const data = (seed: number, size: number): Buffer => patternBytes(seed, size);

// Create, put, seal, abort, get, release: the lifecycle.
export const lifecycleCases = [
  scenario({
    name: 'create: a block split off the free space, a fresh slot',
    setup(s) {
      s.put(700);
      s.put(3000);
      const id = fixedId(s.scenario, 1);
      return { script: [{ op: 'create', id, data: data(1, 1000) }] };
    },
  }),
  scenario({
    name: 'create: a tombstone reused, a hole that fits exactly',
    tableSize: 32,
    setup(s) {
      const ids = fixedColliding(s.scenario, 5, 32, 3);
      for (const id of ids.slice(0, 4)) s.put(500, id);
      s.delete(ids[1]!); // a tombstone on the path of ids[4], and a hole between two objects
      return { script: [{ op: 'create', id: ids[4]!, data: data(2, 500) }] };
    },
  }),
  scenario({
    name: 'put: create, copy, seal and release in one call',
    setup(s) {
      s.put(100);
      const id = fixedId(s.scenario, 1);
      const bytes = data(3, 3000);
      return { script: [{ op: 'put', id, data: bytes }], creates: [{ id, data: bytes }] };
    },
  }),
  scenario({
    name: "seal by the creator, then release of the creator's pin",
    setup(s) {
      s.put(64);
      const id = fixedId(s.scenario, 1);
      const bytes = data(4, 2000);
      const script: Step[] = [
        { op: 'create', id, data: bytes },
        { op: 'seal', id },
        { op: 'release', id },
      ];
      return { script, creates: [{ id, data: bytes }] };
    },
  }),
  scenario({
    name: 'seal of an object another (living) handle created',
    setup(s) {
      const id = s.createUnsealed(1500, fixedId(s.scenario, 1));
      return { script: [{ op: 'seal', id }] };
    },
  }),
  scenario({
    name: 'abort: the creator drops its object, the block merges back',
    setup(s) {
      s.put(900);
      const id = fixedId(s.scenario, 1);
      return {
        script: [
          { op: 'create', id, data: data(5, 4000) },
          { op: 'abort', id },
        ],
      };
    },
  }),
  scenario({
    name: 'get and release',
    setup(s) {
      const id = s.put(800);
      return {
        script: [
          { op: 'get', id },
          { op: 'get', id },
          { op: 'release', id },
        ],
      };
    },
  }),
];

// Delete (merges, the table's sweep), close, reclaim, and recovery itself killed.
export const maintenanceCases = [
  scenario({
    name: 'delete: the freed block merges with free neighbours on both sides',
    setup(s) {
      const ids = [600, 700, 800, 900, 1000].map((n) => s.put(n));
      s.delete(ids[1]!);
      s.delete(ids[3]!);
      return { script: [{ op: 'delete', id: ids[2]! }], removable: [ids[2]!] };
    },
  }),
  scenario({
    name: 'delete: tombstones swept, entries moved back along their probe paths',
    tableSize: 16,
    setup(s) {
      // Twelve ids share home slot 9: the cluster wraps around the end of the table.
      const ids = fixedColliding(s.scenario, 12, 16, 9);
      for (const id of ids) s.put(100, id);
      s.delete(ids[2]!);
      // The next delete leaves 2 tombstones and 6 free slots: the sweep runs and moves entries.
      return { script: [{ op: 'delete', id: ids[5]! }], removable: [ids[5]!] };
    },
  }),
  scenario({
    name: 'close: pins released, an unsealed object aborted, the client record freed',
    setup(s) {
      const a = s.put(300);
      const b = s.put(5000);
      const id = fixedId(s.scenario, 1);
      return {
        script: [
          { op: 'get', id: a },
          { op: 'get', id: b },
          { op: 'create', id, data: data(6, 2500) },
          { op: 'close' },
        ],
      };
    },
  }),
  scenario({
    name: 'reclaim: what a dead client held is given back',
    setup(s) {
      const a = s.put(300);
      // A first child exits holding a pin and an unsealed object, without closing.
      s.child([
        { op: 'get', id: a },
        { op: 'create', id: fixedId(s.scenario, 1), data: data(7, 4000) },
      ]);
      return { script: [{ op: 'reclaim' }] };
    },
  }),
  scenario({
    name: 'recovery: undoing a create killed mid-split, itself killed',
    setup(s) {
      s.put(2000);
      // A first child dies holding the lock in the middle of a split: an open transaction.
      s.child([{ op: 'create', id: fixedId(s.scenario, 1), data: data(8, 700) }], 'phase2.alloc.split:1');
      // The operation: any locker repairs first (here, the open() of the next child).
      return { script: [] };
    },
  }),
  scenario({
    name: 'recovery: undoing a delete killed mid-merge, itself killed',
    setup(s) {
      const ids = [400, 500, 600].map((n) => s.put(n));
      s.delete(ids[0]!);
      s.child([{ op: 'delete', id: ids[1]! }], 'phase2.free.merged_prev:1');
      return { script: [{ op: 'reclaim' }], removable: [ids[1]!] };
    },
  }),
];
