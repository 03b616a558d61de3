// Phase 4: YOUR CODE GOES HERE (the object pool).
//
// Every function marked TODO throws "not implemented" until you write it; the lesson is
// phase4-optimize/README.md ("The object pool"). Everything here runs holding the allocator lock,
// inside its journal transaction: every write of the segment goes through journal_.Set.
#include "slab_pool.h"

#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase4 {

namespace {

[[noreturn, maybe_unused]] void Corrupt(const std::string& what) {
  throw Error(ErrorCode::kSegmentCorrupt, "slab pool: " + what);
}

[[maybe_unused]] bool BitSet(const SlabHeader* h, uint64_t i) { return (h->bitmap[i / 64] >> (i % 64)) & 1; }

}  // namespace

SlabHeader* SlabPool::SlabAt(uint64_t slab) const {
  // TODO(student): the slab header at `slab`, after checking that the allocator's block there is a slab and that its header is sane.
  MINIRAY_TODO("phase4 SlabPool::SlabAt");
}

void SlabPool::LinkPartial(uint64_t slab, SlabHeader* h) {
  // TODO(student): push the slab on its class's partial list (journal_.Set for every write).
  MINIRAY_TODO("phase4 SlabPool::LinkPartial");
}

void SlabPool::UnlinkPartial(SlabHeader* h) {
  // TODO(student): take the slab off its class's partial list.
  MINIRAY_TODO("phase4 SlabPool::UnlinkPartial");
}

uint64_t SlabPool::Allocate(uint64_t size, uint64_t* slab_out) {
  // TODO(student): a free slot from the class's first partial slab, or a new slab from the allocator (BlockKind::kSlab); a slab whose last slot is taken leaves the partial list.
  MINIRAY_TODO("phase4 SlabPool::Allocate");
}

bool SlabPool::InUse(uint64_t slab, uint64_t payload) const {
  // TODO(student): is `payload` exactly a slot boundary of this slab, and is its bit set?
  MINIRAY_TODO("phase4 SlabPool::InUse");
}

void SlabPool::Free(uint64_t slab, uint64_t payload) {
  // TODO(student): clear the bit; a full slab goes back on the partial list; an empty slab goes back to the allocator at once.
  MINIRAY_TODO("phase4 SlabPool::Free");
}

std::vector<std::pair<uint64_t, uint64_t>> SlabPool::SlotsInUse() const {
  // TODO(student): walk the allocator's blocks; for every slab, every set bit.
  MINIRAY_TODO("phase4 SlabPool::SlotsInUse");
}

PoolStats SlabPool::Stats() const {
  PoolStats s{};
  for (uint32_t cls = 0; cls < kSizeClasses; ++cls) {
    const PoolClass& c = domain_->classes[cls];
    s.slabs += c.slabs;
    s.used_slots += c.used_slots;
    s.slot_bytes += c.used_slots * ClassBytes(cls);
    s.free_slot_bytes += (c.slabs * SlotsPerSlab(cls) - c.used_slots) * ClassBytes(cls);
  }
  s.allocations = domain_->pool_allocations;
  s.new_slabs = domain_->pool_new_slabs;
  s.freed_slabs = domain_->pool_freed_slabs;
  return s;
}

}  // namespace miniray::phase4
