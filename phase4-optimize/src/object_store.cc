// Phase 4: YOUR CODE GOES HERE (the object store).
//
// Every function marked TODO throws "not implemented" until you write it; the lesson is
// phase4-optimize/README.md. What is written for you: creating and opening the segment, the
// ranked locks, the repair's retry loop (CheckRepair, WithRepair, RepairAll's locking), owners
// (RegisterClient, ReleaseClient, ReclaimDead, Close), stats() and the debug locks. They are
// phase 2's ideas in phase 4's locks: read them, they show the lock order at work.
#include "object_store.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "miniray/crash_point.h"
#include "miniray/errors.h"
#include "miniray/futex.h"
#include "miniray/process_identity.h"

namespace miniray::phase4 {

namespace {

constexpr int64_t kMaxSleepMs = 5000;
constexpr int kMaxRepairRounds = 8;

constexpr uint32_t kEmpty = static_cast<uint32_t>(SlotState::kEmpty);
constexpr uint32_t kTombstone = static_cast<uint32_t>(SlotState::kTombstone);
constexpr uint32_t kUnsealed = static_cast<uint32_t>(SlotState::kUnsealed);
constexpr uint32_t kSealed = static_cast<uint32_t>(SlotState::kSealed);
constexpr uint32_t kClientFree = static_cast<uint32_t>(ClientState::kFree);
constexpr uint32_t kClientOpen = static_cast<uint32_t>(ClientState::kOpen);

// Thrown by CheckRepair, caught by WithRepair: never leaves the store.
struct RepairNeeded {};
// Thrown by eviction when only objects in stripes others hold could make room: CreateObject lets
// go and tries again.
struct EvictionBusy {};

// A lock taken already (a TryLock that succeeded), unlocked when this goes out of scope.
class TakenLock {
 public:
  explicit TakenLock(RankedLock lock) : lock_(lock) {}
  ~TakenLock() { lock_.Unlock(); }
  TakenLock(const TakenLock&) = delete;
  TakenLock& operator=(const TakenLock&) = delete;

