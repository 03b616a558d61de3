// Phase 2: YOUR CODE GOES HERE (the allocator).
//
// Every function below throws "not implemented" until you write it. The lesson is
// phase2-objects/README.md. Offsets are segment offsets; reach a header only through Block(),
// which must refuse anything that is not a well-formed block inside the data region. The block
// layout is given (phase2-objects/layout/layout.h); every write to a header or a counter goes
// through journal_.Set (layout/journal.h), inside the caller's transaction.
#include "allocator.h"

#include <cstring>
#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase2 {

void Allocator::Init([[maybe_unused]] uint64_t begin, [[maybe_unused]] uint64_t end) {
  // TODO(student): the whole region [begin, end) as one free block, on the free list; the counters
  // in *header_; your private copy of begin and end. (Nobody else sees the segment yet.)
  MINIRAY_TODO("phase2 Allocator::Init");
}

void Allocator::Check() {
  // TODO(student): an opener checks begin and end against the mapping (ERR_LAYOUT_MISMATCH) and
  // keeps its own copy of them.
  MINIRAY_TODO("phase2 Allocator::Check");
}

BlockHeader* Allocator::Block([[maybe_unused]] uint64_t offset) const {
  // TODO(student): the header at `offset`, after checking everything a garbage offset could get
  // wrong: inside [begin, end), aligned, the magic, a size that stays inside the region
  // (ERR_SEGMENT_CORRUPT otherwise).
  MINIRAY_TODO("phase2 Allocator::Block");
}

void Allocator::PushFree([[maybe_unused]] uint64_t offset, [[maybe_unused]] BlockHeader* block) {
  // TODO(student) (helper): put a block on the free list.
  MINIRAY_TODO("phase2 Allocator::PushFree");
}

void Allocator::Unlink([[maybe_unused]] BlockHeader* block) {
  // TODO(student) (helper): take a block off the free list, wherever it is in it.
  MINIRAY_TODO("phase2 Allocator::Unlink");
}

uint64_t Allocator::Allocate([[maybe_unused]] uint64_t size) {
  // TODO(student): find a free block that holds a header plus `size` rounded up to kAlignment.
  // When it is bigger than needed, split it: what must the block after the split-off rest learn?
  // ERR_SHM_FULL when nothing fits. Bound the walk by something the segment cannot lie about.
  MINIRAY_TODO("phase2 Allocator::Allocate");
}

void Allocator::Free([[maybe_unused]] uint64_t payload) {
  // TODO(student): mark the block free and merge it with a free neighbour on either side, so that
  // deleting three neighbours leaves one block big enough for all three. Refuse a double free.
  MINIRAY_TODO("phase2 Allocator::Free");
}

uint64_t Allocator::LargestFree() const {
  // TODO(student): the biggest object Allocate could hold now.
  MINIRAY_TODO("phase2 Allocator::LargestFree");
}

}  // namespace miniray::phase2
