// Phase 2: the segment checker (see checker.h). GIVEN.
//
// Every value is read through Reader, which applies the records of an open transaction (the value
// each word had before it) and never reads outside the mapping: the segment may be damaged in any
// way, and the checker reports it rather than crash.
#include "checker.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "journal.h"
#include "layout.h"
#include "miniray/errors.h"
#include "miniray/process_identity.h"
#include "miniray/segment.h"

namespace miniray::phase2 {

namespace {

constexpr size_t kMaxProblems = 50;
constexpr uint32_t kEmpty = static_cast<uint32_t>(SlotState::kEmpty);
constexpr uint32_t kTombstone = static_cast<uint32_t>(SlotState::kTombstone);
constexpr uint32_t kUnsealed = static_cast<uint32_t>(SlotState::kUnsealed);
constexpr uint32_t kSealed = static_cast<uint32_t>(SlotState::kSealed);
constexpr uint32_t kClientOpen = static_cast<uint32_t>(ClientState::kOpen);

class Reader {
 public:
  Reader(const uint8_t* base, uint64_t size) : base_(base), size_(size) {}

  bool Inside(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }

  // The bytes [offset, offset + length) as recovery will leave them. Inside() first.
  void Bytes(uint64_t offset, void* out, uint64_t length) const {
    std::memcpy(out, base_ + offset, length);
    if (undo_.empty()) return;
    auto* dst = static_cast<uint8_t*>(out);
    for (uint64_t word = offset & ~7ULL; word < offset + length; word += 8) {
      auto it = undo_.find(word);
      if (it == undo_.end()) continue;
      uint8_t old[8];
      std::memcpy(old, &it->second, 8);
      for (uint64_t b = 0; b < 8; ++b) {
        const uint64_t at = word + b;
        if (at >= offset && at < offset + length) dst[at - offset] = old[b];
      }
    }
  }

  template <typename T>
  T Read(uint64_t offset) const {
    T value;
    Bytes(offset, &value, sizeof(T));
    return value;
  }

  // Keeps the oldest record of each word: rolling back, newest first, ends with it.
  void Undo(uint64_t word, uint64_t old_value) { undo_.emplace(word, old_value); }

 private:
  const uint8_t* base_;
  uint64_t size_;
  std::unordered_map<uint64_t, uint64_t> undo_;
};

class Checker {
 public:
  Checker(const uint8_t* base, uint64_t size) : r_(base, size), size_(size) {}

  CheckReport Run() {
    if (Header() && Journal() && Geometry()) {
      Blocks();
      FreeList();
      Table();
      Clients();
    }
    report_.ok = report_.problems.empty();
    if (dropped_ > 0) {
      report_.problems.push_back("... and " + std::to_string(dropped_) + " more problems");
    }
    return std::move(report_);
  }

 private:
  template <typename T>
  T H(size_t field_offset) const {
    return r_.Read<T>(field_offset);
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
      Problem("the segment is " + std::to_string(size_) + " bytes, too small for a phase-2 store");
      return false;
    }
    if (H<uint64_t>(offsetof(StoreHeader, common.magic)) != kMagic) {
      Problem("the magic number is not a phase-2 store's");
      return false;
    }
    const auto version = H<uint32_t>(offsetof(StoreHeader, common.layout_version));
    if (version != kLayoutVersion) {
      Problem("layout version " + std::to_string(version) + ", this checker knows " +
              std::to_string(kLayoutVersion));
      return false;
    }
    if (H<uint32_t>(offsetof(StoreHeader, common.state)) != CommonHeader::kReady) {
      Problem("the segment was never published (its creator died while making it?)");
      return false;
    }
    const auto recorded = H<uint64_t>(offsetof(StoreHeader, common.segment_size));
    if (recorded != size_) {
      Problem("the header records " + std::to_string(recorded) + " bytes, the segment has " +
              std::to_string(size_));
      return false;
    }
    report_.repair_pending = H<uint32_t>(offsetof(StoreHeader, repair)) != 0;
    return true;
  }

