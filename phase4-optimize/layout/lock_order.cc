// Phase 4: ranked locks (see lock_order.h). GIVEN.
#include "lock_order.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "miniray/errors.h"
#include "miniray/process_identity.h"

namespace miniray::phase4 {

// Ranks this thread holds, as a bit set over two words. One set per thread, whatever the store: a
// thread that nests locks of two stores is not something this course does. Reached once per lock
// and once per unlock (a thread-local in a shared object costs a function call per access).
struct HeldRanks {
  uint64_t bits[2];
  uint32_t count;
};

namespace {

thread_local HeldRanks held_ranks{{0, 0}, 0};
static_assert(kLruRank < 128, "ranks fit two words");

bool Test(const HeldRanks& h, uint32_t rank) { return (h.bits[rank / 64] >> (rank % 64)) & 1; }

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// Whether `h` holds any rank >= `rank`.
bool HoldsAtOrAbove(const HeldRanks& h, uint32_t rank) {
  const uint64_t lo_mask = rank >= 64 ? 0 : ~uint64_t{0} << rank;
  const uint64_t hi_mask = rank < 64 ? ~uint64_t{0} : ~uint64_t{0} << (rank - 64);
  return (h.bits[0] & lo_mask) != 0 || (h.bits[1] & hi_mask) != 0;
}

}  // namespace

bool RankedLock::Holds(uint32_t rank) { return rank <= kLruRank && Test(held_ranks, rank); }
uint32_t RankedLock::HeldCount() { return held_ranks.count; }

// Inlined into Lock and TryLock (only they call it): the uncontended path is a handful of loads.
[[gnu::always_inline]] inline void RankedLock::Took(HeldRanks& h, bool contended, uint64_t wait_ns) {
  // Holding the lock: plain stores, read without it by stats().
  counters_.acquisitions += 1;
  if (contended) {
    counters_.contended += 1;
    counters_.wait_ns += wait_ns;
  }
  h.bits[rank_ / 64] |= uint64_t{1} << (rank_ % 64);
  h.count += 1;
  held_ = &h;
}

// One pthread_mutex_trylock, with the robust mutex's own bookkeeping; EBUSY when it is held.
[[gnu::always_inline]] inline int RankedLock::Try() {
  if (!HasRobustKind(mutex_.mutex)) {
    throw Error(ErrorCode::kSegmentCorrupt, "the segment's lock is not the robust mutex it was made as");
  }
  const int rc = pthread_mutex_trylock(&mutex_.mutex);
  // Relaxed, as RobustMutex::Lock stores it: it only names the holder in a timeout message, and the
  // mutex orders it (a sequentially consistent store is a full fence on every lock).
  if (rc == 0 || rc == EOWNERDEAD) mutex_.holder_pid.store(static_cast<int32_t>(CurrentPid()), std::memory_order_relaxed);
  if (rc == EOWNERDEAD) {
    if (pthread_mutex_consistent(&mutex_.mutex) != 0) {
      throw Error(ErrorCode::kSegmentCorrupt, "pthread_mutex_consistent failed");
    }
    mutex_.recoveries.fetch_add(1);
  }
  return rc;
}

Acquired RankedLock::Lock(uint32_t timeout_ms) {
  if (rank_ > kLruRank) throw Error(ErrorCode::kSystem, "lock rank out of range");
  HeldRanks& h = held_ranks;  // once: in an addon, every access to a thread-local is a call
  if (HoldsAtOrAbove(h, rank_)) header_->order_violations.fetch_add(1, std::memory_order_relaxed);
  // First a try: an uncontended lock reads no clock.
  const int rc = Try();
  if (rc == 0 || rc == EOWNERDEAD) {
    Took(h, false, 0);
    return rc == EOWNERDEAD ? Acquired::kHolderDied : Acquired::kLocked;
  }
  const uint64_t start = NowNs();
  const bool died = mutex_.Lock(timeout_ms);  // every other outcome: its typed error
  Took(h, rc == EBUSY, NowNs() - start);
  return died ? Acquired::kHolderDied : Acquired::kLocked;
}

Acquired RankedLock::TryLock() {
  if (rank_ > kLruRank) throw Error(ErrorCode::kSystem, "lock rank out of range");
  const int rc = Try();
  if (rc == EBUSY) {
    counters_.try_failures += 1;  // not holding it: a torn count at worst
    return Acquired::kBusy;
  }
  HeldRanks& h = held_ranks;
  if (rc != 0 && rc != EOWNERDEAD) {
    const bool died = mutex_.Lock(0);  // its typed error (or, by luck, the lock)
    Took(h, false, 0);
    return died ? Acquired::kHolderDied : Acquired::kLocked;
  }
  Took(h, false, 0);
  return rc == EOWNERDEAD ? Acquired::kHolderDied : Acquired::kLocked;
}

void RankedLock::Unlock() {
  HeldRanks& h = held_ != nullptr ? *held_ : held_ranks;
  held_ = nullptr;
  h.bits[rank_ / 64] &= ~(uint64_t{1} << (rank_ % 64));
  h.count -= 1;
  mutex_.Unlock();
}

}  // namespace miniray::phase4
