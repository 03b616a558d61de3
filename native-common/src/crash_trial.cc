// Compiled into the *_crash targets only (see crash_trial.h).
#include "miniray/crash_trial.h"

#if defined(MINIRAY_CRASH_POINTS)

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <exception>

#include "miniray/errors.h"
#include "miniray/futex.h"

namespace miniray {

namespace {

void WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

[[noreturn]] void RunChild(int out, const std::string& crash_at, const std::string& crash_log,
                           const std::function<void()>& body) {
  if (!crash_at.empty()) ::setenv("MINIRAY_CRASH_AT", crash_at.c_str(), 1);
  if (!crash_log.empty()) ::setenv("MINIRAY_CRASH_LOG", crash_log.c_str(), 1);
  int code = 0;
  try {
    body();
  } catch (const Error& e) {
    WriteAll(out, std::string(CodeName(e.code())) + ": " + e.what());
    code = 3;
  } catch (const std::exception& e) {
    WriteAll(out, std::string("ERR_SYSTEM: ") + e.what());
    code = 3;
  }
  ::_exit(code);
}

}  // namespace

TrialOutcome RunCrashTrial(const std::string& crash_at, const std::string& crash_log,
                           int64_t timeout_ms, const std::function<void()>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) ThrowErrno(ErrorCode::kSystem, "pipe2", errno);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    ThrowErrno(ErrorCode::kSystem, "fork", err);
  }
  if (pid == 0) {
    ::close(fds[0]);
    RunChild(fds[1], crash_at, crash_log, body);
  }
  ::close(fds[1]);
  TrialOutcome outcome{TrialOutcome::Kind::kCompleted, 0, ""};
  std::string error;
  const int64_t deadline = MonotonicMs() + timeout_ms;
  bool timed_out = false;
  for (;;) {
    const int64_t left = deadline - MonotonicMs();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd p = {fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the child exited (or died): its end of the pipe is closed
    error.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    outcome.kind = TrialOutcome::Kind::kTimedOut;
  } else if (WIFSIGNALED(status)) {
    outcome.kind = TrialOutcome::Kind::kKilled;
    outcome.signal = WTERMSIG(status);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    outcome.kind = TrialOutcome::Kind::kFailed;
    outcome.error = error.empty() ? "exit status " + std::to_string(WEXITSTATUS(status)) : error;
  }
  return outcome;
}

}  // namespace miniray

#endif  // MINIRAY_CRASH_POINTS
