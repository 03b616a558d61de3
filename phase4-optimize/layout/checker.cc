// Phase 4: the segment checker (see checker.h). GIVEN.
//
// Every value is copied out of the mapping through Read(), which never reads outside it: the
// segment may be damaged in any way, and the checker reports it rather than crash.
#include "checker.h"

#include <cstddef>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "layout.h"
#include "lock_order.h"
#include "miniray/errors.h"
#include "miniray/process_identity.h"
#include "miniray/segment.h"

namespace miniray::phase4 {

namespace {

constexpr size_t kMaxProblems = 50;
constexpr uint32_t kEmpty = static_cast<uint32_t>(SlotState::kEmpty);
constexpr uint32_t kTombstone = static_cast<uint32_t>(SlotState::kTombstone);
constexpr uint32_t kUnsealed = static_cast<uint32_t>(SlotState::kUnsealed);
constexpr uint32_t kSealed = static_cast<uint32_t>(SlotState::kSealed);
constexpr uint32_t kClientOpen = static_cast<uint32_t>(ClientState::kOpen);
constexpr uint64_t kHeader = sizeof(BlockHeader);

std::string N(uint64_t v) { return std::to_string(v); }

class Checker {
 public:
  Checker(const uint8_t* base, uint64_t size) : base_(base), size_(size) {}

  CheckReport Run() {
    if (Header() && Pending()) {
      Blocks();
      FreeList();
      Pool();
      Table();
      Owners();
      Lru();
    }
    report_.ok = report_.problems.empty();
    if (dropped_ > 0) report_.problems.push_back("... and " + N(dropped_) + " more problems");
    return std::move(report_);
  }

 private:
  bool Inside(uint64_t offset, uint64_t length) const { return offset <= size_ && length <= size_ - offset; }

  // A copy of the T at `offset` (Inside() checked by the caller).
  template <typename T>
  T Read(uint64_t offset) const {
    T value;
    std::memcpy(static_cast<void*>(&value), base_ + offset, sizeof(T));
    return value;
  }
  template <typename T>
  T H(size_t field_offset) const {
    return Read<T>(field_offset);
  }

  void Problem(const std::string& what) {
    if (report_.problems.size() < kMaxProblems) {
      report_.problems.push_back(what);
    } else {
      dropped_ += 1;
    }
  }

  bool Header() {
    if (size_ < sizeof(StoreHeader)) {
      Problem("the segment is " + N(size_) + " bytes, too small for a phase-4 store");
      return false;
    }
    if (H<uint64_t>(offsetof(StoreHeader, common.magic)) != kMagic) {
      Problem("the magic number is not a phase-4 store's");
      return false;
    }
    const auto version = H<uint32_t>(offsetof(StoreHeader, common.layout_version));
    if (version != kLayoutVersion) {
      Problem("layout version " + N(version) + ", this checker knows " + N(kLayoutVersion));
      return false;
    }
    if (H<uint32_t>(offsetof(StoreHeader, common.state)) != CommonHeader::kReady) {
      Problem("the segment was never published (its creator died while making it?)");
      return false;
    }
    const auto recorded = H<uint64_t>(offsetof(StoreHeader, common.segment_size));
    if (recorded != size_) {
      Problem("the header records " + N(recorded) + " bytes, the segment has " + N(size_));
      return false;
    }
    stripes_ = H<uint32_t>(offsetof(StoreHeader, stripes));
    slots_ = H<uint64_t>(offsetof(StoreHeader, slots_per_stripe));
    if (stripes_ == 0 || stripes_ > kMaxStripes || (stripes_ & (stripes_ - 1)) != 0) {
      Problem("stripes is " + N(stripes_) + ", not a power of two in 1.." + N(kMaxStripes));
      return false;
    }
    if (slots_ == 0 || slots_ > kMaxSlotsPerStripe) {
      Problem("slots_per_stripe is " + N(slots_) + ", not in 1.." + N(kMaxSlotsPerStripe));
      return false;
    }
    report_.stripes = stripes_;
    report_.slots = stripes_ * slots_;
    table_ = TableOffset();
    begin_ = H<uint64_t>(offsetof(StoreHeader, alloc.begin));
    end_ = H<uint64_t>(offsetof(StoreHeader, alloc.end));
    if (begin_ != DataOffset(stripes_, slots_) || end_ != size_ || end_ < begin_ + kHeader) {
      Problem("the data region [" + N(begin_) + ", " + N(end_) + ") is not where layout.h puts it ([" +
              N(DataOffset(stripes_, slots_)) + ", " + N(size_) + "))");
      return false;
    }
    report_.capacity = end_ - begin_;
    return true;
  }