 private:
  RankedLock lock_;
};

[[noreturn, maybe_unused]] void NotFound(const ObjectId& id) {
  throw Error(ErrorCode::kObjectNotFound, "object " + id.Hex() + " is not in the store");
}

[[maybe_unused]] uint32_t PinSum(const ObjectEntry* e) {
  uint32_t sum = 0;
  for (uint16_t p : e->pins) sum += p;
  return sum;
}

LockStats CountersOf(const LockCounters& c) {
  return {c.acquisitions, c.contended, c.wait_ns, c.try_failures};
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

// ---- construction ---------------------------------------------------------------------------------

ObjectStore::ObjectStore(std::unique_ptr<Segment> segment, uint32_t lock_timeout_ms,
                         uint32_t stripes, uint64_t slots_per_stripe)
    : segment_(std::move(segment)),
      header_(segment_->At<StoreHeader>(0)),
      lock_timeout_ms_(lock_timeout_ms),
      stripes_(stripes),
      slots_per_stripe_(slots_per_stripe),
      table_begin_(TableOffset()),
      table_end_(TableOffset() + TableBytes(stripes, slots_per_stripe)),
      journal_(*segment_, DataOffset(stripes, slots_per_stripe)),
      allocator_(*segment_, &header_->alloc, journal_),
      pool_(*segment_, &header_->alloc, allocator_, journal_),
      lru_(*segment_, &header_->lru, table_begin_, table_end_) {}

ObjectStore::~ObjectStore() {
  try {
    Close();
  } catch (...) {
  }
}

std::unique_ptr<ObjectStore> ObjectStore::Create(const std::string& name, const StoreOptions& options) {
  Segment::ValidateName(name);
  if (options.capacity == 0 || options.capacity > kMaxCapacity) {
    throw Error(ErrorCode::kInvalidArgument, "capacity must be 1.." + std::to_string(kMaxCapacity) + " bytes");
  }
  if (!IsPowerOfTwo(options.stripes) || options.stripes > kMaxStripes) {
    throw Error(ErrorCode::kInvalidArgument,
                "stripes must be a power of two from 1 to " + std::to_string(kMaxStripes));
  }
  if (options.slots_per_stripe == 0 || options.slots_per_stripe > kMaxSlotsPerStripe) {
    throw Error(ErrorCode::kInvalidArgument,
                "slotsPerStripe must be 1.." + std::to_string(kMaxSlotsPerStripe));
  }
  const uint64_t data_offset = DataOffset(options.stripes, options.slots_per_stripe);
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t size = AlignUp(data_offset + AlignUp(options.capacity, kAlignment), page);
  auto segment = Segment::Create(name, size);
  try {
    std::unique_ptr<ObjectStore> store(new ObjectStore(std::move(segment), options.lock_timeout_ms,
                                                       options.stripes, options.slots_per_stripe));
    StoreHeader* h = store->header_;
    h->common.state.store(CommonHeader::kInitialising, std::memory_order_relaxed);
    h->common.layout_version = kLayoutVersion;
    h->common.segment_size = size;
    h->stripes = options.stripes;
    h->slots_per_stripe = options.slots_per_stripe;
    h->alloc.mutex.Init();
    h->lru.mutex.Init();
    for (uint32_t s = 0; s < kMaxStripes; ++s) h->stripe[s].mutex.Init();
    store->allocator_.Init(data_offset, size);
    h->common.magic = kMagic;
    PublishReady(&h->common);
    store->RegisterClient();
    return store;
  } catch (...) {
    try {
      Segment::Unlink(name);
    } catch (const Error&) {
    }
    throw;
  }
}

std::unique_ptr<ObjectStore> ObjectStore::Open(const std::string& name, uint32_t lock_timeout_ms) {
  auto segment = Segment::Open(name);
  if (segment->size() < sizeof(StoreHeader)) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " is too small for a phase-4 store");
  }
  CheckHeader(*segment, kMagic, kLayoutVersion, lock_timeout_ms);
  const auto* h = segment->At<StoreHeader>(0);
  const uint32_t stripes = h->stripes;  // copied once: never read from the segment again
  const uint64_t slots = h->slots_per_stripe;
  if (!IsPowerOfTwo(stripes) || stripes > kMaxStripes || slots == 0 || slots > kMaxSlotsPerStripe ||
      DataOffset(stripes, slots) >= segment->size()) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " has an impossible table geometry");
  }
  std::unique_ptr<ObjectStore> store(new ObjectStore(std::move(segment), lock_timeout_ms, stripes, slots));
  store->allocator_.Check();
  if (store->allocator_.begin() != DataOffset(stripes, slots)) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " has overlapping regions");
  }
  store->RegisterClient();
  return store;
}

void ObjectStore::Unlink(const std::string& name) { Segment::Unlink(name); }

StoreLayout ObjectStore::layout() const {
  return {table_begin_, table_end_ - table_begin_, allocator_.begin(), allocator_.capacity(),
          client_, stripes_, slots_per_stripe_};
}

void ObjectStore::CheckOpen() const {
  if (closed_.load(std::memory_order_relaxed)) throw Error(ErrorCode::kClosed, "store is closed");
}

// ---- locks and repair -----------------------------------------------------------------------------

RankedLock ObjectStore::StripeLock(uint32_t s) {
  Stripe& st = header_->stripe[s];
  return RankedLock(header_, st.mutex, st.counters, s);
}
RankedLock ObjectStore::AllocLock() {
  return RankedLock(header_, header_->alloc.mutex, header_->alloc.counters, kAllocRank);
}
RankedLock ObjectStore::LruLock() {
  return RankedLock(header_, header_->lru.mutex, header_->lru.counters, kLruRank);
}

void ObjectStore::CheckRepair(bool holder_died) {
  // Written before anything else: if this process dies too, the next locker still repairs.
  if (holder_died) header_->repair.store(1, std::memory_order_release);
  if (header_->repair.load(std::memory_order_acquire) != 0) throw RepairNeeded{};
}

template <typename F>
auto ObjectStore::WithRepair(F&& f) -> decltype(f()) {
  for (int round = 0;; ++round) {
    try {
      return f();
    } catch (const RepairNeeded&) {
      if (round == kMaxRepairRounds) {
        throw Error(ErrorCode::kSegmentCorrupt, "the segment still needs repair after " +
                                                    std::to_string(kMaxRepairRounds) + " repairs");
      }
    }
    RepairAll();
  }
}

