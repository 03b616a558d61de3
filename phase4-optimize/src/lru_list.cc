// Phase 4: YOUR CODE GOES HERE (the LRU list).
//
// Every function marked TODO throws "not implemented" until you write it; the lesson is
// phase4-optimize/README.md ("LRU eviction"). Everything here runs holding the LRU lock. Follow
// a link only through EntryAt: an offset read from the segment is checked before it is used.
#include "lru_list.h"

#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase4 {

namespace {

[[noreturn, maybe_unused]] void Corrupt(const std::string& what) {
  throw Error(ErrorCode::kSegmentCorrupt, "LRU list: " + what);
}

}  // namespace

ObjectEntry* LruList::EntryAt(uint64_t offset) const {
  if (offset < table_begin_ || offset >= table_end_ ||
      (offset - table_begin_) % sizeof(ObjectEntry) != 0) {
    Corrupt("link " + std::to_string(offset) + " is not an entry of the table");
  }
  return reinterpret_cast<ObjectEntry*>(segment_.base() + offset);
}

uint64_t LruList::OffsetOf(const ObjectEntry* entry) const {
  return static_cast<uint64_t>(reinterpret_cast<const uint8_t*>(entry) - segment_.base());
}

void LruList::Push(ObjectEntry* entry) {
  // TODO(student): append at the tail (most recently used), stamp last_use with ++clock, count it. Which links change when the list is empty?
  MINIRAY_TODO("phase4 LruList::Push");
}

void LruList::Remove(ObjectEntry* entry) {
  // TODO(student): unlink in O(1) through the entry's own prev/next; the head and the tail are the special cases.
  MINIRAY_TODO("phase4 LruList::Remove");
}

ObjectEntry* LruList::Oldest() const {
  // TODO(student): the head, through EntryAt (never trust an offset read from the segment).
  MINIRAY_TODO("phase4 LruList::Oldest");
}

ObjectEntry* LruList::Newer(const ObjectEntry* entry) const {
  // TODO(student): one step towards the tail.
  MINIRAY_TODO("phase4 LruList::Newer");
}

void LruList::CountEviction(const ObjectEntry* entry) {
  // TODO(student): the counters, and the id into the ring of the last kEvictionLog evicted ids.
  MINIRAY_TODO("phase4 LruList::CountEviction");
}

void LruList::Rebuild(const std::vector<ObjectEntry*>& entries) {
  // TODO(student): an empty list, then every given entry appended in order; keep their last_use, and the clock at least as high.
  MINIRAY_TODO("phase4 LruList::Rebuild");
}

}  // namespace miniray::phase4