  // A repair pending, or a transaction the next repair undoes: nothing else is worth checking.
  bool Pending() {
    report_.repair_pending = report_.repair_pending || H<uint32_t>(offsetof(StoreHeader, repair)) != 0;
    if (report_.repair_pending) return false;
    const auto count = H<uint32_t>(offsetof(StoreHeader, alloc.journal.count));
    if (count != 0) {
      Problem("the journal holds " + N(count) + " records of an unfinished transaction, and no repair is pending");
      return false;
    }
    return true;
  }

  void Blocks() {
    uint64_t offset = begin_;
    uint64_t prev_size = 0;
    bool prev_free = false;
    uint64_t used = 0;
    while (offset < end_) {
      if (end_ - offset < kHeader) {
        Problem("the blocks end " + N(end_ - offset) + " bytes short of the data region's end");
        walk_ok_ = false;
        return;
      }
      const auto b = Read<BlockHeader>(offset);
      if (b.magic != kBlockMagic || b.size < kHeader || b.size % kAlignment != 0 || b.size > end_ - offset ||
          b.free > 1) {
        Problem("the block at " + N(offset) + " has a damaged header (size " + N(b.size) + ")");
        walk_ok_ = false;
        return;
      }
      if (b.prev_size != prev_size) {
        Problem("the block at " + N(offset) + " says the one before it is " + N(b.prev_size) + " bytes, it is " +
                N(prev_size));
      }
      report_.blocks += 1;
      if (b.free != 0) {
        if (prev_free) Problem("the free block at " + N(offset) + " follows a free block: not coalesced");
        free_.insert(offset);
      } else {
        if (b.kind > static_cast<uint32_t>(BlockKind::kSlab)) Problem("the block at " + N(offset) + " is of unknown kind");
        allocated_.emplace(offset + kHeader, std::make_pair(b.size, b.kind));
        used += b.size;
      }
      prev_free = b.free != 0;
      prev_size = b.size;
      offset += b.size;
    }
    report_.used_bytes = used;
    const auto recorded = H<uint64_t>(offsetof(StoreHeader, alloc.used_bytes));
    if (recorded != used) Problem("used_bytes is " + N(recorded) + ", the allocated blocks sum to " + N(used));
  }

  void FreeList() {
    if (!walk_ok_) return;
    std::unordered_set<uint64_t> seen;
    uint64_t prev = 0;
    uint64_t at = H<uint64_t>(offsetof(StoreHeader, alloc.free_head));
    while (at != 0) {
      if (free_.count(at) == 0) {
        Problem("the free list names " + N(at) + ", which is not a free block");
        return;
      }
      if (!seen.insert(at).second) {
        Problem("the free list loops back to " + N(at));
        return;
      }
      const auto b = Read<BlockHeader>(at);
      if (b.prev_free != prev) Problem("the free block at " + N(at) + " links back to " + N(b.prev_free) + ", not " + N(prev));
      prev = at;
      at = b.next_free;
    }
    if (seen.size() != free_.size()) Problem(N(free_.size() - seen.size()) + " free blocks are not on the free list");
    report_.free_blocks = free_.size();
    const auto recorded = H<uint64_t>(offsetof(StoreHeader, alloc.free_blocks));
    if (recorded != free_.size()) Problem("free_blocks is " + N(recorded) + ", there are " + N(free_.size()));
  }

