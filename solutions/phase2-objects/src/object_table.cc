// Phase 2 reference: open addressing with linear probing and tombstones.
//
// A lookup walks from the id's home slot until it finds the id or an empty slot; tombstones are
// stepped over. An insert reuses the first tombstone on its path. When tombstones fill a quarter
// of the slots that hold no object, Tidy() removes them all, each by moving back the entries whose
// probe path crossed it (Knuth's deletion for linear probing, Algorithm R), one transaction per
// move: a process killed in the middle leaves every entry reachable and none twice.
#include "object_table.h"

#include <cstring>
#include <iterator>
#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase2 {

namespace {

constexpr uint32_t kEmpty = static_cast<uint32_t>(SlotState::kEmpty);
constexpr uint32_t kTombstone = static_cast<uint32_t>(SlotState::kTombstone);
constexpr uint32_t kUnsealed = static_cast<uint32_t>(SlotState::kUnsealed);

[[noreturn]] void Corrupt(const std::string& what) {
  throw Error(ErrorCode::kSegmentCorrupt, "object table: " + what);
}

[[noreturn]] void UnknownState(uint64_t index, uint32_t state) {
  Corrupt("slot " + std::to_string(index) + " has unknown state " + std::to_string(state));
}

}  // namespace

void ObjectTable::Init(uint64_t offset, uint64_t slots) {
  if (slots == 0 || slots > kMaxTableSlots) {
    throw Error(ErrorCode::kInvalidArgument,
                "tableSize must be 1.." + std::to_string(kMaxTableSlots) + " slots");
  }
  ObjectEntry* entries = segment_.At<ObjectEntry>(offset, slots);
  std::memset(static_cast<void*>(entries), 0, TableBytes(slots));
  header_->offset = offset;
  header_->slots = slots;
  header_->live = 0;
  header_->tombstones = 0;
  offset_ = offset;
  slots_ = slots;
}

void ObjectTable::Check() {
  const uint64_t offset = header_->offset;
  const uint64_t slots = header_->slots;
  bool sane = slots > 0 && slots <= kMaxTableSlots && offset == TableOffset();
  if (sane) {
    try {
      segment_.CheckRange(offset, TableBytes(slots));
    } catch (const Error&) {
      sane = false;
    }
  }
  if (!sane) throw Error(ErrorCode::kLayoutMismatch, "object table header is inconsistent");
  offset_ = offset;
  slots_ = slots;
}

ObjectEntry* ObjectTable::SlotAt(uint64_t index) const {
  if (index >= slots_) Corrupt("slot " + std::to_string(index) + " out of range");
  // offset_ and slots_ were checked against the mapping once, at Init or Check.
  return reinterpret_cast<ObjectEntry*>(segment_.base() + offset_ + index * sizeof(ObjectEntry));
}

uint64_t ObjectTable::IndexOf(const ObjectEntry* entry) const {
  const auto* p = reinterpret_cast<const uint8_t*>(entry);
  const uint8_t* first = segment_.base() + offset_;
  if (p < first || static_cast<uint64_t>(p - first) % sizeof(ObjectEntry) != 0 ||
      static_cast<uint64_t>(p - first) / sizeof(ObjectEntry) >= slots_) {
    Corrupt("an entry pointer that is not a slot");
  }
  return static_cast<uint64_t>(p - first) / sizeof(ObjectEntry);
}

ObjectEntry* ObjectTable::Find(const ObjectId& id) {
  const uint64_t slots = slots_;
  uint64_t index = HomeSlot(id, slots);
  for (uint64_t probe = 0; probe < slots; ++probe) {
    ObjectEntry* e = SlotAt(index);
    last_probes_ = probe + 1;
    const uint32_t state = e->state;
    if (state == kEmpty) return nullptr;
    if (IsLive(state)) {
      if (e->id == id) return e;
    } else if (state != kTombstone) {
      UnknownState(index, state);
    }
    index = index + 1 == slots ? 0 : index + 1;
  }
  return nullptr;  // every slot visited: the table holds no empty slot
}

