#include "miniray/mutex_kind.h"

#include <atomic>

namespace miniray {

int MutexKindFrom(void (*init)(pthread_mutex_t*)) {
  pthread_mutex_t probe;
  init(&probe);
  const int kind = MutexKindOf(probe);
  pthread_mutex_destroy(&probe);
  return kind;
}

}  // namespace miniray
