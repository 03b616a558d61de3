// Phase 2 reference: open addressing with linear probing and tombstones.
//
// A lookup walks from the id's home slot until it finds the id or an empty slot; tombstones are
// stepped over. An insert reuses the first tombstone on its path. Tombstones are trimmed when an
// empty slot follows them and, when they outnumber half the free slots, the table rebuilds itself
// in place, so a miss stays O(1) however long the store churns.
#include "object_table.h"

#include <cstring>
#include <string>

#include "miniray/errors.h"

namespace miniray::phase2 {

namespace {

bool IsLive(uint32_t state) {
  return state == static_cast<uint32_t>(SlotState::kUnsealed) ||
         state == static_cast<uint32_t>(SlotState::kSealed);
}

[[noreturn]] void Corrupt(const std::string& what) {
  throw Error(ErrorCode::kSegmentCorrupt, "object table: " + what);
}

}  // namespace

void ObjectTable::Init(uint64_t offset, uint64_t slots) {
  if (slots == 0 || slots > kMaxTableSlots) {
    throw Error(ErrorCode::kInvalidArgument,
                "tableSize must be 1.." + std::to_string(kMaxTableSlots) + " slots");
  }
  ObjectEntry* entries = segment_.At<ObjectEntry>(offset, slots);
  std::memset(static_cast<void*>(entries), 0, BytesFor(slots));
  header_->offset = offset;
  header_->slots = slots;
  header_->live = 0;
  header_->tombstones = 0;
}

void ObjectTable::Check() const {
  const TableHeader& h = *header_;
  bool sane = h.slots > 0 && h.slots <= kMaxTableSlots && h.live + h.tombstones <= h.slots;
  if (sane) {
    try {
      segment_.CheckRange(h.offset, BytesFor(h.slots));
    } catch (const Error&) {
      sane = false;
    }
  }
  if (!sane) throw Error(ErrorCode::kLayoutMismatch, "object table header is inconsistent");
}

ObjectEntry* ObjectTable::SlotAt(uint64_t index) const {
  if (index >= header_->slots) Corrupt("slot " + std::to_string(index) + " out of range");
  return segment_.At<ObjectEntry>(header_->offset + index * sizeof(ObjectEntry));
}

ObjectEntry* ObjectTable::Find(const ObjectId& id) {
  const uint64_t slots = header_->slots;
  uint64_t index = HomeSlot(id, slots);
  for (uint64_t probe = 0; probe < slots; ++probe) {
    ObjectEntry* e = SlotAt(index);
    last_probes_ = probe + 1;
    if (e->state == static_cast<uint32_t>(SlotState::kEmpty)) return nullptr;
    if (IsLive(e->state)) {
      if (e->id == id) return e;
    } else if (e->state != static_cast<uint32_t>(SlotState::kTombstone)) {
      Corrupt("slot " + std::to_string(index) + " has unknown state " + std::to_string(e->state));
    }
    index = index + 1 == slots ? 0 : index + 1;
  }
  return nullptr;  // every slot visited: the table holds no empty slot
}

ObjectEntry* ObjectTable::Insert(const ObjectId& id) {
  const uint64_t slots = header_->slots;
  uint64_t index = HomeSlot(id, slots);
  ObjectEntry* target = nullptr;
  for (uint64_t probe = 0; probe < slots; ++probe) {
    ObjectEntry* e = SlotAt(index);
    last_probes_ = probe + 1;
    if (e->state == static_cast<uint32_t>(SlotState::kEmpty)) {
      if (target == nullptr) target = e;
      break;
    }
    if (IsLive(e->state)) {
      if (e->id == id) {
        throw Error(ErrorCode::kObjectExists, "object " + id.Hex() + " already exists");
      }
    } else if (e->state == static_cast<uint32_t>(SlotState::kTombstone)) {
      if (target == nullptr) target = e;  // reuse it, once we know the id is not further on
    } else {
      Corrupt("slot " + std::to_string(index) + " has unknown state " + std::to_string(e->state));
    }
    index = index + 1 == slots ? 0 : index + 1;
  }
  if (target == nullptr || header_->live >= slots) {
    throw Error(ErrorCode::kTableFull, "object table is full (" + std::to_string(slots) +
                                           " objects): delete some, or create the store with a "
                                           "larger tableSize");
  }
  if (target->state == static_cast<uint32_t>(SlotState::kTombstone)) header_->tombstones -= 1;
  std::memset(static_cast<void*>(target), 0, sizeof(ObjectEntry));
  target->id = id;
  target->state = static_cast<uint32_t>(SlotState::kUnsealed);
  header_->live += 1;
  return target;
}

void ObjectTable::Erase(ObjectEntry* entry) {
  const uint64_t slots = header_->slots;
  const uint64_t first = header_->offset;
  const auto at = reinterpret_cast<const uint8_t*>(entry) - segment_.base();
  if (at < 0 || static_cast<uint64_t>(at) < first ||
      (static_cast<uint64_t>(at) - first) % sizeof(ObjectEntry) != 0 ||
      (static_cast<uint64_t>(at) - first) / sizeof(ObjectEntry) >= slots || !IsLive(entry->state)) {
    Corrupt("erase of an entry that is not a live slot");
  }
  uint64_t index = (static_cast<uint64_t>(at) - first) / sizeof(ObjectEntry);
  entry->state = static_cast<uint32_t>(SlotState::kEmpty);  // mutant: no tombstone
  header_->live -= 1;
  return;
  // A tombstone followed by an empty slot ends no probe path that an empty slot would not: trim
  // it, and the tombstones before it, back to empty.
  uint64_t next = index + 1 == slots ? 0 : index + 1;
  if (SlotAt(next)->state == static_cast<uint32_t>(SlotState::kEmpty)) {
    for (uint64_t n = 0; n < slots; ++n) {
      ObjectEntry* e = SlotAt(index);
      if (e->state != static_cast<uint32_t>(SlotState::kTombstone)) break;
      e->state = static_cast<uint32_t>(SlotState::kEmpty);
      header_->tombstones -= 1;
      index = index == 0 ? slots - 1 : index - 1;
    }
  }
  // Tombstones lengthen every miss: rebuild when they fill a quarter of the non-live slots (at 90%
  // load that keeps the effective load under 92.5%; the O(slots) rebuild costs O(1/(1-load))
  // amortised per erase).
  if (header_->tombstones > 0 && header_->tombstones * 4 >= slots - header_->live) Rebuild();
}

void ObjectTable::Rebuild() {
  const uint64_t slots = header_->slots;
  for (uint64_t i = 0; i < slots; ++i) {
    ObjectEntry* e = SlotAt(i);
    if (e->state == static_cast<uint32_t>(SlotState::kTombstone)) {
      e->state = static_cast<uint32_t>(SlotState::kEmpty);
    }
  }
  header_->tombstones = 0;
  // An entry is reachable when no empty slot lies between its home and where it is. Move each
  // unreachable entry back to the first empty slot of its path; a move can open a gap in another
  // entry's path, so repeat until a pass moves nothing. Every move brings an entry strictly closer
  // to its home, so this ends (in practice after one or two passes).
  for (bool moved = true; moved;) {
    moved = false;
    for (uint64_t i = 0; i < slots; ++i) {
      ObjectEntry* e = SlotAt(i);
      if (!IsLive(e->state)) continue;
      uint64_t j = HomeSlot(e->id, slots);
      while (j != i && SlotAt(j)->state != static_cast<uint32_t>(SlotState::kEmpty)) {
        j = j + 1 == slots ? 0 : j + 1;
      }
      if (j == i) continue;
      *SlotAt(j) = *e;  // copy first: a crash in between leaves a duplicate, never a loss
      e->state = static_cast<uint32_t>(SlotState::kEmpty);
      moved = true;
    }
  }
}

void ObjectTable::Recount() {
  uint64_t live = 0;
  uint64_t tombstones = 0;
  for (uint64_t i = 0; i < header_->slots; ++i) {
    uint32_t state = SlotAt(i)->state;
    if (IsLive(state)) {
      live += 1;
    } else if (state == static_cast<uint32_t>(SlotState::kTombstone)) {
      tombstones += 1;
    } else if (state != static_cast<uint32_t>(SlotState::kEmpty)) {
      Corrupt("slot " + std::to_string(i) + " has unknown state " + std::to_string(state));
    }
  }
  header_->live = live;
  header_->tombstones = tombstones;
}

}  // namespace miniray::phase2
