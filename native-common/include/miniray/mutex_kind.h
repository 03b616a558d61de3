// The kind word of a pthread mutex, as the C library stores it inside the mutex.
//
// A mutex in a shared segment is data any process can overwrite. glibc keeps the mutex's type and
// its robust, process-shared and priority bits in one word of pthread_mutex_t and picks the lock
// path from it: a word that selects priority protection sends the lock into a path that asserts on
// a garbage owner and aborts the caller. So a lock of a mutex in shared memory compares this word
// with the one its own initialisation produces (on a probe mutex) before it locks.
#pragma once

#include <pthread.h>

#include <atomic>

namespace miniray {

// The kind word of `mutex` (one relaxed atomic read). 0 on a C library other than glibc, where
// the check is not made. Inline: every lock of a segment's mutex reads it first.
inline int MutexKindOf(const pthread_mutex_t& mutex) {
#if defined(__GLIBC__)
  return std::atomic_ref<int>(const_cast<int&>(mutex.__data.__kind)).load(std::memory_order_relaxed);
#else
  (void)mutex;
  return 0;
#endif
}

// The kind word a mutex gets from `init` (called once, on a probe mutex that is then destroyed).
int MutexKindFrom(void (*init)(pthread_mutex_t*));

}  // namespace miniray
