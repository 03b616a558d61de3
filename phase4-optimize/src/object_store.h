// Phase 4: the object store, phase 2's lifecycle with striped locks, an object pool and LRU
// eviction. YOU EDIT THIS FILE and object_store.cc; keep the public interface (the given glue,
// phase4-optimize/glue/addon.cc, calls it). The segment's format and the lock order are fixed by
// the given phase4-optimize/layout/layout.h.
//
// The lifecycle is phase 2's, unchanged: create -> (write) -> seal -> get / release -> delete, abort
// by the creator only, a creator's pin from create until its release after seal, owners with pid
// and start time. What changes is who waits for whom:
//
//   operation         locks, in the order taken            what it changes
//   get               stripe(id)                           pins (the object stays on the LRU list)
//   release           stripe(id) [-> LRU]                  pins; the last one given back moves the
//                                                          object to the LRU tail (no LRU lock
//                                                          when it is the tail already)
//   contains          stripe(id)                           nothing
//   seal              stripe(id)                           the slot's state; wakes waiting gets
//   create            stripe(id) -> allocator [-> LRU]     a slot; a block or a pool slot; and,
//                     (victims' stripes: try-locked only)  when it does not fit, evictions
//   delete / abort    stripe(id) [-> LRU], then allocator  the slot; the block or slot freed
//   close / reclaim   each stripe in turn -> allocator     a client's pins, objects, record
//   repair            every stripe, allocator, LRU         see RepairAll
//
// Eviction (when a create does not fit): holding its own stripe and the allocator lock, the
// creator takes the LRU lock and walks the list once, try-locking the stripe of every entry on it
// (the lock order forbids waiting for them there) and keeping them until it is done: with them
// held, no pin on a listed object can change. A pinned entry (a get left it there) is unlinked
// and skipped; an entry of a busy stripe is skipped. Before evicting anything, the creator checks
// that the free bytes plus the unpinned objects it holds could hold the object at all: a create
// that cannot succeed fails with ERR_SHM_FULL and evicts nothing (or, when only busy stripes stand
// in the way, lets go and tries again). Then it evicts from the least recently used end, one
// object at a time, until the allocation succeeds.
//
// Crashes: a slot commits with one store of its state; the allocator's changes are journalled; the
// LRU list is rebuilt. Any lock found with a dead holder sets StoreHeader::repair, and RepairAll()
// then takes every lock in order and makes the whole segment consistent again.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "allocator.h"
#include "journal.h"
#include "layout.h"
#include "lock_order.h"
#include "lru_list.h"
#include "miniray/object_id.h"
#include "miniray/segment.h"
#include "slab_pool.h"

namespace miniray::phase4 {

struct StoreOptions {
  uint64_t capacity;          // bytes in the data region
  uint32_t stripes;           // a power of two, 1..kMaxStripes
  uint64_t slots_per_stripe;  // 1..kMaxSlotsPerStripe
  uint32_t lock_timeout_ms;
};

struct Location {
  uint64_t offset;
  uint64_t size;
};

enum class GetStatus { kSealed, kUnsealed, kMissing };
struct GetResult {
  GetStatus status;
  Location location;  // valid when kSealed
};

// One lock's contention counters (layout.h's LockCounters), as stats() reports them.
struct LockStats {
  uint64_t acquisitions;
  uint64_t contended;
  uint64_t wait_ns;
  uint64_t try_failures;
};

struct StoreStats {
  uint64_t segment_size;
  uint64_t capacity;
  uint64_t used_bytes;      // allocated blocks (slabs included), headers included
  uint64_t free_bytes;
  uint64_t largest_free;
  uint64_t free_blocks;
  uint64_t object_count;    // unsealed + sealed, every stripe
  uint64_t sealed_count;
  uint64_t table_size;      // stripes * slots_per_stripe
  uint64_t stripes;
  uint64_t tombstones;
  uint64_t pinned;
  uint64_t clients;
  // eviction
  uint64_t evictable;       // sealed objects nobody pins (all on the LRU list)
  uint64_t evictable_bytes;
  uint64_t evictions;
  uint64_t evicted_bytes;
  // the pool
  PoolStats pool;
  // locks
  std::vector<LockStats> stripe_locks;  // one per stripe
  LockStats alloc_lock;
  LockStats lru_lock;
  uint64_t order_violations;
  uint64_t lock_recoveries;   // every lock's recoveries, summed
  uint64_t repairs;           // RepairAll runs completed
};

struct ReclaimStats {
  uint64_t clients;
  uint64_t pins;
  uint64_t objects;
};

struct StoreLayout {
  uint64_t table_offset;
  uint64_t table_bytes;
  uint64_t data_offset;
  uint64_t data_bytes;
  uint32_t client;
  uint32_t stripes;
  uint64_t slots_per_stripe;
};

// Which of the store's locks a debug lock names: a stripe (0..stripes-1), the allocator, the LRU.
struct LockName {
  enum Kind { kStripe, kAllocator, kLru } kind;
  uint32_t stripe;
};

class ObjectStore {
 public:
  static std::unique_ptr<ObjectStore> Create(const std::string& name, const StoreOptions& options);
  static std::unique_ptr<ObjectStore> Open(const std::string& name, uint32_t lock_timeout_ms);
  static void Unlink(const std::string& name);

