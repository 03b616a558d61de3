// Phase 4: the object pool. YOU EDIT THIS FILE and slab_pool.cc; keep the public interface.
//
// A small object (at most kLargestClass = 4 KiB) does not get a block of its own from the free
// list: it gets a SLOT of its SIZE CLASS (64, 128, ..., 4096 bytes: the smallest class that holds
// it). Slots are carved from SLABS, blocks of kSlabBytes taken from the allocator and marked
// BlockKind::kSlab:
//
//   slab payload:  +------------+--------+--------+--------+-- ... --+--------+
//                  | SlabHeader | slot 0 | slot 1 | slot 2 |         | slot n |
//                  | class, used, partial links, bitmap of used slots         |
//                  +------------+--------+--------+--------+-- ... --+--------+
//
// - Allocate takes a free slot of a slab on the class's PARTIAL list (slabs with a free slot), and
//   only when there is none asks the allocator for a new slab;
// - Free clears the slot's bit; a slab that was full goes back on the partial list; a slab that
//   becomes EMPTY is given back to the allocator at once (so small-object churn never keeps
//   memory the large objects need);
// - nothing here walks the free list or merges blocks: a small create and delete are a few word
//   writes, which is why the pool is faster than the free list under churn.
//
// Everything here runs holding the allocator lock, inside its journal transaction: every write of
// the segment goes through journal_.Set.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "allocator.h"
#include "journal.h"
#include "layout.h"
#include "miniray/segment.h"

namespace miniray::phase4 {

struct PoolStats {
  uint64_t slabs;             // slabs held now, every class
  uint64_t used_slots;        // slots in use
  uint64_t slot_bytes;        // bytes of the slots in use (each slot counts its class's size)
  uint64_t free_slot_bytes;   // bytes of free slots inside held slabs: the pool's fragmentation
  uint64_t allocations;       // small allocations served, ever
  uint64_t new_slabs;         // slabs taken from the allocator, ever
  uint64_t freed_slabs;       // empty slabs given back, ever
};

class SlabPool {
 public:
  SlabPool(const Segment& segment, AllocDomain* domain, Allocator& allocator, Journal& journal)
      : segment_(segment), domain_(domain), allocator_(allocator), journal_(journal) {}

  // Inside a transaction: the payload offset of a free slot of class SizeClassOf(size) (size must
  // be at most kLargestClass), and in *slab the payload offset of the slab that holds it (the
  // entry keeps it, for Free). ERR_SHM_FULL when no slab of the class has a free slot and the
  // allocator cannot give a new slab.
  uint64_t Allocate(uint64_t size, uint64_t* slab);
  // Inside a transaction: frees the slot at `payload` of the slab at `slab`. ERR_SEGMENT_CORRUPT
  // when `slab` is not a slab or `payload` is not one of its slots in use.
  void Free(uint64_t slab, uint64_t payload);
  // Whether `payload` is a slot in use of the slab at `slab` (the repair and the checker ask).
  bool InUse(uint64_t slab, uint64_t payload) const;
  // Every slot in use, as (slab, payload) pairs (the repair frees those no entry points at).
  std::vector<std::pair<uint64_t, uint64_t>> SlotsInUse() const;
  PoolStats Stats() const;

 private:
  // The slab header of the slab block whose payload starts at `slab`, checked.
  SlabHeader* SlabAt(uint64_t slab) const;
  // Puts a slab on / takes it off its class's partial list.
  void LinkPartial(uint64_t slab, SlabHeader* header);
  void UnlinkPartial(SlabHeader* header);

  const Segment& segment_;
  AllocDomain* domain_;
  Allocator& allocator_;
  Journal& journal_;
};

}  // namespace miniray::phase4
