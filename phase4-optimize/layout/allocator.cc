// Phase 4: the allocator. GIVEN: this is phase 2's free list (your phase-2 answer did the same
// work), with one addition: an allocated block records its kind (an object, or a slab of the pool).
//
// Every write of a header or a counter goes through the journal: a split or a merge is several
// writes, and a process killed between two of them must leave nothing half-done (the caller's
// transaction is undone by the next locker).
#include "allocator.h"

#include <cstring>
#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase4 {

namespace {

constexpr uint64_t kHeader = sizeof(BlockHeader);

[[noreturn]] void Corrupt(const std::string& what) {
  throw Error(ErrorCode::kSegmentCorrupt, "data region: " + what);
}

}  // namespace

void Allocator::Init(uint64_t begin, uint64_t end) {
  if (begin % kAlignment != 0 || end % kAlignment != 0 || end <= begin || end - begin < kHeader) {
    throw Error(ErrorCode::kInvalidArgument, "data region too small or misaligned");
  }
  segment_.CheckRange(begin, end - begin);
  BlockHeader* block = segment_.At<BlockHeader>(begin);
  std::memset(static_cast<void*>(block), 0, kHeader);
  block->size = end - begin;
  block->magic = kBlockMagic;
  block->free = 1;
  block->kind = 0;
  header_->begin = begin;
  header_->end = end;
  header_->free_head = begin;
  header_->used_bytes = 0;
  header_->free_blocks = 1;
  begin_ = begin;
  end_ = end;
}

void Allocator::Check() {
  const uint64_t begin = header_->begin;
  const uint64_t end = header_->end;
  bool sane = begin % kAlignment == 0 && end % kAlignment == 0 && end > begin &&
              end - begin >= kHeader && end == segment_.size();
  if (sane) {
    try {
      segment_.CheckRange(begin, end - begin);
    } catch (const Error&) {
      sane = false;
    }
  }
  if (!sane) throw Error(ErrorCode::kLayoutMismatch, "allocator header is inconsistent");
  begin_ = begin;
  end_ = end;
}

BlockHeader* Allocator::Block(uint64_t offset) const {
  if (offset < begin_ || offset >= end_ || offset % kAlignment != 0 || end_ - offset < kHeader) {
    Corrupt("block offset " + std::to_string(offset) + " outside the data region");
  }
  auto* b = reinterpret_cast<BlockHeader*>(segment_.base() + offset);
  if (b->magic != kBlockMagic || b->size < kHeader || b->size % kAlignment != 0 ||
      b->size > end_ - offset || b->free > 1) {
    Corrupt("block at " + std::to_string(offset) + " has a damaged header");
  }
  return b;
}

void Allocator::PushFree(uint64_t offset, BlockHeader* block) {
  const uint64_t head = header_->free_head;
  if (head != 0) journal_.Set(&Block(head)->prev_free, offset);
  journal_.Set(&block->free, uint32_t{1});
  journal_.Set(&block->prev_free, uint64_t{0});
  journal_.Set(&block->next_free, head);
  journal_.Set(&header_->free_head, offset);
  journal_.Set(&header_->free_blocks, header_->free_blocks + 1);
  MINIRAY_CRASH_POINT("phase4.alloc.listed");
}

void Allocator::Unlink(BlockHeader* block) {
  const uint64_t prev = block->prev_free;
  const uint64_t next = block->next_free;
  if (prev != 0) {
    journal_.Set(&Block(prev)->next_free, next);
  } else {
    journal_.Set(&header_->free_head, next);
  }
  if (next != 0) journal_.Set(&Block(next)->prev_free, prev);
  journal_.Set(&block->next_free, uint64_t{0});
  journal_.Set(&block->prev_free, uint64_t{0});
  journal_.Set(&block->free, uint32_t{0});
  journal_.Set(&header_->free_blocks, header_->free_blocks - 1);
  MINIRAY_CRASH_POINT("phase4.alloc.unlisted");
}