void ObjectStore::RepairAll() {
  // Every lock, in the order of layout.h. Whether a holder died no longer matters: we repair.
  std::vector<std::unique_ptr<RankedGuard>> held;
  held.reserve(stripes_ + 2);
  for (uint32_t s = 0; s < stripes_; ++s) {
    held.push_back(std::make_unique<RankedGuard>(StripeLock(s), lock_timeout_ms_));
  }
  held.push_back(std::make_unique<RankedGuard>(AllocLock(), lock_timeout_ms_));
  held.push_back(std::make_unique<RankedGuard>(LruLock(), lock_timeout_ms_));
  for (const auto& g : held) {
    if (g->holder_died()) header_->repair.store(1, std::memory_order_release);
  }
  if (header_->repair.load(std::memory_order_acquire) == 0 && !journal_.open()) return;  // done by another
  RepairHeld();
  header_->repairs.fetch_add(1, std::memory_order_relaxed);
  header_->seal_seq.fetch_add(1, std::memory_order_release);
  header_->repair.store(0, std::memory_order_release);
  MINIRAY_CRASH_POINT("phase4.repair.done");
  FutexWakeAll(&header_->seal_seq);
}

void ObjectStore::RepairHeld() {
  // TODO(student): holding every lock: roll back the journal, recount the stripes, free space no slot points at, rebuild the LRU list in last_use order.
  MINIRAY_TODO("phase4 ObjectStore::RepairHeld");
}

// ---- the stripes ------------------------------------------------------------------------------------

ObjectEntry* ObjectStore::Slot(uint32_t stripe, uint64_t i) const {
  return reinterpret_cast<ObjectEntry*>(segment_->base() + table_begin_ +
                                        (stripe * slots_per_stripe_ + i) * sizeof(ObjectEntry));
}

uint64_t ObjectStore::EntryOffset(const ObjectEntry* e) const {
  return static_cast<uint64_t>(reinterpret_cast<const uint8_t*>(e) - segment_->base());
}

ObjectEntry* ObjectStore::Find(Place place, const ObjectId& id) const {
  // TODO(student): linear probing inside place.stripe, from place.home; an empty slot ends the search, a tombstone does not.
  MINIRAY_TODO("phase4 ObjectStore::Find");
}

ObjectEntry* ObjectStore::FreeSlotFor(Place place) const {
  // TODO(student): the first slot of the probe sequence that holds no object.
  MINIRAY_TODO("phase4 ObjectStore::FreeSlotFor");
}

void ObjectStore::EraseSlot(uint32_t stripe, ObjectEntry* e) {
  // TODO(student): the state first (the commit point), then the rest and the stripe's counts; a tombstone followed by an empty slot can become empty.
  MINIRAY_TODO("phase4 ObjectStore::EraseSlot");
}

Location ObjectStore::LocationOf(const ObjectEntry* e) const {
  const uint64_t offset = e->offset;
  const uint64_t size = e->size;
  if (offset < allocator_.begin() + sizeof(BlockHeader) || offset > allocator_.end() ||
      size > allocator_.end() - offset) {
    throw Error(ErrorCode::kSegmentCorrupt, "object " + e->id.Hex() + " lies outside the data region");
  }
  return {offset, size};
}

// ---- space -------------------------------------------------------------------------------------------

uint64_t ObjectStore::AllocateLocked(uint64_t size, uint64_t* slab) {
  // TODO(student): small objects from the pool, large ones from the allocator.
  MINIRAY_TODO("phase4 ObjectStore::AllocateLocked");
}

void ObjectStore::FreeLocked(uint64_t slab, uint64_t offset) {
  // TODO(student): the other half of AllocateLocked.
  MINIRAY_TODO("phase4 ObjectStore::FreeLocked");
}

uint64_t ObjectStore::AllocateEvicting(uint32_t own, uint64_t size, uint64_t* slab) {
  // TODO(student): try to allocate; when full, take the LRU lock and walk the list once: TryLock each entry's stripe (not your own) and keep it until you are done, unlink the pinned entries you find, collect the unpinned ones. Then decide whether evicting them could make room at all (EvictionCouldFit), and evict from the oldest one object at a time until the allocation succeeds. Only busy stripes in the way: throw EvictionBusy.
  MINIRAY_TODO("phase4 ObjectStore::AllocateEvicting");
}

