#include "miniray/futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "miniray/errors.h"

namespace miniray {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word must be 32 bits");

int64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool FutexWait(std::atomic<uint32_t>* word, uint32_t expected, int64_t timeout_ms) {
  struct timespec rel;
  struct timespec* timeout = nullptr;
  if (timeout_ms >= 0) {
    rel.tv_sec = timeout_ms / 1000;
    rel.tv_nsec = (timeout_ms % 1000) * 1000000L;
    timeout = &rel;
  }
  // FUTEX_WAIT (shared): the kernel re-checks *word == expected atomically before sleeping.
  long rc = syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, expected, timeout,
                    nullptr, 0);
  if (rc == 0) return true;
  if (errno == ETIMEDOUT) return false;
  if (errno == EAGAIN || errno == EINTR) return true;
  ThrowErrno(ErrorCode::kSystem, "futex wait", errno);
}

void FutexWakeAll(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

}  // namespace miniray