  void Pool() {
    if (!walk_ok_) return;
    uint64_t slabs[kSizeClasses] = {};
    uint64_t used[kSizeClasses] = {};
    std::unordered_set<uint64_t> partial[kSizeClasses];
    for (const auto& [payload, block] : allocated_) {
      if (block.second != static_cast<uint32_t>(BlockKind::kSlab)) continue;
      if (block.first - kHeader < kSlabBytes) {
        Problem("the slab at " + N(payload) + " is smaller than a slab");
        continue;
      }
      const auto h = Read<SlabHeader>(payload);
      if (h.magic != kSlabMagic || h.size_class >= kSizeClasses) {
        Problem("the slab at " + N(payload) + " has a damaged header");
        continue;
      }
      const uint32_t c = h.size_class;
      const uint64_t slots = SlotsPerSlab(c);
      uint64_t bits = 0;
      for (uint64_t i = 0; i < 1024; ++i) {
        if (((h.bitmap[i / 64] >> (i % 64)) & 1) == 0) continue;
        if (i >= slots) {
          Problem("the slab at " + N(payload) + " marks slot " + N(i) + " in use, past its " + N(slots) + " slots");
          continue;
        }
        ++bits;
        slot_class_.emplace(payload + kSlabHeaderBytes + i * ClassBytes(c), c);
      }
      if (h.used != bits) Problem("the slab at " + N(payload) + " counts " + N(h.used) + " slots in use, its bitmap " + N(bits));
      if ((h.on_partial != 0) != (bits < slots)) {
        Problem("the slab at " + N(payload) + (bits < slots ? " has a free slot but is not" : " is full but is") +
                " on its class's partial list");
      }
      if (h.on_partial != 0) partial[c].insert(payload);
      slabs[c] += 1;
      used[c] += bits;
      report_.slabs += 1;
      report_.pool_slots += bits;
      slab_class_.emplace(payload, c);
    }
    for (uint32_t c = 0; c < kSizeClasses; ++c) {
      const size_t cls = offsetof(StoreHeader, alloc.classes) + c * sizeof(PoolClass);
      const auto pc = Read<PoolClass>(cls);
      if (pc.slabs != slabs[c]) Problem("class " + N(ClassBytes(c)) + " counts " + N(pc.slabs) + " slabs, it has " + N(slabs[c]));
      if (pc.used_slots != used[c]) {
        Problem("class " + N(ClassBytes(c)) + " counts " + N(pc.used_slots) + " slots in use, its slabs " + N(used[c]));
      }
      std::unordered_set<uint64_t> seen;
      uint64_t prev = 0;
      for (uint64_t at = pc.partial_head; at != 0;) {
        if (partial[c].count(at) == 0) {
          Problem("class " + N(ClassBytes(c)) + "'s partial list names " + N(at) + ", not a partial slab of that class");
          break;
        }
        if (!seen.insert(at).second) {
          Problem("class " + N(ClassBytes(c)) + "'s partial list loops back to " + N(at));
          break;
        }
        const auto h = Read<SlabHeader>(at);
        if (h.prev != prev) Problem("the slab at " + N(at) + " links back to " + N(h.prev) + ", not " + N(prev));
        prev = at;
        at = h.next;
      }
      if (seen.size() < partial[c].size()) {
        Problem(N(partial[c].size() - seen.size()) + " partial slabs of class " + N(ClassBytes(c)) + " are not on its list");
      }
    }
  }

  uint64_t EntryAt(uint32_t s, uint64_t i) const { return table_ + (s * slots_ + i) * sizeof(ObjectEntry); }