  ~ObjectStore();
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // A new unsealed object, pinned by this handle. Objects of at most kLargestClass bytes come from
  // the pool. When the space is short, evicts least recently used objects (see above).
  Location CreateObject(const ObjectId& id, uint64_t size);
  void Put(const ObjectId& id, const uint8_t* data, uint64_t size);
  void Seal(const ObjectId& id);
  void Abort(const ObjectId& id);
  // One id, one stripe lock: the fast path. Waits as phase 2's Get does (0: poll, -1: no limit).
  GetResult Get(const ObjectId& id, int64_t timeout_ms);
  void Release(const ObjectId& id);
  bool Contains(const ObjectId& id);
  void Delete(const ObjectId& id);
  StoreStats Stats();
  ReclaimStats Reclaim();
  // The ids evicted since the eviction count was `since` (at most the last kEvictionLog of them,
  // oldest first); *now receives the current count, to pass next time. *lost receives how many
  // evictions since `since` fell out of the log.
  std::vector<ObjectId> EvictedSince(uint64_t since, uint64_t* now, uint64_t* lost);
  void Close();

  // Tests hold one lock across processes with these (and nothing else may be held meanwhile).
  void DebugLock(LockName lock);
  void DebugUnlock(LockName lock);
  // Takes every lock in order and repairs the segment (what a dead holder leaves is repaired this
  // way automatically; tests call it to check that a repair of a sound segment changes nothing).
  void RepairAll();

  uint8_t* base() const { return segment_->base(); }
  size_t mapped_size() const { return segment_->size(); }
  StoreLayout layout() const;

 private:
  // `stripes` and `slots_per_stripe`: the geometry, checked by the caller (Create, Open).
  ObjectStore(std::unique_ptr<Segment> segment, uint32_t lock_timeout_ms, uint32_t stripes,
              uint64_t slots_per_stripe);

  RankedLock StripeLock(uint32_t s);
  RankedLock AllocLock();
  RankedLock LruLock();
  // Stripe helpers (holding the stripe's lock).
  ObjectEntry* Slot(uint32_t stripe, uint64_t i) const;
  // `place`: PlaceOf(id, ...), the id's stripe and home slot (one hash per operation).
  ObjectEntry* Find(Place place, const ObjectId& id) const;
  ObjectEntry* FreeSlotFor(Place place) const;
  void EraseSlot(uint32_t stripe, ObjectEntry* entry);
  uint64_t EntryOffset(const ObjectEntry* entry) const;
  Location LocationOf(const ObjectEntry* entry) const;

  // Holding the allocator lock, inside a transaction: space for `size` bytes.
  uint64_t AllocateLocked(uint64_t size, uint64_t* slab);
  void FreeLocked(uint64_t slab, uint64_t offset);
  // Holding stripe `own` and the allocator lock: evicts until `size` fits, or throws ERR_SHM_FULL.
  uint64_t AllocateEvicting(uint32_t own, uint64_t size, uint64_t* slab);
  // Holding the allocator and LRU locks and the stripes of `victims`: whether evicting every one of
  // `victims` would leave room for `size` bytes (a free run long enough, or a slot of its class),
  // so that a create that can never fit evicts nothing.
  bool EvictionCouldFit(uint64_t size, const std::vector<ObjectEntry*>& victims) const;
  // Holding the stripe (and nothing after it in the order): frees what `entry` holds and erases it.
  void DropLocked(uint32_t stripe, ObjectEntry* entry);

  void RegisterClient();
  // Gives back what client record `c` (taken with `serial`) holds: its pins, its unsealed objects,
  // the record. Stops when the record was meanwhile freed and taken by someone else.
  ReclaimStats ReleaseClient(uint32_t c, uint64_t serial);
  ReclaimStats ReclaimDead();
  // After taking a lock: records a dead holder in the header, and throws (an internal type the
  // caller's WithRepair catches) when the segment needs RepairAll.
  void CheckRepair(bool holder_died);
  // Runs `f`, and after a RepairAll runs it again when it stopped because a repair was needed.
  template <typename F>
  auto WithRepair(F&& f) -> decltype(f());
  // Holding every lock: the repair itself.
  void RepairHeld();
  void CheckOpen() const;

  std::unique_ptr<Segment> segment_;
  StoreHeader* header_;
  uint32_t lock_timeout_ms_;
  // Geometry, copied at open and never read from the segment again.
  uint32_t stripes_ = 0;
  uint64_t slots_per_stripe_ = 0;
  uint64_t table_begin_ = 0;
  uint64_t table_end_ = 0;
  Journal journal_;
  Allocator allocator_;
  SlabPool pool_;
  LruList lru_;
  uint32_t client_ = kMaxClients;
  uint64_t serial_ = 0;  // client_'s serial
  std::atomic<bool> closed_{false};
  std::vector<LockName> debug_held_;
};

}  // namespace miniray::phase4
