// Phase 4 reference: the object store with striped locks, a slab pool and LRU eviction.
//
// Three kinds of state, three ways to survive a holder killed at any instruction:
//   - a slot changes by one store of its state (written last when filled, first when emptied);
//   - the allocator's blocks, slabs and client records change inside its journal's transactions;
//   - the LRU list (a cache order) is rebuilt from the slots by the repair.
// Creates commit their space before their slot; deletes erase their slot before freeing the space;
// so the worst a crash leaves is space no slot points at, which the repair gives back.
//
// Any lock found with a dead holder sets header->repair. Every operation checks the flag after
// each lock it takes, *before* it writes anything under that lock; when it is set, the operation
// unwinds (RAII unlocks), RepairAll() takes every lock in the documented order and repairs, and
// the operation runs again.
#include "object_store.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
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

[[noreturn]] void NotFound(const ObjectId& id) {
  throw Error(ErrorCode::kObjectNotFound, "object " + id.Hex() + " is not in the store");
}

uint32_t PinSum(const ObjectEntry* e) {
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
  MINIRAY_CRASH_POINT("phase4.repair.begin");
  // 1. The allocator domain: undo the interrupted transaction.
  journal_.Rollback();
  // 2. The stripes: wipe what half-filled slots hold, recount, recompute pin totals. The LRU
  //    fields are all cleared: step 5 rebuilds the list.
  for (uint32_t s = 0; s < stripes_; ++s) {
    Stripe& st = header_->stripe[s];
    uint64_t live = 0, tombstones = 0, sealed = 0;
    for (uint64_t i = 0; i < slots_per_stripe_; ++i) {
      ObjectEntry* e = Slot(s, i);
      e->in_lru = 0;
      e->lru_prev = 0;
      e->lru_next = 0;
      if (!IsLive(e->state)) {
        if (e->state != kEmpty && e->state != kTombstone) e->state = kTombstone;
        std::memset(e->pins, 0, sizeof(e->pins));
        e->pin_total = 0;
        if (e->state == kTombstone) ++tombstones;
        continue;
      }
      ++live;
      if (e->state == kSealed) ++sealed;
      e->pin_total = PinSum(e);
    }
    st.live = live;
    st.tombstones = tombstones;
    st.sealed = sealed;
  }
  MINIRAY_CRASH_POINT("phase4.repair.stripes");
  // 2b. What dead clients held: their unsealed objects go (their space comes back in step 4),
  //     their pins go, their records are freed.
  for (uint32_t c = 0; c < kMaxClients; ++c) {
    const ClientRecord r = header_->alloc.clients[c];
    if (c == client_ || r.state != kClientOpen) continue;
    bool alive = true;
    try {
      alive = IsAlive(r.owner);
    } catch (const Error&) {
    }
    if (alive) continue;
    for (uint32_t s = 0; s < stripes_; ++s) {
      for (uint64_t i = 0; i < slots_per_stripe_; ++i) {
        ObjectEntry* e = Slot(s, i);
        if (!IsLive(e->state)) continue;
        if (e->state == kUnsealed && e->creator == c) {
          EraseSlot(s, e);
          continue;
        }
        e->pin_total -= std::min<uint32_t>(e->pins[c], e->pin_total);
        e->pins[c] = 0;
      }
    }
    ClientRecord& rec = header_->alloc.clients[c];
    Transaction tx(journal_);
    journal_.Set(&rec.state, kClientFree);
    journal_.Set(&rec.owner.pid, int32_t{0});
    journal_.Set(&rec.owner.start_time, uint64_t{0});
    tx.Commit();
  }
  // 3. Slots whose space is not allocated (damage; no crash of this code makes one) are dropped;
  //    the others' space is remembered.
  std::unordered_set<uint64_t> referenced;
  for (uint32_t s = 0; s < stripes_; ++s) {
    for (uint64_t i = 0; i < slots_per_stripe_; ++i) {
      ObjectEntry* e = Slot(s, i);
      if (!IsLive(e->state)) continue;
      bool sound = false;
      try {
        const Location loc = LocationOf(e);
        if (SizeClassOf(loc.size) < kSizeClasses) {
          sound = e->slab != 0 && pool_.InUse(e->slab, loc.offset);
        } else {
          sound = e->slab == 0 && allocator_.KindOf(loc.offset) == BlockKind::kObject;
        }
      } catch (const Error&) {
        sound = false;
      }
      if (sound && referenced.insert(e->offset).second) continue;
      EraseSlot(s, e);  // unsound, or a second slot on the same space
    }
  }
  // 4. Space no slot points at (a create or a delete cut short) goes back.
  for (const auto& [slab, payload] : pool_.SlotsInUse()) {
    if (referenced.count(payload) != 0) continue;
    Transaction tx(journal_);
    pool_.Free(slab, payload);
    tx.Commit();
  }
  for (const BlockInfo& b : allocator_.Blocks()) {
    if (b.free || b.kind != BlockKind::kObject || referenced.count(b.payload) != 0) continue;
    Transaction tx(journal_);
    allocator_.Free(b.payload);
    tx.Commit();
  }
  MINIRAY_CRASH_POINT("phase4.repair.space");
  // 5. The LRU list, from the slots: sealed, unpinned, oldest use first.
  std::vector<ObjectEntry*> evictable;
  for (uint32_t s = 0; s < stripes_; ++s) {
    for (uint64_t i = 0; i < slots_per_stripe_; ++i) {
      ObjectEntry* e = Slot(s, i);
      if (e->state == kSealed && e->pin_total == 0) evictable.push_back(e);
    }
  }
  std::stable_sort(evictable.begin(), evictable.end(),
                   [](const ObjectEntry* a, const ObjectEntry* b) { return a->last_use < b->last_use; });
  lru_.Rebuild(evictable);
  MINIRAY_CRASH_POINT("phase4.repair.lru");
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
  uint64_t i = place.home;
  for (uint64_t n = 0; n < slots_per_stripe_; ++n) {
    ObjectEntry* e = Slot(place.stripe, i);
    if (e->state == kEmpty) return nullptr;
    if (IsLive(e->state) && e->id == id) return e;
    if (++i == slots_per_stripe_) i = 0;
  }
  return nullptr;
}