  void Table() {
    if (!Inside(table_, TableBytes(stripes_, slots_))) {
      Problem("the table does not fit in the segment");
      table_ok_ = false;
      return;
    }
    std::unordered_map<std::string, uint64_t> ids;  // id bytes -> entry offset
    std::unordered_set<uint64_t> owned;              // object offsets owned by a live entry
    for (uint32_t s = 0; s < stripes_; ++s) {
      uint64_t live = 0, tombstones = 0, sealed = 0;
      for (uint64_t i = 0; i < slots_; ++i) {
        const uint64_t at = EntryAt(s, i);
        const auto e = Read<ObjectEntry>(at);
        if (e.state == kTombstone) ++tombstones;
        if (e.state == kEmpty || e.state == kTombstone) continue;
        if (!IsLive(e.state)) {
          Problem("stripe " + N(s) + " slot " + N(i) + " has an unknown state " + N(e.state));
          continue;
        }
        ++live;
        if (e.state == kSealed) ++sealed;
        const std::string where = "object " + e.id.Hex();
        if (StripeOf(e.id, stripes_) != s) Problem(where + " is in stripe " + N(s) + ", its hash names " + N(StripeOf(e.id, stripes_)));
        if (!ids.emplace(std::string(reinterpret_cast<const char*>(e.id.bytes), ObjectId::kSize), at).second) {
          Problem(where + " is live in two slots");
        }
        // Reachable: no empty slot between its home slot and it.
        for (uint64_t j = HomeSlot(e.id, slots_); j != i; j = (j + 1) % slots_) {
          if (Read<uint32_t>(EntryAt(s, j) + offsetof(ObjectEntry, state)) == kEmpty) {
            Problem(where + " is past an empty slot of its probe: lookups cannot find it");
            break;
          }
        }
        Space(e, where, owned);
        live_.push_back(at);
      }
      const size_t st = offsetof(StoreHeader, stripe) + s * sizeof(Stripe);
      const auto rec_live = Read<uint64_t>(st + offsetof(Stripe, live));
      const auto rec_tomb = Read<uint64_t>(st + offsetof(Stripe, tombstones));
      const auto rec_sealed = Read<uint64_t>(st + offsetof(Stripe, sealed));
      if (rec_live != live) Problem("stripe " + N(s) + " counts " + N(rec_live) + " live objects, it holds " + N(live));
      if (rec_tomb != tombstones) Problem("stripe " + N(s) + " counts " + N(rec_tomb) + " tombstones, it holds " + N(tombstones));
      if (rec_sealed != sealed) Problem("stripe " + N(s) + " counts " + N(rec_sealed) + " sealed objects, it holds " + N(sealed));
      report_.objects += live;
      report_.tombstones += tombstones;
      report_.sealed += sealed;
    }
    if (!walk_ok_) return;
    for (const auto& [payload, cls] : slot_class_) {
      if (owned.count(payload) == 0) Problem("the pool slot at " + N(payload) + " is in use but no object owns it");
    }
    for (const auto& [payload, block] : allocated_) {
      if (block.second == static_cast<uint32_t>(BlockKind::kObject) && owned.count(payload) == 0) {
        Problem("the block at " + N(payload - kHeader) + " is allocated but no object owns it");
      }
    }
  }

  // A live entry's space: a pool slot of its class in the slab it names, or an object block.
  void Space(const ObjectEntry& e, const std::string& where, std::unordered_set<uint64_t>& owned) {
    if (!walk_ok_) return;
    if (!owned.insert(e.offset).second) Problem(where + " shares its space at " + N(e.offset) + " with another object");
    const uint32_t c = SizeClassOf(e.size);
    if (c < kSizeClasses) {
      const auto slab = slab_class_.find(e.slab);
      const auto slot = slot_class_.find(e.offset);
      if (slab == slab_class_.end() || slot == slot_class_.end() || e.offset < e.slab ||
          e.offset - e.slab >= kSlabBytes) {
        Problem(where + " (" + N(e.size) + " bytes) is not in a used slot of the slab it names");
      } else if (slab->second != c) {
        Problem(where + " (" + N(e.size) + " bytes) is in a slab of class " + N(ClassBytes(slab->second)));
      }
      return;
    }
    const auto block = allocated_.find(e.offset);
    if (e.slab != 0 || block == allocated_.end() || block->second.second != static_cast<uint32_t>(BlockKind::kObject)) {
      Problem(where + " (" + N(e.size) + " bytes) does not start an allocated object block");
    } else if (block->second.first - kHeader < e.size) {
      Problem(where + " (" + N(e.size) + " bytes) is larger than its block");
    }
  }

