// Phase 2's checklist: what is graded, for how many points, and where to look.
import { defineChecklist } from '../testkit/checklist.js';

export const checklist = defineChecklist('phase2', {
  table: {
    id: '2.1',
    title: 'An object table in the segment: O(1) lookup, collisions, deletion with tombstones',
    points: 20,
    todo:
      'ObjectTable::Init, SlotAt, Find, Insert, Erase (and Rebuild, Recount) in phase2-objects/src/object_table.cc',
    hint:
      'Open addressing: start at HomeSlot(id) and walk forward. A deleted slot cannot simply become empty, ' +
      'or ids further along the same path get lost; and a table that churns forever must not fill up with ' +
      'tombstones. Every walk ends after at most `slots` steps.',
  },
  lifecycle: {
    id: '2.2',
    title: "Plasma's lifecycle: create, seal, abort, contains, and get that waits across processes",
    points: 25,
    todo: 'ObjectStore::CreateObject, Put, Seal, Abort, Contains, Get and Close in phase2-objects/src/object_store.cc',
    hint:
      'A waiter reads the futex word under the lock, unlocks and sleeps while the word is unchanged; Seal ' +
      'bumps the word under the lock and wakes everyone. Re-check after every wake-up, with the time that ' +
      'is left, and never sleep holding the lock.',
  },
  refcount: {
    id: '2.3',
    title: 'Reference counts: get pins, release unpins, delete refused while pinned, across processes',
    points: 20,
    todo: 'ObjectStore::Get (pinning), Release, Delete and Close in phase2-objects/src/object_store.cc',
    hint:
      'The count lives in the table entry, so every process sees it. Also remember per handle which ids ' +
      'it pinned: that is how a double release is caught and how close() gives its pins back.',
  },
  space: {
    id: '2.4',
    title: 'Deletion reuses space: a free list that splits and coalesces',
    points: 20,
    todo: 'Allocator::Init, Block, Allocate, Free and LargestFree in phase2-objects/src/allocator.cc',
    hint:
      'Each block starts with a header giving its size and its previous neighbour\'s size, so freeing can ' +
      'look both ways and merge. Split a block only when the rest can hold a header. Check every offset ' +
      'you read from the segment before you follow it.',
  },
  stress: {
    id: '2.5',
    title: 'Many processes at once, and processes that die: nothing lost, nothing corrupted',
    points: 15,
    todo: 'everything above, plus ObjectStore::Recover, ObjectTable::Recount and Allocator::Rebuild',
    hint:
      'Every read and write of shared state happens under the lock. When Lock() reports that the previous ' +
      'holder died, rebuild the counters and the free list from what the table and the blocks say.',
  },
});
