// Phase 2: the journal (see journal.h): native-common's, kept in StoreHeader::journal. GIVEN.
#include "journal.h"

#include <cstddef>

namespace miniray::phase2 {

namespace {

// The header's counters up to the journal, and everything from the client records on.
JournalBounds Bounds() {
  return {offsetof(StoreHeader, sealed_count), offsetof(StoreHeader, journal), offsetof(StoreHeader, clients)};
}

}  // namespace

Journal::Journal(const Segment& segment)
    : miniray::Journal(segment, &segment.At<StoreHeader>(0)->journal, Bounds()) {}

bool Journal::MayWrite(uint64_t word_offset, uint64_t segment_size) {
  return Bounds().MayWrite(word_offset, segment_size);
}

}  // namespace miniray::phase2
