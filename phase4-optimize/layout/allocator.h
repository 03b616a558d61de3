// Phase 4: the allocator, phase 2's free list over the data region. GIVEN: you do not edit this
// file. Your SlabPool takes whole slabs from it; your ObjectStore takes large objects from it.
// It is guarded by the allocator lock, and every change runs inside that lock's journal
// transaction (journal.h).
//
// The data region is cut into blocks that tile it exactly, each starting with a BlockHeader:
//
//   begin                                                                          end
//   +--------+---------------+--------+------+--------+---------------------------+
//   | header | payload (used)| header | free | header | payload (used)            |
//   +--------+---------------+--------+------+--------+---------------------------+
//
// A block's size says where the next block starts; its prev_size says where the previous one
// starts, so freeing a block can merge it with free neighbours on both sides in O(1). Free blocks
// are linked into a list through their headers (segment offsets, never pointers). Allocate and
// Free change several headers: they run inside the caller's journal transaction.
#pragma once

#include <cstdint>
#include <vector>

#include "journal.h"
#include "layout.h"
#include "miniray/segment.h"

namespace miniray::phase4 {

// One block, as Blocks() walks them.
struct BlockInfo {
  uint64_t payload;  // header offset + sizeof(BlockHeader)
  uint64_t size;     // the whole block
  bool free;
  BlockKind kind;    // while allocated
};

class Allocator {
 public:
  Allocator(const Segment& segment, AllocDomain* header, Journal& journal)
      : segment_(segment), header_(header), journal_(journal) {}

  // Creator only, before the segment is published (no journal needed): one free block spanning
  // [begin, end) (both 64-aligned).
  void Init(uint64_t begin, uint64_t end);
  // Opener: checks the header's geometry against the mapping (ERR_LAYOUT_MISMATCH) and keeps a
  // private copy of begin and end; they are never read from the segment again.
  void Check();

  // Inside a transaction: the segment offset of a 64-byte aligned payload of at least `size`
  // bytes (size 0 is fine). ERR_SHM_FULL when no free block is large enough.
  uint64_t Allocate(uint64_t size, BlockKind kind);
  // Inside a transaction: returns a payload from Allocate to the free list, merged with free
  // neighbours. ERR_SEGMENT_CORRUPT when `payload` is not an allocated block.
  void Free(uint64_t payload);

  // The kind of the allocated block whose payload starts at `payload` (ERR_SEGMENT_CORRUPT when
  // there is none).
  BlockKind KindOf(uint64_t payload) const;
  // Every block, in address order (the repair and the checker walk them).
  std::vector<BlockInfo> Blocks() const;
  // The largest `size` Allocate could satisfy right now.
  uint64_t LargestFree() const;
  uint64_t begin() const { return begin_; }
  uint64_t end() const { return end_; }
  uint64_t capacity() const { return end_ - begin_; }
  uint64_t used_bytes() const { return header_->used_bytes; }
  uint64_t free_blocks() const { return header_->free_blocks; }

 private:
  BlockHeader* Block(uint64_t offset) const;  // bounds-, alignment- and magic-checked
  void PushFree(uint64_t offset, BlockHeader* block);
  void Unlink(BlockHeader* block);
  // How many blocks the region could hold at most: the bound on every walk of the free list.
  uint64_t MaxBlocks() const { return (end_ - begin_) / sizeof(BlockHeader); }

  const Segment& segment_;
  AllocDomain* header_;
  Journal& journal_;
  uint64_t begin_ = 0;  // private copies of the geometry (Init or Check)
  uint64_t end_ = 0;
};

}  // namespace miniray::phase4
