// Phase 2: the journal, a write-ahead undo log kept in the segment. GIVEN: you do not edit this
// file; your ObjectTable, Allocator and ObjectStore use it.
//
// The journal itself is native-common's (miniray/journal.h explains it in full):
//
//   Transaction tx(journal);          // begin
//   journal.Set(&block->size, ...);   // record the word's old value, then write the new one
//   journal.Set(&header->used, ...);
//   tx.Commit();                      // one write (count = 0): the change is done
//
// If the writer dies before Commit, the records are still in the segment, and the next locker's
// Recover() calls Rollback(): it puts every recorded word back, newest first. A Transaction that
// goes out of scope without Commit (an exception half-way) rolls back too.
//
// What phase 2 adds is where its journal lies (StoreHeader::journal) and what its records may name:
// the header's counters and client records, the table, the blocks; never the lock, the futex word,
// the repair flag or the journal itself.
#pragma once

#include <cstdint>

#include "layout.h"
#include "miniray/journal.h"
#include "miniray/segment.h"

namespace miniray::phase2 {

class Journal : public miniray::Journal {
 public:
  explicit Journal(const Segment& segment);

  // Whether a record may name the 8-byte word at `word_offset` of a segment of `segment_size`
  // bytes (the checker asks too).
  static bool MayWrite(uint64_t word_offset, uint64_t segment_size);
};

using Transaction = miniray::Transaction;

}  // namespace miniray::phase2