ObjectEntry* ObjectStore::FreeSlotFor(Place place) const {
  uint64_t i = place.home;
  for (uint64_t n = 0; n < slots_per_stripe_; ++n) {
    ObjectEntry* e = Slot(place.stripe, i);
    if (!IsLive(e->state)) return e;
    if (++i == slots_per_stripe_) i = 0;
  }
  return nullptr;
}

void ObjectStore::EraseSlot(uint32_t stripe, ObjectEntry* e) {
  Stripe& st = header_->stripe[stripe];
  const bool sealed = e->state == kSealed;
  e->state = kTombstone;  // the commit point: from here the slot holds no object
  MINIRAY_CRASH_POINT("phase4.erase.state");
  std::memset(e->pins, 0, sizeof(e->pins));
  e->pin_total = 0;
  st.live -= 1;
  st.tombstones += 1;
  if (sealed) st.sealed -= 1;
  // A tombstone followed by an empty slot ends no probe that passes it: make it empty, and the
  // tombstones before it too. One store each, safe at any point.
  const uint64_t i = static_cast<uint64_t>(e - Slot(stripe, 0));
  const uint64_t next = i + 1 == slots_per_stripe_ ? 0 : i + 1;
  if (Slot(stripe, next)->state != kEmpty) return;
  uint64_t j = i;
  for (uint64_t n = 0; n < slots_per_stripe_; ++n) {
    ObjectEntry* t = Slot(stripe, j);
    if (t->state != kTombstone) break;
    t->state = kEmpty;
    st.tombstones -= 1;
    j = j == 0 ? slots_per_stripe_ - 1 : j - 1;
  }
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
  *slab = 0;
  if (SizeClassOf(size) < kSizeClasses) return pool_.Allocate(size, slab);
  return allocator_.Allocate(size, BlockKind::kObject);
}