bool ObjectStore::EvictionCouldFit(uint64_t size, const std::vector<ObjectEntry*>& victims) const {
  // TODO(student): would evicting every one of `victims` leave a long enough run of free blocks (or a slot of this size class)? Walk the allocator's blocks.
  MINIRAY_TODO("phase4 ObjectStore::EvictionCouldFit");
}

// ---- the lifecycle -----------------------------------------------------------------------------------

Location ObjectStore::CreateObject(const ObjectId& id, uint64_t size) {
  // TODO(student): stripe lock, then the allocator lock (AllocateEvicting), then fill the slot and store its state last.
  MINIRAY_TODO("phase4 ObjectStore::CreateObject");
}

void ObjectStore::Put(const ObjectId& id, const uint8_t* data, uint64_t size) {
  // TODO(student): create, copy, then seal and release the creator's pin in one stripe-locked step (an object left unpinned joins the LRU list).
  MINIRAY_TODO("phase4 ObjectStore::Put");
}

void ObjectStore::Seal(const ObjectId& id) {
  // TODO(student): announce (bump and wake seal_seq) before the state store, holding the stripe lock.
  MINIRAY_TODO("phase4 ObjectStore::Seal");
}

void ObjectStore::Abort(const ObjectId& id) {
  // TODO(student): only the creator, only unsealed.
  MINIRAY_TODO("phase4 ObjectStore::Abort");
}

void ObjectStore::DropLocked(uint32_t s, ObjectEntry* e) {
  // TODO(student): holding the stripe: the allocator lock, the LRU lock if it is on the list, erase the slot, then free its space in a transaction.
  MINIRAY_TODO("phase4 ObjectStore::DropLocked");
}

GetResult ObjectStore::Get(const ObjectId& id, int64_t timeout_ms) {
  // TODO(student): one stripe lock and nothing else: a pin leaves the object where it is on the LRU list; wait on seal_seq as in phase 2.
  MINIRAY_TODO("phase4 ObjectStore::Get");
}

void ObjectStore::Release(const ObjectId& id) {
  // TODO(student): the last pin makes the object the most recently used: to the tail of the LRU list (or onto it, if eviction unlinked it). Already the tail (in_lru and IsNewest): no LRU lock.
  MINIRAY_TODO("phase4 ObjectStore::Release");
}

bool ObjectStore::Contains(const ObjectId& id) {
  // TODO(student): one stripe lock.
  MINIRAY_TODO("phase4 ObjectStore::Contains");
}

void ObjectStore::Delete(const ObjectId& id) {
  // TODO(student): sealed and unpinned only; DropLocked.
  MINIRAY_TODO("phase4 ObjectStore::Delete");
}

// ---- owners --------------------------------------------------------------------------------------------

void ObjectStore::RegisterClient() {
  const ProcessIdentity self = SelfIdentity();
  ReclaimDead();  // records of dead processes may be all that is left
  WithRepair([&] {
    RankedGuard a(AllocLock(), lock_timeout_ms_);
    CheckRepair(a.holder_died());
    AllocDomain& d = header_->alloc;
    uint32_t c = 0;
    while (c < kMaxClients && d.clients[c].state != kClientFree) ++c;
    if (c == kMaxClients) {
      throw Error(ErrorCode::kTableFull, "all " + std::to_string(kMaxClients) + " client records are in use on " +
                                             segment_->name() + " (close some handles)");
    }
    ClientRecord& r = d.clients[c];
    Transaction tx(journal_);
    journal_.Set(&r.owner.pid, self.pid);
    journal_.Set(&r.owner.reserved, uint32_t{0});
    journal_.Set(&r.owner.start_time, self.start_time);
    journal_.Set(&d.client_serial, d.client_serial + 1);
    journal_.Set(&r.serial, d.client_serial);
    journal_.Set(&r.state, kClientOpen);
    MINIRAY_CRASH_POINT("phase4.client.opened");
    tx.Commit();
    client_ = c;
    serial_ = r.serial;
  });
}

