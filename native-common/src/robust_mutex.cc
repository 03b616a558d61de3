#include "miniray/robust_mutex.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "miniray/errors.h"
#include "miniray/mutex_kind.h"

namespace miniray {

namespace {

void Check(int rc, const char* what) {
  if (rc != 0) ThrowErrno(ErrorCode::kSystem, what, rc);
}

void InitRobust(pthread_mutex_t* mutex) {
  pthread_mutexattr_t attr;
  Check(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
  Check(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "setpshared");
  Check(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST), "setrobust");
  Check(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK), "settype");
  int rc = pthread_mutex_init(mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  Check(rc, "pthread_mutex_init");
}

}  // namespace

extern const int kRobustMutexKind = MutexKindFrom(InitRobust);

void RobustMutex::Init() {
  InitRobust(&mutex);
  holder_pid.store(0);
  recoveries.store(0);
}

bool RobustMutex::Lock(uint32_t timeout_ms) {
  if (!HasRobustKind(mutex)) {
    throw Error(ErrorCode::kSegmentCorrupt, "the segment's lock is not the robust mutex it was made as");
  }
  // Uncontended fast path: no clock read, no deadline arithmetic.
  int rc = pthread_mutex_trylock(&mutex);
  if (rc == 0) {
    // Relaxed: the mutex orders it for the next holder, and a waiter that times out reads it only
    // to name the holder in its message. A sequentially consistent store is a full fence (an
    // xchg), paid twice per lock on every get and release.
    holder_pid.store(static_cast<int32_t>(CurrentPid()), std::memory_order_relaxed);
    return false;
  }
  if (rc == EBUSY) rc = LockSlow(timeout_ms);
  return Acquired(rc, timeout_ms);
}

int RobustMutex::LockSlow(uint32_t timeout_ms) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += timeout_ms / 1000;
  deadline.tv_nsec += static_cast<long>(timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000L;
  }
  return pthread_mutex_clocklock(&mutex, CLOCK_MONOTONIC, &deadline);
}

bool RobustMutex::Acquired(int rc, uint32_t timeout_ms) {
  bool recovered = false;
  if (rc == EOWNERDEAD) {
    // The holder died inside its critical section. We own the lock now; mark it usable again,
    // or it becomes ENOTRECOVERABLE for everyone once we unlock.
    Check(pthread_mutex_consistent(&mutex), "pthread_mutex_consistent");
    recoveries.fetch_add(1);
    recovered = true;
  } else if (rc == ETIMEDOUT) {
    int32_t holder = holder_pid.load();
    std::string who = holder <= 0 ? "an unknown process"
                                  : "pid " + std::to_string(holder) +
                                        (::kill(holder, 0) == 0 || errno == EPERM ? " (alive)"
                                                                                  : " (gone)");
    throw Error(ErrorCode::kLockTimeout, "lock not acquired within " +
                                             std::to_string(timeout_ms) + " ms; held by " + who);
  } else if (rc == EDEADLK) {
    throw Error(ErrorCode::kDeadlock, "this thread already holds the segment lock");
  } else if (rc == ENOTRECOVERABLE) {
    throw Error(ErrorCode::kSegmentCorrupt,
                "the segment lock is unrecoverable: a recovered holder unlocked it without "
                "pthread_mutex_consistent");
  } else if (rc == EINVAL || rc == EAGAIN) {
    throw Error(ErrorCode::kSegmentCorrupt, "the segment's lock is damaged (pthread error " + std::to_string(rc) + ")");
  } else {
    Check(rc, "pthread_mutex_clocklock");
  }
  holder_pid.store(static_cast<int32_t>(CurrentPid()), std::memory_order_relaxed);
  return recovered;
}


}  // namespace miniray