  bool Journal() {
    const auto count = H<uint32_t>(offsetof(StoreHeader, journal.count));
    report_.open_transaction = count;
    if (count > kJournalCapacity) {
      Problem("the journal holds " + std::to_string(count) + " records, more than its " +
              std::to_string(kJournalCapacity));
      return true;  // checked as it is
    }
    for (uint32_t i = 0; i < count; ++i) {
      const uint64_t at = offsetof(StoreHeader, journal.records) + i * sizeof(JournalRecord);
      const auto rec = H<JournalRecord>(at);
      if (!Journal::MayWrite(rec.offset, size_)) {
        Problem("journal record " + std::to_string(i) + " names offset " +
                std::to_string(rec.offset) + ", which no transaction may write");
        return true;
      }
    }
    // The oldest record of a word is what it held before the transaction.
    for (uint32_t i = 0; i < count; ++i) {
      const uint64_t at = offsetof(StoreHeader, journal.records) + i * sizeof(JournalRecord);
      const auto rec = H<JournalRecord>(at);
      r_.Undo(rec.offset, rec.old_value);
    }
    return true;
  }

  bool Geometry() {
    slots_ = H<uint64_t>(offsetof(StoreHeader, table.slots));
    const auto table_offset = H<uint64_t>(offsetof(StoreHeader, table.offset));
    report_.slots = slots_;
    if (slots_ == 0 || slots_ > kMaxTableSlots || table_offset != TableOffset() ||
        !r_.Inside(table_offset, TableBytes(slots_))) {
      Problem("the table header (offset " + std::to_string(table_offset) + ", " +
              std::to_string(slots_) + " slots) does not fit the segment");
      return false;
    }
    table_ = table_offset;
    begin_ = H<uint64_t>(offsetof(StoreHeader, allocator.begin));
    end_ = H<uint64_t>(offsetof(StoreHeader, allocator.end));
    if (begin_ != DataOffset(slots_) || end_ != size_ || end_ <= begin_ ||
        end_ - begin_ < sizeof(BlockHeader) || begin_ % kAlignment != 0) {
      Problem("the data region [" + std::to_string(begin_) + ", " + std::to_string(end_) +
              ") is not where the layout puts it");
      return false;
    }
    report_.capacity = end_ - begin_;
    return true;
  }

  BlockHeader Block(uint64_t offset) const { return r_.Read<BlockHeader>(offset); }

  void Blocks() {
    uint64_t offset = begin_;
    uint64_t prev_size = 0;
    bool prev_free = false;
    uint64_t used = 0;
    while (offset < end_) {
      if (end_ - offset < sizeof(BlockHeader)) {
        Problem("the last block at " + std::to_string(offset) + " is too short for a header");
        walk_ok_ = false;
        break;
      }
      const BlockHeader b = Block(offset);
      if (b.magic != kBlockMagic || b.size < sizeof(BlockHeader) || b.size % kAlignment != 0 ||
          b.size > end_ - offset || b.free > 1) {
        Problem("the block at " + std::to_string(offset) +
                " has a damaged header (magic, size or free flag): the blocks do not tile the "
                "data region");
        walk_ok_ = false;
        break;
      }
      if (b.prev_size != prev_size) {
        Problem("the block at " + std::to_string(offset) + " says the block before it has " +
                std::to_string(b.prev_size) + " bytes; it has " + std::to_string(prev_size));
      }
      if (b.free == 1) {
        if (prev_free) {
          Problem("the free blocks before " + std::to_string(offset) +
                  " and at it are neighbours: free space is not coalesced");
        }
        free_.insert(offset);
      } else {
        allocated_.emplace(offset, b.size);
        used += b.size;
      }
      prev_free = b.free == 1;
      prev_size = b.size;
      report_.blocks += 1;
      offset += b.size;
    }
    report_.used_bytes = used;
    const auto recorded = H<uint64_t>(offsetof(StoreHeader, allocator.used_bytes));
    if (walk_ok_ && recorded != used) {
      Problem("used_bytes says " + std::to_string(recorded) + ", the allocated blocks hold " +
              std::to_string(used));
    }
  }

  void FreeList() {
    if (!walk_ok_) return;
    uint64_t offset = H<uint64_t>(offsetof(StoreHeader, allocator.free_head));
    uint64_t prev = 0;
    uint64_t count = 0;
    std::unordered_set<uint64_t> seen;
    while (offset != 0) {
      if (free_.count(offset) == 0) {
        Problem("the free list leads to " + std::to_string(offset) + ", which is not a free block");
        return;
      }
      if (!seen.insert(offset).second) {
        Problem("the free list runs in a cycle through " + std::to_string(offset));
        return;
      }
      const BlockHeader b = Block(offset);
      if (b.prev_free != prev) {
        Problem("the free block at " + std::to_string(offset) + " links back to " +
                std::to_string(b.prev_free) + " instead of " + std::to_string(prev));
      }
      count += 1;
      prev = offset;
      offset = b.next_free;
    }
    if (count != free_.size()) {
      Problem(std::to_string(free_.size() - count) + " free block(s) are not on the free list");
    }
    report_.free_blocks = count;
    const auto recorded = H<uint64_t>(offsetof(StoreHeader, allocator.free_blocks));
    if (recorded != count) {
      Problem("free_blocks says " + std::to_string(recorded) + ", the list holds " +
              std::to_string(count));
    }
  }