ReclaimStats ObjectStore::ReleaseClient(uint32_t c, uint64_t serial) {
  ReclaimStats out{};
  // Holding a stripe, checks under the allocator lock that the record is still this client's.
  auto still_ours = [&] {
    RankedGuard a(AllocLock(), lock_timeout_ms_);
    CheckRepair(a.holder_died());
    const ClientRecord& r = header_->alloc.clients[c];
    return r.state == kClientOpen && r.serial == serial;
  };
  for (uint32_t s = 0; s < stripes_; ++s) {
    const bool ours = WithRepair([&] {
      RankedGuard g(StripeLock(s), lock_timeout_ms_);
      CheckRepair(g.holder_died());
      if (!still_ours()) return false;
      for (uint64_t i = 0; i < slots_per_stripe_; ++i) {
        ObjectEntry* e = Slot(s, i);
        if (!IsLive(e->state)) continue;
        if (e->state == kUnsealed && e->creator == c) {
          DropLocked(s, e);
          out.objects += 1;
          continue;
        }
        const uint16_t pins = e->pins[c];
        if (pins == 0) continue;
        if (e->state == kSealed && e->pin_total == pins) {
          RankedGuard l(LruLock(), lock_timeout_ms_);
          CheckRepair(l.holder_died());
          e->pins[c] = 0;
          e->pin_total = 0;
          lru_.Remove(e);  // a get may have left it on the list: to the tail
          lru_.Push(e);
        } else {
          e->pins[c] = 0;
          e->pin_total -= std::min<uint32_t>(pins, e->pin_total);
        }
        out.pins += pins;
      }
      return true;
    });
    if (!ours) return out;
  }
  WithRepair([&] {
    RankedGuard a(AllocLock(), lock_timeout_ms_);
    CheckRepair(a.holder_died());
    ClientRecord& r = header_->alloc.clients[c];
    if (r.state != kClientOpen || r.serial != serial) return;
    Transaction tx(journal_);
    journal_.Set(&r.state, kClientFree);
    journal_.Set(&r.owner.pid, int32_t{0});
    journal_.Set(&r.owner.start_time, uint64_t{0});
    MINIRAY_CRASH_POINT("phase4.client.freed");
    tx.Commit();
  });
  return out;
}

ReclaimStats ObjectStore::ReclaimDead() {
  struct Dead {
    uint32_t c;
    uint64_t serial;
  };
  std::vector<Dead> dead;
  std::vector<ClientRecord> records(kMaxClients);
  WithRepair([&] {
    RankedGuard a(AllocLock(), lock_timeout_ms_);
    CheckRepair(a.holder_died());
    std::memcpy(static_cast<void*>(records.data()), header_->alloc.clients, sizeof(header_->alloc.clients));
  });
  for (uint32_t c = 0; c < kMaxClients; ++c) {
    if (c == client_ || records[c].state != kClientOpen) continue;
    bool alive = true;
    try {
      alive = IsAlive(records[c].owner);
    } catch (const Error&) {
      // /proc did not answer: keep the record rather than take a live process's pins.
    }
    if (!alive) dead.push_back({c, records[c].serial});
  }
  ReclaimStats total{};
  for (const Dead& d : dead) {
    const ReclaimStats s = ReleaseClient(d.c, d.serial);
    total.clients += 1;
    total.pins += s.pins;
    total.objects += s.objects;
  }
  return total;
}

ReclaimStats ObjectStore::Reclaim() {
  CheckOpen();
  return ReclaimDead();
}

// ---- reports ---------------------------------------------------------------------------------------------

