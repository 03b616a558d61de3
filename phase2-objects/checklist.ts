// Phase 2's checklist: what is graded, for how many points, and where to look.
import { defineChecklist } from '../testkit/checklist.js';

export const checklist = defineChecklist('phase2', {
  table: {
    id: '2.1',
    title: 'An object table in the segment: O(1) lookup, collisions, deletion with tombstones',
    points: 20,
    todo:
      'ObjectStore::RegisterClient and ReclaimLocked first (every handle needs a client record), then ObjectTable::Init, Check, SlotAt, Find, Insert, Erase and Tidy in phase2-objects/src/object_table.cc',
    hint:
      'Open addressing: start at HomeSlot(id) and walk forward. A deleted slot cannot simply become empty, ' +
      'or ids further along the same path get lost; and a table that churns forever must not fill up with ' +
      'tombstones. Every walk ends after at most `slots` steps.',
  },
  lifecycle: {
    id: '2.2',
    title: "Plasma's lifecycle: create, seal, abort, contains, and get that waits across processes",
    points: 20,
    todo: 'ObjectStore::CreateObject, Put, Seal, Abort, Contains, Get, GetMany and Close in phase2-objects/src/object_store.cc',
    hint:
      'A waiter reads the futex word under the lock, unlocks and sleeps while the word is unchanged; Seal ' +
      'bumps the word and wakes everyone before it lets go of the lock. Re-check after every wake-up, with ' +
      'the time that is left, and never sleep holding the lock. Only the creator may abort, and put() leaves ' +
      'nothing behind when it fails.',
  },
  refcount: {
    id: '2.3',
    title: 'Reference counts: get and create pin, release unpins, delete refused while pinned, across processes',
    points: 15,
    todo: 'ObjectStore::PinLocked, Get, Release, Delete and Close in phase2-objects/src/object_store.cc',
    hint:
      'The pins live in the table entry, one counter per client, so every process sees them and each ' +
      'handle can tell its own: that is how a double release is caught and how close() gives its pins back. ' +
      'create() pins for the creator until it releases after seal().',
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
    title: 'Many processes at once, and processes that die mid-change: the journal undoes, nothing lost',
    points: 15,
    todo: 'everything above, plus ObjectStore::Recover: every multi-word change a journal transaction',
    hint:
      'Every read and write of shared state happens under the lock, and every change of more than one word ' +
      'is one transaction: journal_.Set for each write, Commit at the end. A holder killed half-way leaves ' +
      'its records; the next locker undoes them (Rollback), and repeats that if it dies too.',
  },
  owners: {
    id: '2.6',
    title: 'Owners: every pin and unsealed object belongs to a client; a dead client\'s are given back',
    points: 10,
    todo: 'ObjectStore::ReclaimLocked, ReleaseClientLocked, Reclaim and Close in phase2-objects/src/object_store.cc',
    hint:
      'A client record names its process by pid and start time: a pid alone may belong to a stranger by ' +
      'now. Reclaim when it helps (at open, when a holder died, before saying the store is full) and when ' +
      'asked; a dead client\'s unsealed objects will never be sealed.',
  },
});