void ObjectStore::FreeLocked(uint64_t slab, uint64_t offset) {
  if (slab != 0) {
    pool_.Free(slab, offset);
  } else {
    allocator_.Free(offset);
  }
}

uint64_t ObjectStore::AllocateEvicting(uint32_t own, uint64_t size, uint64_t* slab) {
  // One attempt, in a transaction of its own: false when the space is short.
  uint64_t offset = 0;
  auto allocate = [&] {
    try {
      Transaction tx(journal_);
      offset = AllocateLocked(size, slab);
      tx.Commit();
      return true;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kShmFull) throw;
      return false;
    }
  };
  if (allocate()) return offset;
  RankedGuard l(LruLock(), lock_timeout_ms_);
  CheckRepair(l.holder_died());
  // The stripes of the listed entries, try-locked (the lock order forbids waiting for them here)
  // and kept until the eviction is over: while they are held, no pin on those entries changes, so
  // what the check below decides stays true while the victims go.
  struct Stripes {
    ObjectStore* store;
    uint64_t held = 0;  // bit s: this eviction took stripe s
    uint64_t busy = 0;  // bit s: someone else holds stripe s
    ~Stripes() {
      for (uint32_t s = 0; s < kMaxStripes; ++s) {
        if ((held >> s) & 1) store->StripeLock(s).Unlock();
      }
    }
  } stripes{this};
  std::vector<ObjectEntry*> victims;  // unpinned, their stripes held: oldest first
  std::vector<ObjectEntry*> blocked;  // in busy stripes: pinned or not, nobody can say
  for (ObjectEntry* e = lru_.Oldest(); e != nullptr;) {
    ObjectEntry* const next = lru_.Newer(e);
    const uint32_t vs = static_cast<uint32_t>((EntryOffset(e) - table_begin_) / sizeof(ObjectEntry) / slots_per_stripe_);
    const uint64_t bit = uint64_t{1} << vs;
    if (vs != own && (stripes.held & bit) == 0 && (stripes.busy & bit) == 0) {
      const Acquired a = StripeLock(vs).TryLock();
      if (a == Acquired::kBusy) {
        stripes.busy |= bit;
      } else {
        stripes.held |= bit;
        CheckRepair(a == Acquired::kHolderDied);
      }
    }
    if ((stripes.busy & bit) != 0) {
      blocked.push_back(e);
    } else if (e->state != kSealed) {
      // Cannot happen while the list is sound: a list that says otherwise needs the repair.
      header_->repair.store(1, std::memory_order_release);
      throw RepairNeeded{};
    } else if (e->pin_total != 0) {
      lru_.Remove(e);  // a get left it here; its last release puts it back at the tail
    } else {
      victims.push_back(e);
    }
    e = next;
  }
  if (!EvictionCouldFit(size, victims)) {
    std::vector<ObjectEntry*> all = victims;
    all.insert(all.end(), blocked.begin(), blocked.end());
    // Every object whose stripe someone else holds may be evictable: let go of everything and
    // start again (CreateObject), that someone may be waiting for the allocator lock we hold.
    if (!blocked.empty() && EvictionCouldFit(size, all)) throw EvictionBusy{};
    const uint64_t free = allocator_.capacity() - std::min(allocator_.used_bytes(), allocator_.capacity());
    throw Error(ErrorCode::kShmFull, "no room for " + std::to_string(size) + " bytes: " + std::to_string(free) +
                                         " bytes free and " + std::to_string(lru_.bytes()) +
                                         " bytes on the LRU list; the rest is pinned or being created");
  }
  // Least recently used first, one at a time, until the allocation succeeds.
  for (ObjectEntry* victim : victims) {
    const uint32_t vs = static_cast<uint32_t>((EntryOffset(victim) - table_begin_) / sizeof(ObjectEntry) / slots_per_stripe_);
    const uint64_t voffset = victim->offset;
    const uint64_t vslab = victim->slab;
    lru_.Remove(victim);
    lru_.CountEviction(victim);
    EraseSlot(vs, victim);  // first the slot, then the space (a crash leaks, never frees twice)
    MINIRAY_CRASH_POINT("phase4.evict.erased");
    {
      Transaction tx(journal_);
      FreeLocked(vslab, voffset);
      tx.Commit();
    }
    MINIRAY_CRASH_POINT("phase4.evict.freed");
    if (allocate()) return offset;
  }
  throw Error(ErrorCode::kShmFull, "no room for " + std::to_string(size) +
                                       " bytes and nothing left to evict (every object is pinned)");
}

