// Phase 2: the object table, a hash table of object metadata that lives in the segment.
//
// YOU EDIT THIS FILE and object_table.cc. The public interface is what ObjectStore (and the
// course's tests) call: keep its signatures. The layout structs are a suggestion: change them as
// you see fit, and bump kLayoutVersion in object_store.h when you do.
//
// The table is an array of `slots` fixed-size entries, sized once when the store is created.
// Nothing in it is a pointer: an entry names its object's bytes by their offset in the segment.
#pragma once

#include <cstdint>

#include "miniray/object_id.h"
#include "miniray/segment.h"

namespace miniray::phase2 {

// What a slot holds. kEmpty must be 0: a freshly created segment is all zeroes.
enum class SlotState : uint32_t {
  kEmpty = 0,      // never used since the last clean-up: a lookup may stop here
  kTombstone = 1,  // held an object that was deleted: a lookup must look further
  kUnsealed = 2,   // created, being written, not yet visible to get()
  kSealed = 3,     // immutable and visible
};

// One slot: 64 bytes, in shared memory.
struct ObjectEntry {
  ObjectId id;           // 20 bytes
  uint32_t state;        // a SlotState
  uint64_t offset;       // the object's first byte, counted from the segment's first byte
  uint64_t size;         // the object's size in bytes
  uint32_t ref_count;    // pins: get()s not yet released, summed over every process
  uint32_t creator_pid;  // the process that created it (informational)
  uint64_t reserved[2];  // room for phase 4 (an LRU clock)
};
static_assert(sizeof(ObjectEntry) == 64, "ObjectEntry is part of the segment layout");

// The table's own bookkeeping, kept in the segment's header. Protected by the store's lock.
struct TableHeader {
  uint64_t offset;      // where ObjectEntry[slots] starts (segment offset)
  uint64_t slots;       // fixed at create
  uint64_t live;        // slots in state kUnsealed or kSealed
  uint64_t tombstones;  // slots in state kTombstone
};

constexpr uint64_t kMaxTableSlots = 1ULL << 22;

class ObjectTable {
 public:
  // Given: the slot an id's probe sequence starts at. The tests use it to craft ids that collide.
  static uint64_t HomeSlot(const ObjectId& id, uint64_t slots) { return id.Hash() % slots; }
  static uint64_t BytesFor(uint64_t slots) { return slots * sizeof(ObjectEntry); }

  ObjectTable(const Segment& segment, TableHeader* header) : segment_(segment), header_(header) {}

  // Creator only: an empty table of `slots` entries at segment offset `offset`.
  void Init(uint64_t offset, uint64_t slots);
  // Opener: checks the header's fields against the mapping (ERR_LAYOUT_MISMATCH).
  void Check() const;

  // The entry holding `id` (unsealed or sealed), or nullptr. O(1) on average.
  ObjectEntry* Find(const ObjectId& id);
  // A new entry for `id` in state kUnsealed, every other field zero. ERR_OBJECT_EXISTS when `id`
  // is already in the table, ERR_TABLE_FULL when no slot is left.
  ObjectEntry* Insert(const ObjectId& id);
  // Removes the entry (which Find or Insert returned). Entry pointers taken before are invalid
  // afterwards: the table may reorganise itself.
  void Erase(ObjectEntry* entry);

  // Slot `index` (< slots), bounds-checked: for walking the whole table.
  ObjectEntry* SlotAt(uint64_t index) const;
  // After a process died holding the lock: recounts live and tombstones, checks every state.
  void Recount();

  uint64_t slots() const { return header_->slots; }
  uint64_t live() const { return header_->live; }
  uint64_t tombstones() const { return header_->tombstones; }
  // Slots inspected by the last Find or Insert (for measurements).
  uint64_t last_probes() const { return last_probes_; }

 private:
  // Turns every tombstone into an empty slot and puts every entry back on its probe path.
  void Rebuild();

  const Segment& segment_;
  TableHeader* header_;
  uint64_t last_probes_ = 0;
};

}  // namespace miniray::phase2
