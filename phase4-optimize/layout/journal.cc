// Phase 4: the journal (see journal.h). GIVEN: phase 2's journal, scoped to the allocator lock.
//
// The order of the writes is the whole point, so each step is separated from the next by a
// compiler fence: a process killed between two instructions must have made exactly the writes
// that precede them in this file. (The CPU keeps a thread's own stores in program order for
// whoever looks after that thread is dead and its lock has been taken over.) The crash points
// name every gap between two writes for the fault-injection build.
#include "journal.h"

#include <atomic>
#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase4 {

namespace {

void Fence() { std::atomic_signal_fence(std::memory_order_seq_cst); }

[[noreturn]] void Corrupt(const std::string& what) {
  throw Error(ErrorCode::kSegmentCorrupt, "journal: " + what);
}

}  // namespace

Journal::Journal(const Segment& segment, uint64_t data_begin)
    : segment_(segment), area_(&segment.At<StoreHeader>(0)->alloc.journal), data_begin_(data_begin) {}

bool Journal::MayWrite(uint64_t word_offset, uint64_t segment_size, uint64_t data_begin) {
  if (word_offset % 8 != 0 || segment_size < 8 || word_offset > segment_size - 8) return false;
  const uint64_t alloc = offsetof(StoreHeader, alloc);
  const uint64_t first = alloc + offsetof(AllocDomain, free_head);
  const uint64_t journal = alloc + offsetof(AllocDomain, journal);
  return (word_offset >= first && word_offset < journal) || word_offset >= data_begin;
}

bool Journal::open() const { return area_->count != 0; }

void Journal::Begin() {
  if (active_) Corrupt("a transaction is already in progress in this process");
  if (area_->count != 0) {
    Corrupt("an earlier transaction of " + std::to_string(area_->count) +
            " writes was never committed or undone");
  }
  count_ = 0;
  active_ = true;
}

void Journal::Record(uint64_t word_offset) {
  if (!active_) throw Error(ErrorCode::kSystem, "journal: a logged write outside a transaction");
  if (count_ == kJournalCapacity) {
    throw Error(ErrorCode::kSystem, "journal: more than " + std::to_string(kJournalCapacity) +
                                        " writes in one transaction");
  }
  if (!MayWrite(word_offset, segment_.size(), data_begin_)) {
    Corrupt("a write to offset " + std::to_string(word_offset) + ", outside the bookkeeping");
  }
  uint64_t old_value;
  std::memcpy(&old_value, segment_.base() + word_offset, 8);
  area_->records[count_] = {word_offset, old_value};
  Fence();
  MINIRAY_CRASH_POINT("phase4.journal.record");
  area_->count = ++count_;  // the record counts from here on
  Fence();
  MINIRAY_CRASH_POINT("phase4.journal.count");
}

void Journal::Log(const void* field, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(field);
  if (p < segment_.base() || bytes == 0 ||
      static_cast<uint64_t>(p - segment_.base()) > segment_.size() - bytes) {
    throw Error(ErrorCode::kSystem, "journal: a logged write outside the segment");
  }
  const uint64_t first = static_cast<uint64_t>(p - segment_.base());
  for (uint64_t word = first & ~7ULL; word < first + bytes; word += 8) Record(word);
}

void Journal::Wrote() {
  Fence();
  MINIRAY_CRASH_POINT("phase4.journal.write");
}

void Journal::Copy(void* dst, const void* src, size_t bytes) {
  Log(dst, bytes);
  std::memcpy(dst, src, bytes);
  Wrote();
}

void Journal::Commit() {
  if (!active_) throw Error(ErrorCode::kSystem, "journal: commit outside a transaction");
  Fence();
  area_->count = 0;  // the commit point: one aligned 4-byte store
  Fence();
  count_ = 0;
  active_ = false;
  MINIRAY_CRASH_POINT("phase4.journal.commit");
}

void Journal::Rollback() {
  count_ = 0;
  active_ = false;
  const uint32_t n = area_->count;
  if (n > kJournalCapacity) Corrupt("record count " + std::to_string(n) + " is out of range");
  for (uint32_t i = 0; i < n; ++i) {
    if (!MayWrite(area_->records[i].offset, segment_.size(), data_begin_)) {
      Corrupt("record " + std::to_string(i) + " names offset " +
              std::to_string(area_->records[i].offset) + ", outside the bookkeeping");
    }
  }
  // Newest first: a word written twice ends with its oldest record, its value before the change.
  for (uint32_t i = n; i-- > 0;) {
    const JournalRecord r = area_->records[i];
    std::memcpy(segment_.base() + r.offset, &r.old_value, 8);
    Fence();
    MINIRAY_CRASH_POINT("phase4.journal.undo");
  }
  area_->count = 0;
  Fence();
}

Transaction::~Transaction() {
  if (committed_) return;
  try {
    journal_.Rollback();
  } catch (const Error&) {
    // The records stay in the segment: the next locker's Recover() tries again (and reports it).
  }
}

}  // namespace miniray::phase4
