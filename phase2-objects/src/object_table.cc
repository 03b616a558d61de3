// Phase 2: YOUR CODE GOES HERE (the object table).
//
// Every function below throws "not implemented" until you write it. `npm test -- phase2` runs the
// tests against your code; `npm start` shows which checklist item to work on next. The lesson is
// phase2-objects/README.md.
//
// A suggested design (the lesson explains it): open addressing with linear probing. An id's probe
// path starts at HomeSlot(id, slots) and walks forward, wrapping around. Deleting leaves a
// tombstone, because an entry further along some other id's path must stay reachable.
#include "object_table.h"

#include <cstring>
#include <string>

#include "miniray/errors.h"

namespace miniray::phase2 {

void ObjectTable::Init([[maybe_unused]] uint64_t offset, [[maybe_unused]] uint64_t slots) {
  // TODO(student): refuse a slot count of 0 or above kMaxTableSlots (ERR_INVALID_ARGUMENT), check
  // the entries fit in the segment (segment_.At does that for you), mark every slot empty and fill
  // in *header_.
  MINIRAY_TODO("phase2 ObjectTable::Init");
}

void ObjectTable::Check() const {
  // TODO(student): an opener trusts nothing it reads. Which fields of *header_ could make a later
  // lookup read outside the mapping? Refuse them with ERR_LAYOUT_MISMATCH.
  MINIRAY_TODO("phase2 ObjectTable::Check");
}

ObjectEntry* ObjectTable::SlotAt([[maybe_unused]] uint64_t index) const {
  // TODO(student): the entry at `index`, never outside the table or the segment
  // (ERR_SEGMENT_CORRUPT). Every other function here reaches the slots through this one.
  MINIRAY_TODO("phase2 ObjectTable::SlotAt");
}

ObjectEntry* ObjectTable::Find([[maybe_unused]] const ObjectId& id) {
  // TODO(student): walk the probe path. What does an empty slot tell you, and what does a
  // tombstone? Make sure the walk ends even when no slot is empty, and treat a state you do not
  // know as corruption. Record how many slots you looked at in last_probes_.
  MINIRAY_TODO("phase2 ObjectTable::Find");
}

ObjectEntry* ObjectTable::Insert([[maybe_unused]] const ObjectId& id) {
  // TODO(student): the id must not be anywhere on its path (ERR_OBJECT_EXISTS). Which slot on the
  // path can the new entry take? When is the table full (ERR_TABLE_FULL)? Keep live and
  // tombstones exact.
  MINIRAY_TODO("phase2 ObjectTable::Insert");
}

void ObjectTable::Erase([[maybe_unused]] ObjectEntry* entry) {
  // TODO(student): turn the entry into a tombstone. Then think about a store that creates and
  // deletes forever: what happens to lookups of absent ids once tombstones fill the table? Clean
  // them up (Rebuild below is one way; a tombstone just before an empty slot is another).
  MINIRAY_TODO("phase2 ObjectTable::Erase");
}

void ObjectTable::Rebuild() {
  // TODO(student) (optional helper for Erase): remove every tombstone and put every live entry back
  // where a lookup will find it, in place.
  MINIRAY_TODO("phase2 ObjectTable::Rebuild");
}

void ObjectTable::Recount() {
  // TODO(student): after a process died holding the lock, live and tombstones may be stale:
  // recompute them from the slots (ERR_SEGMENT_CORRUPT for a state you do not know).
  MINIRAY_TODO("phase2 ObjectTable::Recount");
}

}  // namespace miniray::phase2