bool ObjectStore::EvictionCouldFit(uint64_t size, const std::vector<ObjectEntry*>& victims) const {
  const uint32_t cls = SizeClassOf(size);
  std::unordered_set<uint64_t> large;                   // the victims' blocks
  std::unordered_map<uint64_t, uint64_t> slab_victims;  // slab -> its slots among the victims
  for (const ObjectEntry* e : victims) {
    if (e->slab == 0) {
      large.insert(e->offset);
      continue;
    }
    slab_victims[e->slab] += 1;
    if (cls < kSizeClasses && SizeClassOf(e->size) == cls) return true;  // its slot would do
  }
  // A run of blocks that are free, or would be once every victim is gone, long enough
  // for the object (or, for a small one, for a new slab).
  const uint64_t need = sizeof(BlockHeader) + AlignUp(cls < kSizeClasses ? kSlabBytes : size, kAlignment);
  uint64_t run = 0;
  for (const BlockInfo& b : allocator_.Blocks()) {
    bool would_be_free = b.free || (b.kind == BlockKind::kObject && large.count(b.payload) != 0);
    if (!b.free && b.kind == BlockKind::kSlab && b.size >= sizeof(BlockHeader) + kSlabBytes) {
      const auto* h = reinterpret_cast<const SlabHeader*>(segment_->base() + b.payload);
      const auto it = slab_victims.find(b.payload);
      would_be_free = it != slab_victims.end() && it->second == h->used;
    }
    run = would_be_free ? run + b.size : 0;
    if (run >= need) return true;
  }
  return false;
}

// ---- the lifecycle -----------------------------------------------------------------------------------

Location ObjectStore::CreateObject(const ObjectId& id, uint64_t size) {
  CheckOpen();
  const Place place = PlaceOf(id, stripes_, slots_per_stripe_);
  const uint32_t s = place.stripe;
  auto attempt = [&]() -> Location {
    return WithRepair([&]() -> Location {
      RankedGuard g(StripeLock(s), lock_timeout_ms_);
      CheckRepair(g.holder_died());
      if (Find(place, id) != nullptr) {
        throw Error(ErrorCode::kObjectExists, "object " + id.Hex() + " is already in the store");
      }
      if (FreeSlotFor(place) == nullptr) {
        throw Error(ErrorCode::kTableFull, "stripe " + std::to_string(s) + " of the table is full (" +
                                               std::to_string(slots_per_stripe_) + " slots)");
      }
      uint64_t slab = 0;
      uint64_t offset = 0;
      {
        RankedGuard a(AllocLock(), lock_timeout_ms_);
        CheckRepair(a.holder_died());
        offset = AllocateEvicting(s, size, &slab);
      }
      MINIRAY_CRASH_POINT("phase4.create.allocated");
      ObjectEntry* e = FreeSlotFor(place);
      Stripe& st = header_->stripe[s];
      const bool was_tombstone = e->state == kTombstone;
      e->id = id;
      e->offset = offset;
      e->size = size;
      e->slab = slab;
      e->creator = client_;
      std::memset(e->pins, 0, sizeof(e->pins));
      e->pins[client_] = 1;  // the creator's pin
      e->pin_total = 1;
      e->in_lru = 0;
      e->lru_prev = 0;
      e->lru_next = 0;
      e->last_use = 0;
      MINIRAY_CRASH_POINT("phase4.create.filled");
      e->state = kUnsealed;  // the commit point
      st.live += 1;
      if (was_tombstone) st.tombstones -= 1;
      return {offset, size};
    });
  };
  // Eviction that found every victim's stripe busy: try again, for as long as a lock may wait.
  auto attempt_while_busy = [&]() -> Location {
    const int64_t deadline = MonotonicMs() + lock_timeout_ms_;
    for (;;) {
      try {
        return attempt();
      } catch (const EvictionBusy&) {
        if (MonotonicMs() >= deadline) {
          throw Error(ErrorCode::kLockTimeout, "eviction found every victim's stripe locked for " +
                                                   std::to_string(lock_timeout_ms_) + " ms");
        }
        std::this_thread::yield();
      }
    }
  };
  try {
    return attempt_while_busy();
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kShmFull && e.code() != ErrorCode::kTableFull) throw;
    // Before saying "full": dead processes may hold the space or the slots.
    if (ReclaimDead().clients == 0) throw;
  }
  return attempt_while_busy();
}

