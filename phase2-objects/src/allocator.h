// Phase 2: the allocator, a free list over the segment's data region that reuses deleted space.
//
// YOU EDIT THIS FILE and allocator.cc. Keep the public interface (ObjectStore calls it); the
// block layout below is a suggestion.
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
// are linked into a list through their headers (segment offsets, never pointers).
#pragma once

#include <cstdint>
#include <functional>

#include "miniray/segment.h"

namespace miniray::phase2 {

constexpr uint64_t kAlignment = 64;           // every payload starts on a 64-byte boundary
constexpr uint32_t kBlockMagic = 0x4b4c4221;  // "!BLK": a tripwire for corrupted headers

struct BlockHeader {
  uint64_t size;       // the whole block, header included: a multiple of kAlignment
  uint64_t prev_size;  // size of the block just before this one (0 for the first block)
  uint32_t magic;      // kBlockMagic
  uint32_t free;       // 1 free, 0 allocated
  uint64_t next_free;  // free-list links (segment offsets of headers, 0 = none), while free
  uint64_t prev_free;
  uint64_t reserved[3];
};
static_assert(sizeof(BlockHeader) == kAlignment, "a header keeps payloads 64-byte aligned");

// The allocator's bookkeeping, kept in the segment's header. Protected by the store's lock.
struct AllocatorHeader {
  uint64_t begin;        // first byte of the data region (segment offset, 64-aligned)
  uint64_t end;          // one past its last byte
  uint64_t free_head;    // first free block's header, 0 when none
  uint64_t used_bytes;   // bytes in allocated blocks, headers included
  uint64_t free_blocks;  // blocks on the free list
  uint64_t reserved;
};

class Allocator {
 public:
  Allocator(const Segment& segment, AllocatorHeader* header) : segment_(segment), header_(header) {}

  // Creator only: one free block spanning [begin, end) (both 64-aligned).
  void Init(uint64_t begin, uint64_t end);
  // Opener: checks the header's fields against the mapping (ERR_LAYOUT_MISMATCH).
  void Check() const;

  // The segment offset of a 64-byte aligned payload of at least `size` bytes (size 0 is fine).
  // ERR_SHM_FULL when no free block is large enough.
  uint64_t Allocate(uint64_t size);
  // Returns a payload from Allocate to the free list, merged with free neighbours.
  // ERR_SEGMENT_CORRUPT when `payload` is not an allocated block.
  void Free(uint64_t payload);

  // The largest `size` Allocate could satisfy right now.
  uint64_t LargestFree() const;
  uint64_t capacity() const { return header_->end - header_->begin; }
  uint64_t used_bytes() const { return header_->used_bytes; }
  uint64_t free_blocks() const { return header_->free_blocks; }

  // After a process died holding the lock: walks every block, frees allocated blocks for which
  // `in_use(payload)` is false, merges free neighbours and rebuilds the list and the counters.
  // ERR_SEGMENT_CORRUPT when the blocks do not tile the region.
  void Rebuild(const std::function<bool(uint64_t payload)>& in_use);

 private:
  BlockHeader* Block(uint64_t offset) const;  // bounds-, alignment- and magic-checked
  void PushFree(uint64_t offset, BlockHeader* block);
  void Unlink(BlockHeader* block);

  const Segment& segment_;
  AllocatorHeader* header_;
};

}  // namespace miniray::phase2
