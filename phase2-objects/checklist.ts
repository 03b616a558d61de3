// Phase 2's checklist: what is graded, for how many points, and where to look.
import { defineChecklist } from '../testkit/checklist.js';

export const checklist = defineChecklist('phase2', {
  table: {
    id: '2.1',
    title: 'The object table on its own: O(1) lookup by id, collisions, deletion with tombstones, kept tidy',
    points: 15,
    todo: 'ObjectTable::Init, Check, SlotAt, IndexOf, Find, Insert, Erase and Tidy in phase2-objects/src/object_table.cc',
    question:
      'You erase an entry in the middle of a chain of ids that share a home slot: how does a later find of the ' +
      'last id in that chain still reach it, and what happens to lookups after a million inserts and erases?',
    hint:
      'Open addressing: start at HomeSlot(id) and walk forward. A deleted slot cannot simply become empty, ' +
      'or ids further along the same path get lost; and a table that churns forever must not fill up with ' +
      'tombstones. Every walk ends after at most `slots` steps.',
  },
  space: {
    id: '2.2',
    title: 'The allocator on its own: a free list that splits blocks and merges freed neighbours',
    points: 15,
    todo: 'Allocator::Init, Check, Block, PushFree, Unlink, Allocate, Free and LargestFree in phase2-objects/src/allocator.cc',
    question:
      'Three neighbouring objects are deleted in the order first, third, second: what must each block know about ' +
      'its neighbours so that the last free leaves one block as large as all three, without walking the region?',
    hint:
      'Each block starts with a header giving its size and its previous neighbour\'s size, so freeing can ' +
      'look both ways and merge. Split a block only when the rest can hold a header. Check every offset ' +
      'you read from the segment before you follow it.',
  },
  lifecycle: {
    id: '2.3',
    title: "Plasma's lifecycle: create, seal, abort, contains, and get that waits across processes",
    points: 20,
    todo:
      'ObjectStore::RegisterClient first (every handle records itself), then CreateObject, Put, Seal, Abort, Contains, Get, GetMany, Stats and Close in phase2-objects/src/object_store.cc',
    question:
      'A get() in another process is waiting for an object that is not sealed yet: what does it sleep on, what ' +
      'wakes it, and what if the seal happens between its last look and its sleep?',
    hint:
      'The lesson\'s section on waiting across processes, and native-common/include/miniray/futex.h: what does ' +
      'a waiter read before it unlocks, and what does a sleep on an unchanged word guarantee? Re-check after ' +
      'every wake-up, with the time that is left.',
  },
  refcount: {
    id: '2.4',
    title: 'Reference counts and deletion: get and create pin, release unpins, delete refused while pinned, deleted slots and space reused',
    points: 20,
    todo: 'ObjectStore::PinLocked, Get, Release, Delete and Close in phase2-objects/src/object_store.cc',
    question:
      'A process deletes an object while another still reads it through a view: what stops the space from ' +
      'being handed out again, and how does a handle know which pins are its own?',
    hint:
      'Where do the pins have to live so that every process sees them, and so that each handle can tell its ' +
      'own from another\'s? Think of a double release, and of what close() must give back.',
  },
  owners: {
    id: '2.5',
    title: "Owners: every pin and unsealed object belongs to a client; a dead client's are given back",
    points: 10,
    todo: 'ObjectStore::ReclaimLocked, ReleaseClientLocked, Reclaim and Close in phase2-objects/src/object_store.cc',
    question:
      'A process that holds pins and an unsealed object is SIGKILLed: who gives them back, and how can that ' +
      'process tell a dead owner from a new process that got the same pid?',
    hint:
      'A client record names its process by pid and start time: a pid alone may belong to a stranger by ' +
      'now. Reclaim when it helps (at open, when a holder died, before saying the store is full) and when ' +
      'asked; a dead client\'s unsealed objects will never be sealed.',
  },
  stress: {
    id: '2.6',
    title: 'Many processes at once, and processes that die mid-change: the journal undoes, nothing lost',
    points: 20,
    todo: 'ObjectStore::Recover in phase2-objects/src/object_store.cc, and every multi-word change in a journal transaction',
    question:
      'A process is killed after writing half of the twenty words that one create() changes: what does the next ' +
      'process to take the lock find, and how does it get back to a store where nothing sealed is lost?',
    hint:
      'layout/journal.h (given) explains what a transaction records and what Rollback() restores; the lesson\'s ' +
      'recovery section says what else a repair must give back. `npm run miniray -- check /name` shows what is wrong.',
  },
});
