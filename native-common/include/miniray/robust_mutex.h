// A process-shared, robust, error-checking mutex that lives inside a segment.
//
// - process-shared: the kernel futex is keyed by the physical page, so any process that maps the
//   segment can wait on it;
// - robust: when a holder dies, the next locker gets EOWNERDEAD instead of waiting forever; Lock()
//   then marks the mutex consistent and reports that the protected state may be half-updated;
// - bounded: Lock() gives up after timeout_ms with ERR_LOCK_TIMEOUT naming the holder's pid.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "miniray/mutex_kind.h"
#include "miniray/process_identity.h"

namespace miniray {

struct RobustMutex {
  pthread_mutex_t mutex;
  std::atomic<int32_t> holder_pid;   // pid of the current holder, 0 when free (informational)
  std::atomic<uint32_t> recoveries;  // how many times a dead holder's lock was recovered

  // Creator only, before the segment is published.
  void Init();
  // Returns true when the previous holder died inside its critical section: the caller now holds
  // the lock and should check or repair what the lock protects.
  // Throws ERR_LOCK_TIMEOUT, ERR_DEADLOCK (this thread already holds it) or ERR_SEGMENT_CORRUPT.
  bool Lock(uint32_t timeout_ms);
  void Unlock() {
    holder_pid.store(0, std::memory_order_relaxed);  // published by the unlock (see Lock)
    pthread_mutex_unlock(&mutex);
  }

 private:
  int LockSlow(uint32_t timeout_ms);
  bool Acquired(int rc, uint32_t timeout_ms);
};

// True when `mutex` still carries the kind word RobustMutex::Init() gives every mutex it makes
// (process-shared, robust, error-checking) as this C library encodes it. The word lives in shared
// memory like everything else: a process that overwrites it can select a kind whose lock path in
// glibc asserts on a garbage owner and aborts the caller (priority protection), so every lock of a
// mutex in a segment checks it first and reports ERR_SEGMENT_CORRUPT instead.
// Inline: every lock checks it.
extern const int kRobustMutexKind;  // the kind word Init() produces, read once at load
inline bool HasRobustKind(const pthread_mutex_t& mutex) { return MutexKindOf(mutex) == kRobustMutexKind; }

// Scoped lock. `recovered()` tells whether the previous holder died while holding it.
class LockGuard {
 public:
  LockGuard(RobustMutex& mutex, uint32_t timeout_ms)
      : mutex_(mutex), recovered_(mutex.Lock(timeout_ms)) {}
  ~LockGuard() { mutex_.Unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  bool recovered() const { return recovered_; }

 private:
  RobustMutex& mutex_;
  bool recovered_;
};

}  // namespace miniray
