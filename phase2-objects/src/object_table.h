// Phase 2: the object table, a hash table of object metadata that lives in the segment.
//
// YOU EDIT THIS FILE and object_table.cc. The public interface is what ObjectStore (and the
// course's tests) call: keep its signatures. The entry layout is fixed by the given
// phase2-objects/layout/layout.h (ObjectEntry, TableHeader): the checker and other processes read it.
//
// The table is an array of `slots` entries, sized once when the store is created, searched by
// open addressing with linear probing from HomeSlot(id). Every change to it happens inside a
// journal transaction (layout/journal.h) opened by the caller, except Tidy(), which opens its own.
#pragma once

#include <cstdint>

#include "journal.h"
#include "layout.h"
#include "miniray/object_id.h"
#include "miniray/segment.h"

namespace miniray::phase2 {

class ObjectTable {
 public:
  // Given: the slot an id's probe sequence starts at. The tests use it to craft ids that collide.
  static uint64_t HomeSlot(const ObjectId& id, uint64_t slots) { return id.Hash() % slots; }

  ObjectTable(const Segment& segment, TableHeader* header, Journal& journal)
      : segment_(segment), header_(header), journal_(journal) {}

  // Creator only, before the segment is published (no journal needed): an empty table of `slots`
  // entries at segment offset `offset`.
  void Init(uint64_t offset, uint64_t slots);
  // Opener: checks the header's geometry against the mapping (ERR_LAYOUT_MISMATCH) and keeps a
  // private copy of it. From here on, offset and slot count are never read from the segment again.
  void Check();

  // The live entry holding `id` (unsealed or sealed), or nullptr. O(1) on average.
  ObjectEntry* Find(const ObjectId& id);
  // Inside a transaction: a new entry for `id` in state kUnsealed (its other fields are the
  // caller's to fill). ERR_OBJECT_EXISTS when `id` is live, ERR_TABLE_FULL when no slot is left.
  ObjectEntry* Insert(const ObjectId& id);
  // Inside a transaction: turns a live entry (whose pins are all 0) into a tombstone.
  void Erase(ObjectEntry* entry);
  // Outside any transaction: removes tombstones when they make lookups slow. Each step is a
  // transaction of its own, so a process killed half-way leaves a table that is whole. Entry
  // pointers taken before are invalid afterwards (entries may move).
  void Tidy();

  // Slot `index` (< slots), bounds-checked: for walking the whole table.
  ObjectEntry* SlotAt(uint64_t index) const;
  uint64_t IndexOf(const ObjectEntry* entry) const;

  uint64_t slots() const { return slots_; }
  uint64_t live() const { return header_->live; }
  uint64_t tombstones() const { return header_->tombstones; }
  // Slots inspected by the last Find or Insert (for measurements).
  uint64_t last_probes() const { return last_probes_; }

 private:
  // Removes the tombstone at `index` by moving back the entries whose probe path crossed it.
  void RemoveTombstone(uint64_t index);

  const Segment& segment_;
  TableHeader* header_;
  Journal& journal_;
  uint64_t offset_ = 0;  // private copies of the geometry (Init or Check)
  uint64_t slots_ = 0;
  uint64_t last_probes_ = 0;
};

}  // namespace miniray::phase2
