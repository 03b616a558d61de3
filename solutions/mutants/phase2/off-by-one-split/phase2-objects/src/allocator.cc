// Phase 2 reference: a first-fit free list with splitting and boundary-tag coalescing.
#include "allocator.h"

#include <cstring>
#include <string>

#include "miniray/errors.h"

namespace miniray::phase2 {

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
  header_->begin = begin;
  header_->end = end;
  header_->free_head = 0;
  header_->used_bytes = 0;
  header_->free_blocks = 0;
  BlockHeader* block = segment_.At<BlockHeader>(begin);
  std::memset(static_cast<void*>(block), 0, kHeader);
  block->size = end - begin;
  block->prev_size = 0;
  block->magic = kBlockMagic;
  PushFree(begin, block);
}

void Allocator::Check() const {
  const AllocatorHeader& h = *header_;
  bool sane = h.begin % kAlignment == 0 && h.end % kAlignment == 0 && h.end > h.begin &&
              h.used_bytes <= h.end - h.begin;
  if (sane) {
    try {
      segment_.CheckRange(h.begin, h.end - h.begin);
    } catch (const Error&) {
      sane = false;
    }
  }
  if (!sane) throw Error(ErrorCode::kLayoutMismatch, "allocator header is inconsistent");
}

BlockHeader* Allocator::Block(uint64_t offset) const {
  if (offset < header_->begin || offset >= header_->end || offset % kAlignment != 0 ||
      header_->end - offset < kHeader) {
    Corrupt("block offset " + std::to_string(offset) + " outside the data region");
  }
  BlockHeader* b = segment_.At<BlockHeader>(offset);
  if (b->magic != kBlockMagic || b->size < kHeader || b->size % kAlignment != 0 ||
      b->size > header_->end - offset || b->free > 1) {
    Corrupt("block at " + std::to_string(offset) + " has a damaged header");
  }
  return b;
}

void Allocator::PushFree(uint64_t offset, BlockHeader* block) {
  block->free = 1;
  block->prev_free = 0;
  block->next_free = header_->free_head;
  if (header_->free_head != 0) Block(header_->free_head)->prev_free = offset;
  header_->free_head = offset;
  header_->free_blocks += 1;
}

void Allocator::Unlink(BlockHeader* block) {
  if (block->prev_free != 0) {
    Block(block->prev_free)->next_free = block->next_free;
  } else {
    header_->free_head = block->next_free;
  }
  if (block->next_free != 0) Block(block->next_free)->prev_free = block->prev_free;
  block->next_free = 0;
  block->prev_free = 0;
  block->free = 0;
  header_->free_blocks -= 1;
}

uint64_t Allocator::Allocate(uint64_t size) {
  const uint64_t region = header_->end - header_->begin;
  if (size > region) {
    throw Error(ErrorCode::kShmFull, "object of " + std::to_string(size) +
                                         " bytes is larger than the data region (" +
                                         std::to_string(region) + " bytes)");
  }
  const uint64_t need = kHeader + size / kAlignment * kAlignment;  // mutant: rounds down
  uint64_t offset = header_->free_head;
  for (uint64_t steps = 0; offset != 0; ++steps) {
    if (steps > header_->free_blocks) Corrupt("the free list has a cycle");
    BlockHeader* b = Block(offset);
    if (b->free != 1) Corrupt("an allocated block is on the free list");
    if (b->size >= need) {
      Unlink(b);
      if (b->size - need >= kHeader) {
        // Split: keep the front, the rest becomes a free block of its own.
        const uint64_t rest_offset = offset + need;
        BlockHeader* rest = segment_.At<BlockHeader>(rest_offset);
        std::memset(static_cast<void*>(rest), 0, kHeader);
        rest->size = b->size - need;
        rest->prev_size = need;
        rest->magic = kBlockMagic;
        b->size = need;
        const uint64_t after = rest_offset + rest->size;
        if (after < header_->end) Block(after)->prev_size = rest->size;
        PushFree(rest_offset, rest);
      }
      header_->used_bytes += b->size;
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
  header_->used_bytes -= b->size;
  // Merge with the next block when it is free.
  const uint64_t next_offset = offset + b->size;
  if (next_offset < header_->end) {
    BlockHeader* next = Block(next_offset);
    if (next->free == 1) {
      Unlink(next);
      b->size += next->size;
      next->magic = 0;
    }
  }
  // Merge with the previous block when it is free.
  if (b->prev_size != 0) {
    if (b->prev_size > offset - header_->begin) Corrupt("prev_size points before the region");
    const uint64_t prev_offset = offset - b->prev_size;
    BlockHeader* prev = Block(prev_offset);
    if (prev->free == 1) {
      Unlink(prev);
      prev->size += b->size;
      b->magic = 0;
      b = prev;
      offset = prev_offset;
    }
  }
  const uint64_t after = offset + b->size;
  if (after < header_->end) Block(after)->prev_size = b->size;
  PushFree(offset, b);
}

uint64_t Allocator::LargestFree() const {
  uint64_t best = 0;
  uint64_t offset = header_->free_head;
  for (uint64_t steps = 0; offset != 0; ++steps) {
    if (steps > header_->free_blocks) Corrupt("the free list has a cycle");
    BlockHeader* b = Block(offset);
    if (b->size - kHeader > best) best = b->size - kHeader;
    offset = b->next_free;
  }
  return best;
}

void Allocator::Rebuild(const std::function<bool(uint64_t payload)>& in_use) {
  header_->free_head = 0;
  header_->free_blocks = 0;
  header_->used_bytes = 0;
  uint64_t offset = header_->begin;
  uint64_t prev_size = 0;
  BlockHeader* open_free = nullptr;  // the free block being grown by merging
  uint64_t open_offset = 0;
  while (offset < header_->end) {
    BlockHeader* b = Block(offset);
    const uint64_t size = b->size;
    const bool used = b->free == 0 && in_use(offset + kHeader);
    if (used) {
      if (open_free != nullptr) {
        PushFree(open_offset, open_free);
        open_free = nullptr;
      }
      b->prev_size = prev_size;
      b->next_free = b->prev_free = 0;
      header_->used_bytes += size;
      prev_size = size;
    } else if (open_free == nullptr) {
      open_free = b;
      open_offset = offset;
      b->prev_size = prev_size;
      b->free = 0;
      prev_size = size;
    } else {
      open_free->size += size;
      b->magic = 0;
      prev_size = open_free->size;
    }
    offset += size;
  }
  if (offset != header_->end) Corrupt("blocks do not tile the data region");
  if (open_free != nullptr) PushFree(open_offset, open_free);
}

}  // namespace miniray::phase2
