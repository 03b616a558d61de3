// Compiled into every build; does anything only with -DMINIRAY_CRASH_POINTS (see crash_point.h).
#include "miniray/crash_point.h"

#if defined(MINIRAY_CRASH_POINTS)

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

namespace miniray {

namespace {

struct Armed {
  std::string name;  // empty: nothing armed
  long count = 0;
};

const Armed& ArmedPoint() {
  static const Armed armed = [] {
    Armed a;
    const char* spec = getenv("MINIRAY_CRASH_AT");
    if (spec == nullptr) return a;
    const char* colon = strrchr(spec, ':');
    if (colon == nullptr) return a;
    a.name.assign(spec, colon);
    a.count = strtol(colon + 1, nullptr, 10);
    if (a.count < 1) a.name.clear();
    return a;
  }();
  return armed;
}

std::atomic<long> passes{0};

void LogOnce(const char* name) {
  static const char* log = getenv("MINIRAY_CRASH_LOG");
  if (log == nullptr) return;
  static std::mutex mu;
  static std::set<std::string> seen;
  std::lock_guard<std::mutex> lock(mu);
  if (!seen.insert(name).second) return;
  int fd = ::open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  std::string line = std::string(name) + "\n";
  ssize_t ignored = ::write(fd, line.data(), line.size());
  (void)ignored;
  ::close(fd);
}

}  // namespace

void CrashPoint(const char* name) {
  LogOnce(name);
  const Armed& armed = ArmedPoint();
  if (armed.name.empty() || armed.name != name) return;
  if (passes.fetch_add(1) + 1 == armed.count) ::kill(::getpid(), SIGKILL);
}

}  // namespace miniray

#endif  // MINIRAY_CRASH_POINTS