StoreStats ObjectStore::Stats() {
  CheckOpen();
  StoreStats s{};
  s.segment_size = segment_->size();
  s.capacity = allocator_.capacity();
  s.table_size = uint64_t{stripes_} * slots_per_stripe_;
  s.stripes = stripes_;
  for (uint32_t i = 0; i < stripes_; ++i) {
    WithRepair([&] {
      RankedGuard g(StripeLock(i), lock_timeout_ms_);
      CheckRepair(g.holder_died());
      const Stripe& st = header_->stripe[i];
      s.object_count += st.live;
      s.sealed_count += st.sealed;
      s.tombstones += st.tombstones;
      for (uint64_t k = 0; k < slots_per_stripe_; ++k) {
        const ObjectEntry* e = Slot(i, k);
        if (IsLive(e->state)) s.pinned += e->pin_total;
        if (e->state == kSealed && e->pin_total == 0) {
          s.evictable += 1;
          s.evictable_bytes += e->size;
        }
      }
    });
  }
  WithRepair([&] {
    RankedGuard a(AllocLock(), lock_timeout_ms_);
    CheckRepair(a.holder_died());
    s.used_bytes = allocator_.used_bytes();
    s.free_bytes = s.capacity - std::min(s.used_bytes, s.capacity);
    s.largest_free = allocator_.LargestFree();
    s.free_blocks = allocator_.free_blocks();
    s.pool = pool_.Stats();
    s.clients = 0;
    for (const ClientRecord& r : header_->alloc.clients) {
      if (r.state == kClientOpen) s.clients += 1;
    }
    RankedGuard l(LruLock(), lock_timeout_ms_);
    CheckRepair(l.holder_died());
    s.evictions = header_->lru.evictions;
    s.evicted_bytes = header_->lru.evicted_bytes;
  });
  // Counters: read without their locks (each is written only by its lock's holder).
  for (uint32_t i = 0; i < stripes_; ++i) {
    s.stripe_locks.push_back(CountersOf(header_->stripe[i].counters));
    s.lock_recoveries += header_->stripe[i].mutex.recoveries.load();
  }
  s.alloc_lock = CountersOf(header_->alloc.counters);
  s.lru_lock = CountersOf(header_->lru.counters);
  s.lock_recoveries += header_->alloc.mutex.recoveries.load() + header_->lru.mutex.recoveries.load();
  s.order_violations = header_->order_violations.load();
  s.repairs = header_->repairs.load();
  return s;
}

std::vector<ObjectId> ObjectStore::EvictedSince(uint64_t since, uint64_t* now, uint64_t* lost) {
  // TODO(student): the ring of evicted ids, under the LRU lock.
  MINIRAY_TODO("phase4 ObjectStore::EvictedSince");
}

// ---- close, debug locks ---------------------------------------------------------------------------------

void ObjectStore::Close() {
  if (closed_.exchange(true)) return;
  if (client_ >= kMaxClients) return;
  // Locks this thread took through DebugLock are given back first: nothing else can run under
  // them, and a mapping must never go away under a robust mutex this thread holds.
  while (!debug_held_.empty()) {
    const LockName n = debug_held_.back();
    debug_held_.pop_back();
    try {
      (n.kind == LockName::kStripe ? StripeLock(n.stripe) : n.kind == LockName::kAllocator ? AllocLock() : LruLock()).Unlock();
    } catch (...) {
    }
  }
  try {
    ReleaseClient(client_, serial_);
  } catch (const Error&) {
    // What could not be given back now, Reclaim() gives back once this process is gone.
  }
  header_->seal_seq.fetch_add(1, std::memory_order_release);
  FutexWakeAll(&header_->seal_seq);  // this handle's waiting gets see closed_ and stop
}

void ObjectStore::DebugLock(LockName n) {
  CheckOpen();
  if (n.kind == LockName::kStripe && n.stripe >= stripes_) {
    throw Error(ErrorCode::kInvalidArgument, "stripe " + std::to_string(n.stripe) + " does not exist");
  }
  RankedLock lock = n.kind == LockName::kStripe ? StripeLock(n.stripe) : n.kind == LockName::kAllocator ? AllocLock() : LruLock();
  if (lock.Lock(lock_timeout_ms_) == Acquired::kHolderDied) header_->repair.store(1, std::memory_order_release);
  debug_held_.push_back(n);
}

void ObjectStore::DebugUnlock(LockName n) {
  for (auto it = debug_held_.begin(); it != debug_held_.end(); ++it) {
    if (it->kind == n.kind && it->stripe == n.stripe) {
      debug_held_.erase(it);
      (n.kind == LockName::kStripe ? StripeLock(n.stripe) : n.kind == LockName::kAllocator ? AllocLock() : LruLock()).Unlock();
      return;
    }
  }
  throw Error(ErrorCode::kInvalidArgument, "this handle does not hold that lock (debugLock first)");
}

}  // namespace miniray::phase4
