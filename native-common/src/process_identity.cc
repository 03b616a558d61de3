#include "miniray/process_identity.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "miniray/errors.h"

namespace miniray {

namespace {

// Reads /proc/<pid>/stat into `buf` (NUL-terminated). False when the process does not exist.
bool ReadStat(pid_t pid, char* buf, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ESRCH) return false;
    ThrowErrno(ErrorCode::kSystem, std::string("open ") + path, errno);
  }
  size_t used = 0;
  while (used + 1 < cap) {
    ssize_t n = ::read(fd, buf + used, cap - 1 - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      if (err == ESRCH) return false;  // the process exited between open and read
      ThrowErrno(ErrorCode::kSystem, std::string("read ") + path, err);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  buf[used] = '\0';
  return used > 0;
}

struct StatFields {
  char state;
  uint64_t start_time;
};

// "pid (comm) state ppid ... starttime ...": comm may hold spaces and parentheses, so the fields
// are counted from the last ')'. starttime is field 22; state is field 3.
std::optional<StatFields> ParseStat(const char* stat) {
  const char* close = strrchr(stat, ')');
  if (close == nullptr || close[1] != ' ') return std::nullopt;
  const char* p = close + 2;
  StatFields f{};
  f.state = *p;
  for (int field = 3; field < 22; ++field) {
    p = strchr(p, ' ');
    if (p == nullptr) return std::nullopt;
    ++p;
  }
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(p, &end, 10);
  if (end == p || errno != 0) return std::nullopt;
  f.start_time = v;
  return f;
}

std::atomic<uint64_t> cached_start{0};
std::atomic<pid_t> cached_for{0};

void ForgetAfterFork() {
  detail::cached_pid.store(0, std::memory_order_relaxed);
  cached_for.store(0, std::memory_order_relaxed);
}

const int registered_atfork = pthread_atfork(nullptr, nullptr, ForgetAfterFork);

}  // namespace

std::atomic<pid_t> detail::cached_pid{0};

pid_t detail::ReadPid() {
  const pid_t pid = ::getpid();
  cached_pid.store(pid, std::memory_order_relaxed);
  return pid;
}

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  char buf[1024];
  if (!ReadStat(pid, buf, sizeof buf)) return std::nullopt;
  std::optional<StatFields> f = ParseStat(buf);
  if (!f.has_value()) {
    throw Error(ErrorCode::kSystem, "unexpected format of /proc/" + std::to_string(pid) + "/stat");
  }
  if (f->state == 'Z' || f->state == 'X' || f->state == 'x') return std::nullopt;
  return f->start_time;
}

ProcessIdentity SelfIdentity() {
  pid_t pid = CurrentPid();
  if (cached_for.load(std::memory_order_acquire) != pid) {
    std::optional<uint64_t> start = ProcessStartTime(pid);
    if (!start.has_value()) throw Error(ErrorCode::kSystem, "cannot read /proc/self/stat");
    cached_start.store(*start, std::memory_order_relaxed);
    cached_for.store(pid, std::memory_order_release);
  }
  return ProcessIdentity{static_cast<int32_t>(pid), 0, cached_start.load(std::memory_order_relaxed)};
}

bool IsAlive(const ProcessIdentity& who) {
  if (who.pid <= 0) return false;
  std::optional<uint64_t> start = ProcessStartTime(who.pid);
  return start.has_value() && *start == who.start_time;
}

}  // namespace miniray
