// Phase 4 reference: size classes carved from slabs, with a partial list per class.
//
// Every write goes through the allocator lock's journal: taking a slot is a bit, a count and maybe
// an unlink from the partial list; a crash between them is undone with the rest of the
// transaction.
#include "slab_pool.h"

#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase4 {

namespace {

[[noreturn]] void Corrupt(const std::string& what) {
  throw Error(ErrorCode::kSegmentCorrupt, "slab pool: " + what);
}

bool BitSet(const SlabHeader* h, uint64_t i) { return (h->bitmap[i / 64] >> (i % 64)) & 1; }

}  // namespace

SlabHeader* SlabPool::SlabAt(uint64_t slab) const {
  if (allocator_.KindOf(slab) != BlockKind::kSlab) {
    Corrupt("the block at " + std::to_string(slab) + " is not a slab");
  }
  segment_.CheckRange(slab, kSlabBytes);
  auto* h = reinterpret_cast<SlabHeader*>(segment_.base() + slab);
  if (h->magic != kSlabMagic || h->size_class >= kSizeClasses || h->used > SlotsPerSlab(h->size_class)) {
    Corrupt("the slab at " + std::to_string(slab) + " has a damaged header");
  }
  return h;
}

void SlabPool::LinkPartial(uint64_t slab, SlabHeader* h) {
  PoolClass& c = domain_->classes[h->size_class];
  const uint64_t head = c.partial_head;
  if (head != 0) journal_.Set(&SlabAt(head)->prev, slab);
  journal_.Set(&h->next, head);
  journal_.Set(&h->prev, uint64_t{0});
  journal_.Set(&h->on_partial, uint32_t{1});
  journal_.Set(&c.partial_head, slab);
}

void SlabPool::UnlinkPartial(SlabHeader* h) {
  PoolClass& c = domain_->classes[h->size_class];
  if (h->prev != 0) {
    journal_.Set(&SlabAt(h->prev)->next, h->next);
  } else {
    journal_.Set(&c.partial_head, h->next);
  }
  if (h->next != 0) journal_.Set(&SlabAt(h->next)->prev, h->prev);
  journal_.Set(&h->next, uint64_t{0});
  journal_.Set(&h->prev, uint64_t{0});
  journal_.Set(&h->on_partial, uint32_t{0});
}

uint64_t SlabPool::Allocate(uint64_t size, uint64_t* slab_out) {
  const uint32_t cls = SizeClassOf(size);
  if (cls >= kSizeClasses) throw Error(ErrorCode::kInvalidArgument, "object too large for the pool");
  PoolClass& c = domain_->classes[cls];
  uint64_t slab = c.partial_head;
  SlabHeader* h = nullptr;
  if (slab == 0) {
    // No slab of this class has a free slot: a new one (ERR_SHM_FULL when the allocator has none).
    slab = allocator_.Allocate(kSlabBytes, BlockKind::kSlab);
    h = reinterpret_cast<SlabHeader*>(segment_.base() + slab);
    journal_.Set(&h->magic, kSlabMagic);
    journal_.Set(&h->size_class, cls);
    journal_.Set(&h->used, uint32_t{0});
    journal_.Set(&h->on_partial, uint32_t{0});
    for (uint64_t& w : h->bitmap) {
      if (w != 0) journal_.Set(&w, uint64_t{0});
    }
    journal_.Set(&c.slabs, c.slabs + 1);
    journal_.Set(&domain_->pool_new_slabs, domain_->pool_new_slabs + 1);
    MINIRAY_CRASH_POINT("phase4.pool.new_slab");
    LinkPartial(slab, h);
  } else {
    h = SlabAt(slab);
    if (h->size_class != cls || h->on_partial != 1) Corrupt("a partial list holds a foreign slab");
  }
  const uint64_t slots = SlotsPerSlab(cls);
  uint64_t i = 0;
  while (i < slots && BitSet(h, i)) ++i;
  if (i == slots) Corrupt("a slab on the partial list has no free slot");
  journal_.Set(&h->bitmap[i / 64], h->bitmap[i / 64] | (uint64_t{1} << (i % 64)));
  journal_.Set(&h->used, h->used + 1);
  journal_.Set(&c.used_slots, c.used_slots + 1);
  journal_.Set(&domain_->pool_allocations, domain_->pool_allocations + 1);
  MINIRAY_CRASH_POINT("phase4.pool.taken");
  if (h->used == slots) UnlinkPartial(h);
  *slab_out = slab;
  return slab + kSlabHeaderBytes + i * ClassBytes(cls);
}

bool SlabPool::InUse(uint64_t slab, uint64_t payload) const {
  const SlabHeader* h = SlabAt(slab);
  const uint64_t bytes = ClassBytes(h->size_class);
  if (payload < slab + kSlabHeaderBytes) return false;
  const uint64_t rel = payload - slab - kSlabHeaderBytes;
  if (rel % bytes != 0 || rel / bytes >= SlotsPerSlab(h->size_class)) return false;
  return BitSet(h, rel / bytes);
}

void SlabPool::Free(uint64_t slab, uint64_t payload) {
  SlabHeader* h = SlabAt(slab);
  if (!InUse(slab, payload)) {
    Corrupt("offset " + std::to_string(payload) + " is not a slot in use of the slab at " +
            std::to_string(slab));
  }
  const uint32_t cls = h->size_class;
  PoolClass& c = domain_->classes[cls];
  const uint64_t i = (payload - slab - kSlabHeaderBytes) / ClassBytes(cls);
  const bool was_full = h->used == SlotsPerSlab(cls);
  journal_.Set(&h->bitmap[i / 64], h->bitmap[i / 64] & ~(uint64_t{1} << (i % 64)));
  journal_.Set(&h->used, h->used - 1);
  journal_.Set(&c.used_slots, c.used_slots - 1);
  MINIRAY_CRASH_POINT("phase4.pool.freed");
  if (h->used == 0) {
    // Empty: back to the allocator at once, so small-object churn keeps no memory.
    if (!was_full) UnlinkPartial(h);
    journal_.Set(&h->magic, uint32_t{0});
    journal_.Set(&c.slabs, c.slabs - 1);
    journal_.Set(&domain_->pool_freed_slabs, domain_->pool_freed_slabs + 1);
    allocator_.Free(slab);
    MINIRAY_CRASH_POINT("phase4.pool.slab_returned");
  } else if (was_full) {
    LinkPartial(slab, h);
  }
}

std::vector<std::pair<uint64_t, uint64_t>> SlabPool::SlotsInUse() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const BlockInfo& b : allocator_.Blocks()) {
    if (b.free || b.kind != BlockKind::kSlab) continue;
    const SlabHeader* h = SlabAt(b.payload);
    const uint64_t bytes = ClassBytes(h->size_class);
    for (uint64_t i = 0; i < SlotsPerSlab(h->size_class); ++i) {
      if (BitSet(h, i)) out.emplace_back(b.payload, b.payload + kSlabHeaderBytes + i * bytes);
    }
  }
  return out;
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