  ObjectEntry Entry(uint64_t index) const {
    return r_.Read<ObjectEntry>(table_ + index * sizeof(ObjectEntry));
  }

  ClientRecord Client(uint32_t c) const {
    return r_.Read<ClientRecord>(offsetof(StoreHeader, clients) + c * sizeof(ClientRecord));
  }

  void Table() {
    uint64_t live = 0;
    uint64_t tombstones = 0;
    uint64_t sealed = 0;
    std::unordered_map<std::string, uint64_t> ids;
    std::map<uint64_t, uint64_t> owner_of_block;  // payload offset -> slot
    for (uint32_t c = 0; c < kMaxClients; ++c) open_[c] = Client(c).state == kClientOpen;
    for (uint64_t i = 0; i < slots_; ++i) {
      const ObjectEntry e = Entry(i);
      const std::string where = "slot " + std::to_string(i);
      if (e.state == kEmpty || e.state == kTombstone) {
        if (e.state == kTombstone) tombstones += 1;
        for (uint16_t p : e.pins) {
          if (p != 0) {
            Problem(where + " holds no object but has pins");
            break;
          }
        }
        continue;
      }
      if (e.state != kUnsealed && e.state != kSealed) {
        Problem(where + " has unknown state " + std::to_string(e.state));
        continue;
      }
      live += 1;
      if (e.state == kSealed) sealed += 1;
      const std::string id = e.id.Hex();
      const std::string what = "object " + id + " (" + where + ")";
      if (!ids.emplace(id, i).second) {
        Problem("object " + id + " is live twice, in slots " + std::to_string(ids[id]) + " and " +
                std::to_string(i));
      }
      Reachable(e, i, what);
      Owns(e, i, what, owner_of_block);
      Pins(e, what);
    }
    report_.objects = live;
    report_.sealed = sealed;
    report_.tombstones = tombstones;
    const auto rec_live = H<uint64_t>(offsetof(StoreHeader, table.live));
    const auto rec_tomb = H<uint64_t>(offsetof(StoreHeader, table.tombstones));
    const auto rec_sealed = H<uint64_t>(offsetof(StoreHeader, sealed_count));
    if (rec_live != live) {
      Problem("the table says " + std::to_string(rec_live) + " live entries; there are " +
              std::to_string(live));
    }
    if (rec_tomb != tombstones) {
      Problem("the table says " + std::to_string(rec_tomb) + " tombstones; there are " +
              std::to_string(tombstones));
    }
    if (rec_sealed != sealed) {
      Problem("sealed_count says " + std::to_string(rec_sealed) + "; " + std::to_string(sealed) +
              " entries are sealed");
    }
    if (walk_ok_) {
      for (const auto& [block, bytes] : allocated_) {
        if (owner_of_block.count(block + sizeof(BlockHeader)) == 0) {
          Problem("the allocated block at " + std::to_string(block) + " (" +
                  std::to_string(bytes) + " bytes) belongs to no object: it leaked");
        }
      }
    }
  }

  // Lookups walk from the home slot and stop at the first empty slot: none may lie in between.
  void Reachable(const ObjectEntry& e, uint64_t index, const std::string& what) {
    uint64_t j = ObjectIdHome(e);
    for (uint64_t steps = 0; j != index && steps < slots_; ++steps) {
      if (Entry(j).state == kEmpty) {
        Problem(what + " is unreachable: slot " + std::to_string(j) +
                " on its probe path is empty");
        return;
      }
      j = j + 1 == slots_ ? 0 : j + 1;
    }
  }

  uint64_t ObjectIdHome(const ObjectEntry& e) const { return e.id.Hash() % slots_; }