void ObjectStore::Put(const ObjectId& id, const uint8_t* data, uint64_t size) {
  const Location loc = CreateObject(id, size);
  uint8_t* dst = segment_->base() + loc.offset;
  const auto d = reinterpret_cast<uintptr_t>(dst);
  const auto s = reinterpret_cast<uintptr_t>(data);
  auto abort_quietly = [&] {
    try {
      Abort(id);
    } catch (const Error&) {
    }
  };
  if (size > 0 && s < d + size && d < s + size) {
    abort_quietly();
    throw Error(ErrorCode::kInvalidArgument,
                "put(): the data to store lies in the very space object " + id.Hex() +
                    " was given: it is a view of an object that was released and deleted or evicted");
  }
  if (size > 0) std::memcpy(dst, data, size);
  try {
    CheckOpen();
    const Place place = PlaceOf(id, stripes_, slots_per_stripe_);
    const uint32_t stripe = place.stripe;
    WithRepair([&] {
      RankedGuard g(StripeLock(stripe), lock_timeout_ms_);
      CheckRepair(g.holder_died());
      ObjectEntry* e = Find(place, id);
      if (e == nullptr) NotFound(id);
      if (e->state == kSealed) throw Error(ErrorCode::kObjectSealed, "object " + id.Hex() + " was sealed by someone else");
      if (e->pins[client_] == 0) throw Error(ErrorCode::kInvalidArgument, "put() lost its creator's pin");
      std::unique_ptr<RankedGuard> l;
      if (e->pin_total == 1) {
        l = std::make_unique<RankedGuard>(LruLock(), lock_timeout_ms_);
        CheckRepair(l->holder_died());
      }
      header_->seal_seq.fetch_add(1, std::memory_order_release);
      FutexWakeAll(&header_->seal_seq);  // they wake, wait for the stripe lock, then look
      e->state = kSealed;
      header_->stripe[stripe].sealed += 1;
      MINIRAY_CRASH_POINT("phase4.put.sealed");
      e->pins[client_] -= 1;
      e->pin_total -= 1;
      if (e->pin_total == 0) lru_.Push(e);
    });
  } catch (const Error&) {
    abort_quietly();
    throw;
  }
}

