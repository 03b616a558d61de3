// Who a process is, in a form that can be stored in shared memory and checked later by any other
// process: its pid *and* its start time.
//
// A pid alone is not an identity: pids are reused (a busy machine wraps 4 million pids in minutes),
// so "pid 4242 is alive" may be true of a stranger. The kernel's start time of a process (field 22
// of /proc/<pid>/stat, in clock ticks since boot) does not change for the life of the process and
// differs for the next process that gets the same pid, so the pair names one process for good.
//
// kill(pid, 0) is not used: it answers "some process has this pid" (or EPERM for another user's),
// which is exactly the question pid reuse makes wrong.
//
// Scope: pids and start times are those of this machine's pid namespace, as /proc shows them.
// Processes that share a segment across pid namespaces (containers) cannot use this.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>

namespace miniray {

// Trivially copyable and of fixed size: safe to embed in a segment.
struct ProcessIdentity {
  int32_t pid;          // 0: nobody
  uint32_t reserved;    // zero
  uint64_t start_time;  // clock ticks after boot, from /proc/<pid>/stat

  bool empty() const { return pid == 0; }
  friend bool operator==(const ProcessIdentity& a, const ProcessIdentity& b) {
    return a.pid == b.pid && a.start_time == b.start_time;
  }
};
static_assert(sizeof(ProcessIdentity) == 16, "ProcessIdentity is part of segment layouts");

// getpid() is a real system call in glibc (about 190 ns here) and locks record their holder on
// every acquisition, so the pid is cached per process (and refreshed in a fork()ed child).
// Inline: one load on every lock.
namespace detail {
extern std::atomic<pid_t> cached_pid;  // 0: not read yet (or forgotten after fork)
pid_t ReadPid();
}  // namespace detail
inline pid_t CurrentPid() {
  const pid_t pid = detail::cached_pid.load(std::memory_order_relaxed);
  return pid != 0 ? pid : detail::ReadPid();
}

// This process. Cached; refreshed in a fork()ed child.
ProcessIdentity SelfIdentity();

// The start time of `pid` as /proc says it now, or nullopt when no such process exists (or it is
// a zombie: it has exited and holds nothing, only its parent has not reaped it yet).
std::optional<uint64_t> ProcessStartTime(pid_t pid);

// True when the process `who` names is still running: same pid, same start time, not a zombie.
// An empty identity is never alive.
bool IsAlive(const ProcessIdentity& who);

}  // namespace miniray