  void Owns(const ObjectEntry& e, uint64_t index, const std::string& what,
            std::map<uint64_t, uint64_t>& owner_of_block) {
    if (!walk_ok_) return;
    if (e.offset < begin_ + sizeof(BlockHeader) || e.offset > end_ ||
        e.size > end_ - e.offset) {
      Problem(what + " lies outside the data region (offset " + std::to_string(e.offset) +
              ", size " + std::to_string(e.size) + ")");
      return;
    }
    auto block = allocated_.find(e.offset - sizeof(BlockHeader));
    if (block == allocated_.end()) {
      Problem(what + " does not start at the payload of an allocated block");
      return;
    }
    if (e.size > block->second - sizeof(BlockHeader)) {
      Problem(what + " has " + std::to_string(e.size) + " bytes; its block holds " +
              std::to_string(block->second - sizeof(BlockHeader)));
    }
    auto [it, fresh] = owner_of_block.emplace(e.offset, index);
    if (!fresh) {
      Problem(what + " shares its block with the object in slot " + std::to_string(it->second));
    }
  }

  void Pins(const ObjectEntry& e, const std::string& what) {
    if (e.state == kUnsealed) {
      if (e.creator >= kMaxClients || !open_[e.creator]) {
        Problem(what + " is unsealed and its creator (client " + std::to_string(e.creator) +
                ") is not an open client");
      } else {
        unsealed_of_[e.creator] += 1;
      }
    }
    for (uint32_t c = 0; c < kMaxClients; ++c) {
      const uint16_t p = e.pins[c];
      const bool creator_pin = e.state == kUnsealed && c == e.creator;
      if (creator_pin && p != 1) {
        Problem(what + " is unsealed: its creator must hold exactly one pin, it holds " +
                std::to_string(p));
      }
      if (!creator_pin && e.state == kUnsealed && p != 0) {
        Problem(what + " is unsealed and pinned by client " + std::to_string(c) +
                ", which did not create it");
      }
      if (p == 0) continue;
      report_.pinned += p;
      if (!open_[c]) {
        Problem(what + " is pinned " + std::to_string(p) + " time(s) by client " +
                std::to_string(c) + ", which is not open");
      } else {
        pins_of_[c] += p;
      }
    }
  }

  void Clients() {
    for (uint32_t c = 0; c < kMaxClients; ++c) {
      const ClientRecord r = Client(c);
      if (r.state != kClientOpen) {
        if (r.state != static_cast<uint32_t>(ClientState::kFree)) {
          Problem("client record " + std::to_string(c) + " has unknown state " +
                  std::to_string(r.state));
        }
        continue;
      }
      if (r.owner.pid <= 0) {
        Problem("client record " + std::to_string(c) + " is open but names no process");
      }
      bool alive = false;
      try {
        alive = IsAlive(r.owner);
      } catch (const Error&) {
      }
      report_.clients.push_back(
          {c, r.owner.pid, r.owner.start_time, alive, pins_of_[c], unsealed_of_[c]});
    }
  }

  Reader r_;
  uint64_t size_;
  CheckReport report_;
  size_t dropped_ = 0;
  uint64_t slots_ = 0;
  uint64_t table_ = 0;
  uint64_t begin_ = 0;
  uint64_t end_ = 0;
  bool walk_ok_ = true;
  std::map<uint64_t, uint64_t> allocated_;  // block offset -> size
  std::unordered_set<uint64_t> free_;
  bool open_[kMaxClients] = {};
  uint64_t pins_of_[kMaxClients] = {};
  uint64_t unsealed_of_[kMaxClients] = {};
};

}  // namespace

CheckReport CheckMapped(const uint8_t* base, uint64_t size) { return Checker(base, size).Run(); }

CheckReport CheckSegment(const std::string& name, uint32_t lock_timeout_ms) {
  auto segment = Segment::Open(name);
  const uint8_t* base = segment->base();
  const uint64_t size = segment->size();
  // Only a segment that says it is a published phase-2 store has a mutex worth taking.
  bool lockable = size >= sizeof(StoreHeader);
  if (lockable) {
    const auto* h = reinterpret_cast<const StoreHeader*>(base);
    lockable = h->common.magic == kMagic && h->common.layout_version == kLayoutVersion &&
               h->common.state.load(std::memory_order_acquire) == CommonHeader::kReady &&
               h->common.segment_size == size;
  }
  if (!lockable) return CheckMapped(base, size);
  auto* h = segment->At<StoreHeader>(0);
  bool held = false;
  bool died = false;
  try {
    died = h->mutex.Lock(lock_timeout_ms);
    held = true;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kDeadlock) throw;  // this thread holds it already: check as is
  }
  CheckReport report;
  try {
    // The dead holder's repair is the next store operation's job: leave it marked.
    if (died) h->repair = 1;
    report = CheckMapped(base, size);
    report.holder_died = died;
  } catch (...) {
    if (held) h->mutex.Unlock();
    throw;
  }
  if (held) h->mutex.Unlock();
  return report;
}

}  // namespace miniray::phase2
