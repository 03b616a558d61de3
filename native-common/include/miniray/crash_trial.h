// Crash trials: run a piece of code in a fork()ed copy of this process with one crash point armed
// (crash_point.h), and report how it ended. Only the fault-injection builds (the *_crash targets)
// compile this; their test glue exposes it to a crash-point suite (testkit/crash-points.ts).
//
// A fork rather than a new process: the child starts in a millisecond with the addon already
// loaded, so a suite can afford to kill an operation at every crash point, at every passage.
// The child runs plain C++ only (no JavaScript, no libuv) and leaves with _exit().
#pragma once

#if defined(MINIRAY_CRASH_POINTS)

#include <cstdint>
#include <functional>
#include <string>

namespace miniray {

struct TrialOutcome {
  enum class Kind {
    kCompleted,  // `body` returned
    kKilled,     // the child died of a signal (SIGKILL at the armed crash point)
    kFailed,     // `body` threw: `error` says what
    kTimedOut,   // the child ran longer than allowed and was killed
  };
  Kind kind;
  int signal = 0;     // kKilled: which
  std::string error;  // kFailed: "ERR_CODE: message"
};

// Forks. The child sets MINIRAY_CRASH_AT to `crash_at` and MINIRAY_CRASH_LOG to `crash_log`
// (each unless empty), runs `body` and exits. The parent waits at most `timeout_ms`.
// The calling process must never pass a crash point itself: a process reads the two variables at
// its first crash point, and a forked child inherits what its parent read.
TrialOutcome RunCrashTrial(const std::string& crash_at, const std::string& crash_log,
                           int64_t timeout_ms, const std::function<void()>& body);

}  // namespace miniray

#endif  // MINIRAY_CRASH_POINTS