void ObjectStore::Seal(const ObjectId& id) {
  CheckOpen();
  const Place place = PlaceOf(id, stripes_, slots_per_stripe_);
  const uint32_t s = place.stripe;
  WithRepair([&] {
    RankedGuard g(StripeLock(s), lock_timeout_ms_);
    CheckRepair(g.holder_died());
    ObjectEntry* e = Find(place, id);
    if (e == nullptr) NotFound(id);
    if (e->state == kSealed) throw Error(ErrorCode::kObjectSealed, "object " + id.Hex() + " is already sealed");
    // Announced before the commit, holding the stripe lock: no waiter can sleep through it.
    header_->seal_seq.fetch_add(1, std::memory_order_release);
    MINIRAY_CRASH_POINT("phase4.seal.bumped");
    FutexWakeAll(&header_->seal_seq);
    e->state = kSealed;
    header_->stripe[s].sealed += 1;
    MINIRAY_CRASH_POINT("phase4.seal.state");
  });
}

void ObjectStore::Abort(const ObjectId& id) {
  CheckOpen();
  const Place place = PlaceOf(id, stripes_, slots_per_stripe_);
  const uint32_t s = place.stripe;
  WithRepair([&] {
    RankedGuard g(StripeLock(s), lock_timeout_ms_);
    CheckRepair(g.holder_died());
    ObjectEntry* e = Find(place, id);
    if (e == nullptr) NotFound(id);
    if (e->state == kSealed) {
      throw Error(ErrorCode::kObjectSealed, "object " + id.Hex() + " is sealed: abort() drops unsealed objects; use delete()");
    }
    if (e->creator != client_) {
      throw Error(ErrorCode::kObjectInUse, "object " + id.Hex() + " is being created by another handle: only its creator may abort it");
    }
    DropLocked(s, e);
  });
}

void ObjectStore::DropLocked(uint32_t s, ObjectEntry* e) {
  RankedGuard a(AllocLock(), lock_timeout_ms_);
  CheckRepair(a.holder_died());
  if (e->in_lru != 0) {
    RankedGuard l(LruLock(), lock_timeout_ms_);
    CheckRepair(l.holder_died());
    lru_.Remove(e);
  }
  const uint64_t offset = e->offset;
  const uint64_t slab = e->slab;
  EraseSlot(s, e);  // first the slot: a crash now leaks the space, never frees a live object's
  MINIRAY_CRASH_POINT("phase4.drop.erased");
  Transaction tx(journal_);
  FreeLocked(slab, offset);
  tx.Commit();
  MINIRAY_CRASH_POINT("phase4.drop.freed");
}

GetResult ObjectStore::Get(const ObjectId& id, int64_t timeout_ms) {
  CheckOpen();
  const Place place = PlaceOf(id, stripes_, slots_per_stripe_);
  const uint32_t s = place.stripe;
  const int64_t deadline = timeout_ms <= 0 ? timeout_ms : MonotonicMs() + timeout_ms;
  for (;;) {
    GetResult out{GetStatus::kMissing, {0, 0}};
    bool done = false;
    uint32_t seen = 0;
    WithRepair([&] {
      RankedGuard g(StripeLock(s), lock_timeout_ms_);
      CheckRepair(g.holder_died());
      CheckOpen();
      ObjectEntry* e = Find(place, id);
      if (e != nullptr && e->state == kSealed) {
        const Location loc = LocationOf(e);
        if (e->pins[client_] == kMaxPinsPerClient) {
          throw Error(ErrorCode::kTableFull, "this handle holds " + std::to_string(kMaxPinsPerClient) +
                                                 " pins on object " + id.Hex() + ": release some");
        }
        // No LRU lock: the object stays where it is on the list. Eviction holds its stripe when it
        // looks at it, sees the pin and skips it; its recency changes with its last release.
        e->pins[client_] += 1;
        e->pin_total += 1;
        MINIRAY_CRASH_POINT("phase4.get.pinned");
        out = {GetStatus::kSealed, loc};
        done = true;
        return;
      }
      const bool expired = deadline == 0 || (deadline > 0 && MonotonicMs() >= deadline);
      if (expired) {
        out = {e == nullptr ? GetStatus::kMissing : GetStatus::kUnsealed, {0, 0}};
        done = true;
        return;
      }
      seen = header_->seal_seq.load(std::memory_order_acquire);
    });
    if (done) return out;
    if (closed_.load()) throw Error(ErrorCode::kClosed, "store was closed while get() waited");
    int64_t sleep = kMaxSleepMs;
    if (deadline >= 0) sleep = std::min(sleep, std::max<int64_t>(deadline - MonotonicMs(), 0));
    FutexWait(&header_->seal_seq, seen, sleep);
  }
}

