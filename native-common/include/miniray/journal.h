// The journal: a write-ahead undo log kept in the segment. GIVEN (from phase 2 on): you do not
// edit this file; your stores use it through their phase's layout/journal.h.
//
// Creating an object takes some twenty writes of shared state: a free block is unlinked and split,
// its rest is linked back, a slot gets the id, the counters move. A process can be killed between
// any two of them (SIGKILL, the OOM killer, a crash), and then the next process to take the lock
// finds a half-done change. The journal makes every such change all-or-nothing:
//
//   Transaction tx(journal);          // begin
//   journal.Set(&block->size, ...);   // record the word's old value, then write the new one
//   journal.Set(&header->used, ...);
//   tx.Commit();                      // one write (count = 0): the change is done
//
// If the writer dies before Commit, the records are still in the segment, and the next locker's
// recovery calls Rollback(): it puts every recorded word back, newest first, and the segment is
// exactly as it was before the transaction began. Undoing twice is the same as undoing once, so a
// recovery that is itself killed is simply run again. A Transaction that goes out of scope without
// Commit (an exception half-way) rolls back too: a failed operation leaves nothing behind.
//
// Only writes *inside* a transaction go through the journal. A change that is one single write (a
// pin, an unpin) is atomic on its own and needs no record.
//
// Each phase keeps its journal in its own header (JournalAreaOf<N>) and says which words a record
// may name (JournalBounds): never a lock, a futex word, the geometry or the journal itself, so that
// a damaged record can never make a rollback write there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "miniray/segment.h"

namespace miniray {

// One word a transaction changed: its segment offset (8-byte aligned) and what it held before.
struct JournalRecord {
  uint64_t offset;
  uint64_t old_value;
};

// The journal as it lies in the segment. count != 0: a transaction is open (or its writer died),
// and undoing its records, newest first, restores the segment as it was before the transaction.
template <uint32_t kCapacity>
struct JournalAreaOf {
  uint32_t count;
  uint32_t reserved;
  JournalRecord records[kCapacity];
};

// The words a record may name: the 8-byte words in [lo, hi), and every word from `rest` to the
// segment's end.
struct JournalBounds {
  uint64_t lo;
  uint64_t hi;
  uint64_t rest;
  bool MayWrite(uint64_t word_offset, uint64_t segment_size) const;
};

class Journal {
 public:
  template <uint32_t kCapacity>
  Journal(const Segment& segment, JournalAreaOf<kCapacity>* area, JournalBounds bounds)
      : Journal(segment, &area->count, area->records, kCapacity, bounds) {}

  // Starts a transaction. ERR_SEGMENT_CORRUPT when one is still open (recover first).
  void Begin();
  // Records the 8-byte word that holds `*field`, then writes `value` into it. Inside a transaction.
  template <typename T>
  void Set(T* field, T value) {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8 && 8 % sizeof(T) == 0,
                  "Set() writes a field of 1, 2, 4 or 8 bytes; use Copy() for more");
    Log(field, sizeof(T));
    std::memcpy(static_cast<void*>(field), &value, sizeof(T));
    Wrote();
  }
  // Set() for a range of bytes (an id, a whole entry): records every word it touches, then copies.
  void Copy(void* dst, const void* src, size_t bytes);
  // Ends the transaction: from here on the change is permanent.
  void Commit();
  // Undoes the open transaction (this process's, or a dead writer's), newest record first.
  // ERR_SEGMENT_CORRUPT when a record names a word it must not touch; the journal then stays open.
  void Rollback();

  // A transaction is open in the segment (maybe a dead process's).
  bool open() const { return *count_in_segment_ != 0; }
  // This process is inside Begin() .. Commit().
  bool active() const { return active_; }
  const JournalBounds& bounds() const { return bounds_; }
  void set_bounds(JournalBounds bounds) { bounds_ = bounds; }

 private:
  Journal(const Segment& segment, uint32_t* count, JournalRecord* records, uint32_t capacity,
          JournalBounds bounds);
  void Log(const void* field, size_t bytes);
  void Record(uint64_t word_offset);
  void Wrote();

  const Segment& segment_;
  uint32_t* count_in_segment_;
  JournalRecord* records_;
  uint32_t capacity_;
  JournalBounds bounds_;
  uint32_t count_ = 0;  // records written by this process's open transaction
  bool active_ = false;
};

// Begin() now, Commit() when told, Rollback() when it goes out of scope without a Commit().
class Transaction {
 public:
  explicit Transaction(Journal& journal) : journal_(journal) { journal_.Begin(); }
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void Commit() {
    journal_.Commit();
    committed_ = true;
  }

 private:
  Journal& journal_;
  bool committed_ = false;
};

}  // namespace miniray
