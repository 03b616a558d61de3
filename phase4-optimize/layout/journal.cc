// Phase 4: the journal (see journal.h): native-common's, kept in the allocator domain. GIVEN.
#include "journal.h"

#include <cstddef>

namespace miniray::phase4 {

namespace {

// The allocator domain's lists, counters and client records up to its journal, and the data region.
JournalBounds Bounds(uint64_t data_begin) {
  const uint64_t alloc = offsetof(StoreHeader, alloc);
  return {alloc + offsetof(AllocDomain, free_head), alloc + offsetof(AllocDomain, journal), data_begin};
}

}  // namespace

Journal::Journal(const Segment& segment, uint64_t data_begin)
    : miniray::Journal(segment, &segment.At<StoreHeader>(0)->alloc.journal, Bounds(data_begin)) {}

}  // namespace miniray::phase4
