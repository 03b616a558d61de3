#include "miniray/mutex_kind.h"

#include <atomic>

namespace miniray {

int MutexKindOf(const pthread_mutex_t& mutex) {
#if defined(__GLIBC__)
  return std::atomic_ref<int>(const_cast<int&>(mutex.__data.__kind)).load(std::memory_order_relaxed);
#else
  (void)mutex;
  return 0;
#endif
}

int MutexKindFrom(void (*init)(pthread_mutex_t*)) {
  pthread_mutex_t probe;
  init(&probe);
  const int kind = MutexKindOf(probe);
  pthread_mutex_destroy(&probe);
  return kind;
}

}  // namespace miniray