  void Owners() {
    bool open[kMaxClients] = {};
    uint64_t pins_of[kMaxClients] = {};
    for (uint32_t c = 0; c < kMaxClients; ++c) {
      const size_t at = offsetof(StoreHeader, alloc.clients) + c * sizeof(ClientRecord);
      open[c] = Read<uint32_t>(at + offsetof(ClientRecord, state)) == kClientOpen;
    }
    for (uint64_t at : live_) {
      const auto e = Read<ObjectEntry>(at);
      const std::string where = "object " + e.id.Hex();
      uint64_t sum = 0;
      for (uint32_t c = 0; c < kMaxClients; ++c) {
        if (e.pins[c] == 0) continue;
        sum += e.pins[c];
        pins_of[c] += e.pins[c];
        if (!open[c]) Problem(where + " is pinned by client " + N(c) + ", whose record is not open");
      }
      report_.pinned += sum;
      if (e.pin_total != sum) Problem(where + " records " + N(e.pin_total) + " pins, they sum to " + N(sum));
      if (e.state == kUnsealed && (e.creator >= kMaxClients || e.pins[e.creator] != 1 || sum != 1)) {
        Problem(where + " is unsealed but not pinned by its creator alone, once");
      }
    }
    for (uint32_t c = 0; c < kMaxClients; ++c) {
      if (!open[c]) continue;
      const size_t at = offsetof(StoreHeader, alloc.clients) + c * sizeof(ClientRecord);
      const auto r = Read<ClientRecord>(at);
      if (r.owner.pid <= 0) Problem("client record " + N(c) + " is open but names no process");
      bool alive = false;
      try {
        alive = IsAlive(r.owner);
      } catch (const Error&) {
      }
      report_.clients.push_back({c, r.owner.pid, alive, pins_of[c]});
    }
  }

  void Lru() {
    if (!table_ok_) return;
    std::unordered_set<uint64_t> listed;
    uint64_t bytes = 0;
    uint64_t prev = 0;
    uint64_t prev_use = 0;
    uint64_t pinned = 0;
    const uint64_t table_end = table_ + TableBytes(stripes_, slots_);
    for (uint64_t at = H<uint64_t>(offsetof(StoreHeader, lru.head)); at != 0;) {
      if (at < table_ || at >= table_end || (at - table_) % sizeof(ObjectEntry) != 0) {
        Problem("the LRU list names " + N(at) + ", which is not a slot of the table");
        return;
      }
      if (!listed.insert(at).second) {
        Problem("the LRU list loops back to " + N(at));
        return;
      }
      const auto e = Read<ObjectEntry>(at);
      // A pinned object may be on the list (a get leaves it there; eviction skips it).
      if (e.state != kSealed || e.in_lru != 1) {
        Problem("the LRU list holds " + (IsLive(e.state) ? "object " + e.id.Hex() : "an empty slot") +
                ", which is not a sealed object");
      }
      if (e.pin_total != 0) pinned += 1;
      if (e.lru_prev != prev) Problem("the LRU entry at " + N(at) + " links back to " + N(e.lru_prev) + ", not " + N(prev));
      if (e.last_use < prev_use) {
        Problem("the LRU list is out of recency order at " + N(at) + ": last use " + N(e.last_use) +
                " after " + N(prev_use));
      }
      prev_use = e.last_use;
      bytes += e.size;
      prev = at;
      at = e.lru_next;
    }
    if (H<uint64_t>(offsetof(StoreHeader, lru.tail)) != prev) Problem("the LRU list's tail is not its last entry");
    for (uint64_t at : live_) {
      const auto e = Read<ObjectEntry>(at);
      const bool evictable = e.state == kSealed && e.pin_total == 0;
      if (evictable && listed.count(at) == 0) {
        Problem("object " + e.id.Hex() + " is sealed and nobody pins it, but it is not on the LRU list: never evictable");
      }
      if ((e.in_lru == 1) != (listed.count(at) != 0)) Problem("object " + e.id.Hex() + "'s in_lru flag disagrees with the list");
    }
    report_.lru = listed.size() - pinned;
    report_.lru_pinned = pinned;
    const auto count = H<uint64_t>(offsetof(StoreHeader, lru.count));
    const auto recorded = H<uint64_t>(offsetof(StoreHeader, lru.bytes));
    if (count != listed.size()) Problem("the LRU list counts " + N(count) + " entries, it holds " + N(listed.size()));
    if (recorded != bytes) Problem("the LRU list counts " + N(recorded) + " bytes, its entries hold " + N(bytes));
  }