uint64_t Allocator::Allocate(uint64_t size, BlockKind kind) {
  const uint64_t region = end_ - begin_;
  if (size > region - kHeader) {
    throw Error(ErrorCode::kShmFull, "object of " + std::to_string(size) +
                                         " bytes is larger than the data region (" +
                                         std::to_string(region) + " bytes)");
  }
  const uint64_t need = kHeader + AlignUp(size, kAlignment);
  uint64_t offset = header_->free_head;
  for (uint64_t steps = 0; offset != 0; ++steps) {
    if (steps >= MaxBlocks()) Corrupt("the free list has a cycle");
    BlockHeader* b = Block(offset);
    if (b->free != 1) Corrupt("an allocated block is on the free list");
    if (b->size >= need) {
      Unlink(b);
      if (b->size - need >= kHeader) {
        // Split: keep the front, the rest becomes a free block of its own.
        const uint64_t rest_offset = offset + need;
        const uint64_t rest_size = b->size - need;
        auto* rest = reinterpret_cast<BlockHeader*>(segment_.base() + rest_offset);
        journal_.Set(&rest->size, rest_size);
        journal_.Set(&rest->prev_size, need);
        journal_.Set(&rest->magic, kBlockMagic);
        journal_.Set(&b->size, need);
        MINIRAY_CRASH_POINT("phase4.alloc.split");
        const uint64_t after = rest_offset + rest_size;
        if (after < end_) journal_.Set(&Block(after)->prev_size, rest_size);
        PushFree(rest_offset, rest);
      }
      journal_.Set(&b->kind, static_cast<uint32_t>(kind));
      journal_.Set(&header_->used_bytes, header_->used_bytes + b->size);
      MINIRAY_CRASH_POINT("phase4.alloc.counted");
      return offset + kHeader;
    }
    offset = b->next_free;
  }
  throw Error(ErrorCode::kShmFull,
              "no free block holds " + std::to_string(size) + " bytes (" +
                  std::to_string(region - header_->used_bytes) + " bytes free in " +
                  std::to_string(header_->free_blocks) + " pieces)");
}

void Allocator::Free(uint64_t payload) {
  if (payload < kHeader) Corrupt("payload offset " + std::to_string(payload) + " is too small");
  uint64_t offset = payload - kHeader;
  BlockHeader* b = Block(offset);
  if (b->free != 0) Corrupt("double free of the block at " + std::to_string(offset));
  journal_.Set(&header_->used_bytes, header_->used_bytes - b->size);
  // Merge with the next block when it is free.
  const uint64_t next_offset = offset + b->size;
  if (next_offset < end_) {
    BlockHeader* next = Block(next_offset);
    if (next->free == 1) {
      Unlink(next);
      journal_.Set(&b->size, b->size + next->size);
      journal_.Set(&next->magic, uint32_t{0});
      MINIRAY_CRASH_POINT("phase4.free.merged_next");
    }
  }
  // Merge with the previous block when it is free.
  if (b->prev_size != 0) {
    if (b->prev_size > offset - begin_) Corrupt("prev_size points before the region");
    const uint64_t prev_offset = offset - b->prev_size;
    BlockHeader* prev = Block(prev_offset);
    if (prev->free == 1) {
      Unlink(prev);
      journal_.Set(&prev->size, prev->size + b->size);
      journal_.Set(&b->magic, uint32_t{0});
      MINIRAY_CRASH_POINT("phase4.free.merged_prev");
      b = prev;
      offset = prev_offset;
    }
  }
  const uint64_t after = offset + b->size;
  if (after < end_) journal_.Set(&Block(after)->prev_size, b->size);
  PushFree(offset, b);
}

uint64_t Allocator::LargestFree() const {
  uint64_t best = 0;
  uint64_t offset = header_->free_head;
  for (uint64_t steps = 0; offset != 0; ++steps) {
    if (steps >= MaxBlocks()) Corrupt("the free list has a cycle");
    BlockHeader* b = Block(offset);
    if (b->size - kHeader > best) best = b->size - kHeader;
    offset = b->next_free;
  }
  return best;
}

}  // namespace miniray::phase4

namespace miniray::phase4 {

BlockKind Allocator::KindOf(uint64_t payload) const {
  if (payload < begin_ + kHeader) Corrupt("payload offset " + std::to_string(payload) + " is too small");
  const BlockHeader* b = Block(payload - kHeader);
  if (b->free != 0) Corrupt("the block at " + std::to_string(payload - kHeader) + " is free");
  if (b->kind > static_cast<uint32_t>(BlockKind::kSlab)) Corrupt("a block of unknown kind");
  return static_cast<BlockKind>(b->kind);
}

std::vector<BlockInfo> Allocator::Blocks() const {
  std::vector<BlockInfo> out;
  uint64_t offset = begin_;
  while (offset < end_) {
    const BlockHeader* b = Block(offset);
    out.push_back({offset + kHeader, b->size, b->free != 0, static_cast<BlockKind>(b->kind)});
    offset += b->size;
  }
  return out;
}

}  // namespace miniray::phase4
