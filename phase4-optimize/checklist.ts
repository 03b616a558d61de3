// Phase 4's checklist: what is graded, for how many points, and where to look.
import { defineChecklist } from '../testkit/checklist.js';

export const checklist = defineChecklist('phase4', {
  lifecycle: {
    id: '4.1',
    title: "Phase 2's lifecycle on striped locks: create, seal, get of one id under one stripe lock, release, delete, abort",
    points: 15,
    todo:
      'ObjectStore::Find, FreeSlotFor, EraseSlot, AllocateLocked, FreeLocked, CreateObject, Put, Seal, Abort, DropLocked, ' +
      'Get, Release, Contains, Delete in phase4-optimize/src/object_store.cc (and the LRU and the pool they call)',
    hint:
      "An id's stripe and its home slot come from the given PlaceOf (one hash); the probe never leaves the stripe. " +
      'A slot is committed by one store of its state: which write comes last when you fill it, and first when you empty it?',
  },
  lru: {
    id: '4.2',
    title: 'LRU eviction: a create that does not fit evicts sealed objects nobody pins, least recently released first',
    points: 25,
    todo: 'LruList in phase4-optimize/src/lru_list.cc; ObjectStore::AllocateEvicting, Get, Release, EvictedSince in object_store.cc',
    hint:
      'Every object that may be evicted is on the list, and a get leaves a pinned one there too. Which moment makes an ' +
      'object the most recently used, and what must eviction look at, holding which lock, before it takes a victim?',
  },
  pool: {
    id: '4.3',
    title: 'An object pool: size classes carved from slabs, freed slots reused, an empty slab given back',
    points: 20,
    todo: 'SlabPool in phase4-optimize/src/slab_pool.cc; ObjectStore::AllocateLocked and FreeLocked in object_store.cc',
    hint:
      'A partial list per class holds the slabs with a free slot. A slab leaves it when its last slot is taken, comes back ' +
      'when a slot of a full slab is freed, and goes back to the allocator when its last slot is freed.',
  },
  locks: {
    id: '4.4',
    title: 'Finer-grained locks: one per stripe, one for the allocator, one for the LRU list, taken in one order',
    points: 20,
    todo: 'the locking in every operation of phase4-optimize/src/object_store.cc, above all AllocateEvicting',
    hint:
      'Wait for a lock only when everything you hold comes earlier in the order of layout.h. A victim in another stripe ' +
      'comes earlier than the allocator lock you hold: TryLock, and skip it when it is busy.',
  },
  repair: {
    id: '4.5',
    title: 'Processes that die holding any lock: nothing sealed lost, no space leaked, no deadlock',
    points: 20,
    todo: 'ObjectStore::RepairHeld in phase4-optimize/src/object_store.cc (and the order of the writes everywhere)',
    hint:
      'Holding every lock, trust only what is committed: a slot by its state, the allocator by its journal. Space that ' +
      'no slot points at was left by a create or a delete cut short. The LRU list is only an order: rebuild it.',
  },
});