  const uint8_t* base_;
  uint64_t size_;
  CheckReport report_;
  size_t dropped_ = 0;
  uint32_t stripes_ = 0;
  uint64_t slots_ = 0;
  uint64_t table_ = 0;
  uint64_t begin_ = 0;
  uint64_t end_ = 0;
  bool walk_ok_ = true;
  bool table_ok_ = true;
  std::map<uint64_t, std::pair<uint64_t, uint32_t>> allocated_;  // payload -> block size, kind
  std::unordered_set<uint64_t> free_;                             // free block offsets
  std::unordered_map<uint64_t, uint32_t> slab_class_;             // slab payload -> class
  std::unordered_map<uint64_t, uint32_t> slot_class_;             // used pool slot -> class
  std::vector<uint64_t> live_;                                    // live entries' offsets
};

// Every lock of the store in the order of layout.h, held while it lives. Locks this thread holds
// already are left alone; while it holds any, the others are only try-locked (waiting for one that
// comes earlier in the order could deadlock), and a busy one is ERR_LOCK_TIMEOUT.
class AllLocks {
 public:
  AllLocks(StoreHeader* h, uint32_t stripes, uint32_t timeout_ms) : try_only_(RankedLock::HeldCount() > 0) {
    try {
      for (uint32_t s = 0; s < stripes; ++s) Take(RankedLock(h, h->stripe[s].mutex, h->stripe[s].counters, s), timeout_ms);
      Take(RankedLock(h, h->alloc.mutex, h->alloc.counters, kAllocRank), timeout_ms);
      Take(RankedLock(h, h->lru.mutex, h->lru.counters, kLruRank), timeout_ms);
    } catch (...) {
      Release();
      throw;
    }
  }
  ~AllLocks() { Release(); }
  AllLocks(const AllLocks&) = delete;
  AllLocks& operator=(const AllLocks&) = delete;
  bool holder_died() const { return died_; }

 private:
  void Take(RankedLock lock, uint32_t timeout_ms) {
    if (RankedLock::Holds(lock.rank())) return;
    const Acquired got = try_only_ ? lock.TryLock() : lock.Lock(timeout_ms);
    if (got == Acquired::kBusy) {
      throw Error(ErrorCode::kLockTimeout, "the checker holds a lock already, and lock rank " +
                                               std::to_string(lock.rank()) + " is held by another process");
    }
    died_ = died_ || got == Acquired::kHolderDied;
    held_.push_back(lock);
  }
  void Release() {
    for (auto it = held_.rbegin(); it != held_.rend(); ++it) it->Unlock();
    held_.clear();
  }
  bool try_only_;
  std::vector<RankedLock> held_;
  bool died_ = false;
};

}  // namespace

CheckReport CheckMapped(const uint8_t* base, uint64_t size) { return Checker(base, size).Run(); }

CheckReport CheckSegment(const std::string& name, uint32_t lock_timeout_ms) {
  auto segment = Segment::Open(name);
  const uint8_t* base = segment->base();
  const uint64_t size = segment->size();
  // Only a segment that says it is a published phase-4 store of a sane geometry has locks to take.
  uint32_t stripes = 0;
  if (size >= sizeof(StoreHeader)) {
    const auto* h = reinterpret_cast<const StoreHeader*>(base);
    if (h->common.magic == kMagic && h->common.layout_version == kLayoutVersion &&
        h->common.state.load(std::memory_order_acquire) == CommonHeader::kReady && h->common.segment_size == size &&
        h->stripes >= 1 && h->stripes <= kMaxStripes) {
      stripes = h->stripes;
    }
  }
  if (stripes == 0) return CheckMapped(base, size);
  auto* h = segment->At<StoreHeader>(0);
  AllLocks locks(h, stripes, lock_timeout_ms);
  if (locks.holder_died()) {
    // The dead holder's repair is the next store operation's job: leave it marked.
    h->repair.store(1, std::memory_order_release);
    CheckReport report;
    report.holder_died = true;
    report.repair_pending = true;
    report.ok = true;
    report.stripes = stripes;
    return report;
  }
  return CheckMapped(base, size);
}

}  // namespace miniray::phase4
