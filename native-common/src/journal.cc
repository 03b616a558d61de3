// The journal (see miniray/journal.h). GIVEN (from phase 2 on).
//
// The order of the writes is the whole point, so each step is separated from the next by a
// compiler fence: a process killed between two instructions must have made exactly the writes
// that precede them in this file. (The CPU keeps a thread's own stores in program order for
// whoever looks after that thread is dead and its lock has been taken over.) The crash points
// name every gap between two writes for the fault-injection build: a phase's crash build compiles
// this file itself, with the points armed.
#include "miniray/journal.h"

#include <atomic>
#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray {

namespace {

void Fence() { std::atomic_signal_fence(std::memory_order_seq_cst); }

[[noreturn]] void Corrupt(const std::string& what) {
  throw Error(ErrorCode::kSegmentCorrupt, "journal: " + what);
}

}  // namespace

bool JournalBounds::MayWrite(uint64_t word_offset, uint64_t segment_size) const {
  if (word_offset % 8 != 0 || segment_size < 8 || word_offset > segment_size - 8) return false;
  return (word_offset >= lo && word_offset < hi) || word_offset >= rest;
}

Journal::Journal(const Segment& segment, uint32_t* count, JournalRecord* records, uint32_t capacity,
                 JournalBounds bounds)
    : segment_(segment), count_in_segment_(count), records_(records), capacity_(capacity), bounds_(bounds) {}

void Journal::Begin() {
  if (active_) Corrupt("a transaction is already in progress in this process");
  if (*count_in_segment_ != 0) {
    Corrupt("an earlier transaction of " + std::to_string(*count_in_segment_) +
            " writes was never committed or undone");
  }
  count_ = 0;
  active_ = true;
}

void Journal::Record(uint64_t word_offset) {
  if (!active_) throw Error(ErrorCode::kSystem, "journal: a logged write outside a transaction");
  if (count_ == capacity_) {
    throw Error(ErrorCode::kSystem, "journal: more than " + std::to_string(capacity_) +
                                        " writes in one transaction");
  }
  if (!bounds_.MayWrite(word_offset, segment_.size())) {
    Corrupt("a write to offset " + std::to_string(word_offset) + ", outside the bookkeeping");
  }
  uint64_t old_value;
  std::memcpy(&old_value, segment_.base() + word_offset, 8);
  records_[count_] = {word_offset, old_value};
  Fence();
  MINIRAY_CRASH_POINT("journal.record");
  *count_in_segment_ = ++count_;  // the record counts from here on
  Fence();
  MINIRAY_CRASH_POINT("journal.count");
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
  MINIRAY_CRASH_POINT("journal.write");
}

void Journal::Copy(void* dst, const void* src, size_t bytes) {
  Log(dst, bytes);
  std::memcpy(dst, src, bytes);
  Wrote();
}

void Journal::Commit() {
  if (!active_) throw Error(ErrorCode::kSystem, "journal: commit outside a transaction");
  Fence();
  *count_in_segment_ = 0;  // the commit point: one aligned 4-byte store
  Fence();
  count_ = 0;
  active_ = false;
  MINIRAY_CRASH_POINT("journal.commit");
}

void Journal::Rollback() {
  count_ = 0;
  active_ = false;
  const uint32_t n = *count_in_segment_;
  if (n > capacity_) Corrupt("record count " + std::to_string(n) + " is out of range");
  for (uint32_t i = 0; i < n; ++i) {
    if (!bounds_.MayWrite(records_[i].offset, segment_.size())) {
      Corrupt("record " + std::to_string(i) + " names offset " + std::to_string(records_[i].offset) +
              ", outside the bookkeeping");
    }
  }
  // Newest first: a word written twice ends with its oldest record, its value before the change.
  for (uint32_t i = n; i-- > 0;) {
    const JournalRecord r = records_[i];
    std::memcpy(segment_.base() + r.offset, &r.old_value, 8);
    Fence();
    MINIRAY_CRASH_POINT("journal.undo");
  }
  *count_in_segment_ = 0;
  Fence();
}

Transaction::~Transaction() {
  if (committed_) return;
  try {
    journal_.Rollback();
  } catch (const Error&) {
    // The records stay in the segment: the next locker's recovery tries again (and reports it).
  }
}

}  // namespace miniray
