// Phase 2: YOUR CODE GOES HERE (the object table).
//
// Every function below throws "not implemented" until you write it. `npm test -- phase2` runs the
// tests against your code; `npm start` shows which checklist item to work on next. The lesson is
// phase2-objects/README.md.
//
// The design (the lesson explains it): open addressing with linear probing. An id's probe path
// starts at HomeSlot(id, slots) and walks forward, wrapping around. Removing an object leaves a
// tombstone, because an entry further along some other id's path must stay reachable. The entry's
// layout is given (phase2-objects/layout/layout.h), and every write to a slot or to the counters
// goes through journal_.Set / journal_.Copy (layout/journal.h).
#include "object_table.h"

#include <cstring>
#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase2 {

void ObjectTable::Init([[maybe_unused]] uint64_t offset, [[maybe_unused]] uint64_t slots) {
  // TODO(student): refuse a slot count of 0 or above kMaxTableSlots (ERR_INVALID_ARGUMENT), check
  // the entries fit in the segment (segment_.At does that for you), mark every slot empty, fill in
  // *header_ and keep your private copy of the geometry. (No process can see the segment yet: no
  // journal needed here.)
  MINIRAY_TODO("phase2 ObjectTable::Init");
}

void ObjectTable::Check() {
  // TODO(student): an opener trusts nothing it reads. Which fields of *header_ could make a later
  // lookup read outside the mapping, or divide by zero? Refuse them with ERR_LAYOUT_MISMATCH, then
  // keep a private copy: another process may scribble on the header after this check.
  MINIRAY_TODO("phase2 ObjectTable::Check");
}

ObjectEntry* ObjectTable::SlotAt([[maybe_unused]] uint64_t index) const {
  // TODO(student): the entry at `index`, never outside the table (ERR_SEGMENT_CORRUPT). Every
  // other function here reaches the slots through this one.
  MINIRAY_TODO("phase2 ObjectTable::SlotAt");
}

uint64_t ObjectTable::IndexOf([[maybe_unused]] const ObjectEntry* entry) const {
  // TODO(student): the inverse of SlotAt, for a pointer Find or Insert returned
  // (ERR_SEGMENT_CORRUPT for anything that is not exactly a slot).
  MINIRAY_TODO("phase2 ObjectTable::IndexOf");
}

ObjectEntry* ObjectTable::Find([[maybe_unused]] const ObjectId& id) {
  // TODO(student): walk the probe path. What does an empty slot tell you, and what does a
  // tombstone? Make sure the walk ends even when no slot is empty, and treat a state you do not
  // know as corruption. Record how many slots you looked at in last_probes_.
  MINIRAY_TODO("phase2 ObjectTable::Find");
}

ObjectEntry* ObjectTable::Insert([[maybe_unused]] const ObjectId& id) {
  // TODO(student): the id must not be anywhere on its path (ERR_OBJECT_EXISTS). Which slot on the
  // path can the new entry take? When is the table full (ERR_TABLE_FULL)? Write the id, the state
  // and the counters through the journal: the caller commits them with the rest of its change.
  MINIRAY_TODO("phase2 ObjectTable::Insert");
}

void ObjectTable::Erase([[maybe_unused]] ObjectEntry* entry) {
  // TODO(student): turn a live entry into a tombstone and keep the counters exact, through the
  // journal.
  MINIRAY_TODO("phase2 ObjectTable::Erase");
}

void ObjectTable::Tidy() {
  // TODO(student): think about a store that creates and deletes forever: what happens to lookups
  // of absent ids once tombstones fill the table? Decide when tombstones are too many and get rid
  // of them here (RemoveTombstone below is one way). Each step that moves an entry is a
  // transaction of its own: a process killed between two steps must leave every entry reachable,
  // and none of them twice.
  MINIRAY_TODO("phase2 ObjectTable::Tidy");
}

void ObjectTable::RemoveTombstone([[maybe_unused]] uint64_t index) {
  // TODO(student) (helper for Tidy): the slot at `index` may become empty only when no entry's
  // probe path runs through it. Which entries after it (up to the next empty slot) would be cut
  // off, and where could each of them move instead?
  MINIRAY_TODO("phase2 ObjectTable::RemoveTombstone");
}

}  // namespace miniray::phase2