ObjectEntry* ObjectTable::Insert(const ObjectId& id) {
  const uint64_t slots = slots_;
  uint64_t index = HomeSlot(id, slots);
  ObjectEntry* target = nullptr;
  for (uint64_t probe = 0; probe < slots; ++probe) {
    ObjectEntry* e = SlotAt(index);
    last_probes_ = probe + 1;
    const uint32_t state = e->state;
    if (state == kEmpty) {
      if (target == nullptr) target = e;
      break;
    }
    if (IsLive(state)) {
      if (e->id == id) {
        throw Error(ErrorCode::kObjectExists, "object " + id.Hex() + " already exists");
      }
    } else if (state == kTombstone) {
      if (target == nullptr) target = e;  // reuse it, once we know the id is not further on
    } else {
      UnknownState(index, state);
    }
    index = index + 1 == slots ? 0 : index + 1;
  }
  if (target == nullptr || header_->live >= slots) {
    throw Error(ErrorCode::kTableFull, "object table is full (" + std::to_string(slots) +
                                           " objects): delete some, or create the store with a "
                                           "larger tableSize");
  }
  const bool reused = target->state == kTombstone;
  // The id and the state share the entry's first three words: one journalled copy.
  struct {
    ObjectId id;
    uint32_t state;
  } head{id, kUnsealed};
  static_assert(sizeof(head) == offsetof(ObjectEntry, offset), "id and state lead the entry");
  journal_.Copy(target, &head, sizeof(head));
  MINIRAY_CRASH_POINT("phase2.table.insert.slot");
  if (reused) journal_.Set(&header_->tombstones, header_->tombstones - 1);
  journal_.Set(&header_->live, header_->live + 1);
  MINIRAY_CRASH_POINT("phase2.table.insert.counted");
  return target;
}

void ObjectTable::Erase(ObjectEntry* entry) {
  const uint64_t index = IndexOf(entry);
  if (!IsLive(entry->state)) Corrupt("erase of slot " + std::to_string(index) + ", which is not live");
  journal_.Set(&entry->state, kTombstone);
  MINIRAY_CRASH_POINT("phase2.table.erase.slot");
  journal_.Set(&header_->live, header_->live - 1);
  journal_.Set(&header_->tombstones, header_->tombstones + 1);
  MINIRAY_CRASH_POINT("phase2.table.erase.counted");
}

void ObjectTable::Tidy() {
  // Tombstones lengthen every miss: remove them when they fill a quarter of the slots that hold no
  // object (at 90% load that keeps the effective load under 92.5%; the O(slots) sweep costs
  // O(1/(1-load)) amortised per erase).
  const uint64_t tombstones = header_->tombstones;
  const uint64_t live = header_->live;
  if (tombstones == 0 || live > slots_ || tombstones * 4 < slots_ - live) return;
  for (uint64_t i = 0; i < slots_; ++i) {
    if (SlotAt(i)->state == kTombstone) RemoveTombstone(i);
  }
}

void ObjectTable::RemoveTombstone(uint64_t index) {
  const uint64_t slots = slots_;
  const auto next = [slots](uint64_t i) { return i + 1 == slots ? 0 : i + 1; };
  const auto distance = [slots](uint64_t from, uint64_t to) {
    return to >= from ? to - from : to + slots - from;
  };
  // Walk the cluster after the hole. An entry whose probe path (home .. where it is) crosses the
  // hole would become unreachable if the hole were emptied: move it into the hole, and its old
  // slot is the new hole. Entries whose path does not cross the hole stay. The walk ends at an
  // empty slot (or, in a table without one, back where it began); the hole is then emptied.
  uint64_t hole = index;
  for (uint64_t j = next(index); j != index; j = next(j)) {
    ObjectEntry* e = SlotAt(j);
    const uint32_t state = e->state;
    if (state == kEmpty) break;
    if (state == kTombstone) continue;
    if (!IsLive(state)) UnknownState(j, state);
    const uint64_t home = HomeSlot(e->id, slots);
    if (distance(home, hole) >= distance(home, j)) continue;
    Transaction tx(journal_);
    journal_.Copy(SlotAt(hole), e, sizeof(ObjectEntry));
    MINIRAY_CRASH_POINT("phase2.tidy.move.copied");
    journal_.Set(&e->state, kTombstone);
    // A slot that holds no object keeps no pins.
    uint64_t pin_words[sizeof(e->pins) / 8];
    std::memcpy(pin_words, e->pins, sizeof(e->pins));
    for (size_t w = 0; w < std::size(pin_words); ++w) {
      if (pin_words[w] != 0) journal_.Set(reinterpret_cast<uint64_t*>(e->pins) + w, uint64_t{0});
    }
    MINIRAY_CRASH_POINT("phase2.tidy.move.vacated");
    tx.Commit();
    hole = j;
  }
  Transaction tx(journal_);
  journal_.Set(&SlotAt(hole)->state, kEmpty);
  journal_.Set(&header_->tombstones, header_->tombstones - 1);
  MINIRAY_CRASH_POINT("phase2.tidy.emptied");
  tx.Commit();
}

}  // namespace miniray::phase2