void ObjectStore::Release(const ObjectId& id) {
  CheckOpen();
  const Place place = PlaceOf(id, stripes_, slots_per_stripe_);
  const uint32_t s = place.stripe;
  WithRepair([&] {
    RankedGuard g(StripeLock(s), lock_timeout_ms_);
    CheckRepair(g.holder_died());
    ObjectEntry* e = Find(place, id);
    if (e == nullptr || e->pins[client_] == 0) {
      throw Error(ErrorCode::kInvalidArgument, "object " + id.Hex() + " is not pinned by this handle (released twice?)");
    }
    if (e->state != kSealed) {
      throw Error(ErrorCode::kObjectNotSealed,
                  "object " + id.Hex() + " is not sealed: its creator's pin lasts until seal() (abort() drops the object)");
    }
    if (e->pin_total == 1 && !(e->in_lru != 0 && lru_.IsNewest(e))) {
      // Its last pin: it becomes the most recently used (moved to the tail, or joins there when
      // eviction unlinked it while it was pinned). Already the tail: nothing to move, no LRU lock.
      RankedGuard l(LruLock(), lock_timeout_ms_);
      CheckRepair(l.holder_died());
      e->pins[client_] -= 1;
      e->pin_total -= 1;
      MINIRAY_CRASH_POINT("phase4.release.unpinned");
      lru_.Remove(e);
      lru_.Push(e);
    } else {
      e->pins[client_] -= 1;
      e->pin_total -= 1;
    }
  });
}

bool ObjectStore::Contains(const ObjectId& id) {
  CheckOpen();
  const Place place = PlaceOf(id, stripes_, slots_per_stripe_);
  const uint32_t s = place.stripe;
  return WithRepair([&] {
    RankedGuard g(StripeLock(s), lock_timeout_ms_);
    CheckRepair(g.holder_died());
    const ObjectEntry* e = Find(place, id);
    return e != nullptr && e->state == kSealed;
  });
}

void ObjectStore::Delete(const ObjectId& id) {
  CheckOpen();
  const Place place = PlaceOf(id, stripes_, slots_per_stripe_);
  const uint32_t s = place.stripe;
  WithRepair([&] {
    RankedGuard g(StripeLock(s), lock_timeout_ms_);
    CheckRepair(g.holder_died());
    ObjectEntry* e = Find(place, id);
    if (e == nullptr) NotFound(id);
    if (e->state != kSealed) {
      throw Error(ErrorCode::kObjectNotSealed, "object " + id.Hex() + " is not sealed: its creator may still write it (use abort())");
    }
    if (e->pin_total != 0) {
      throw Error(ErrorCode::kObjectInUse, "object " + id.Hex() + " is pinned " + std::to_string(e->pin_total) +
                                               " time(s): release first");
    }
    DropLocked(s, e);
  });
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
  CheckOpen();
  return WithRepair([&] {
    RankedGuard l(LruLock(), lock_timeout_ms_);
    CheckRepair(l.holder_died());
    const uint64_t total = header_->lru.evictions;
    if (since > total) {
      throw Error(ErrorCode::kInvalidArgument, "since (" + std::to_string(since) + ") is beyond the eviction count (" +
                                                   std::to_string(total) + ")");
    }
    const uint64_t first = total - since > kEvictionLog ? total - kEvictionLog : since;
    std::vector<ObjectId> out;
    for (uint64_t k = first; k < total; ++k) out.push_back(header_->lru.evicted[k % kEvictionLog]);
    *now = total;
    *lost = first - since;
    return out;
  });
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
