// Phase 3 reference: the scheduler.
//
// One robust process-shared mutex guards the ring, the task records and the worker records.
// Waiting uses three futex words in the header (task_seq for fetch, space_seq for submit,
// done_seq for wait): a waiter reads its word under the lock, unlocks and sleeps while it is
// unchanged; whoever changes the state bumps the word under the lock and wakes everyone after
// unlocking. No waiter count is kept anywhere, so a waiter or a waker SIGKILLed at any point leaves
// nothing to repair.
//
// The records are the truth; the ring and the counts can be rebuilt from them. Every write of
// shared state is ordered so that a process killed between any two of them leaves a state that
// Recover() turns back into a consistent one; the MINIRAY_CRASH_POINTs mark those places (they
// are empty except in the fault-injection build, see native-common/include/miniray/crash_point.h).
#include "scheduler.h"

#include <time.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <unordered_set>

#include "miniray/crash_point.h"
#include "miniray/errors.h"
#include "miniray/futex.h"

namespace miniray::phase3 {

// ---- given: create, open, unlink, locking ---------------------------------------------------------

Scheduler::Scheduler(std::unique_ptr<Segment> segment, const Geometry& geometry, uint32_t lock_timeout_ms)
    : segment_(std::move(segment)),
      geometry_(geometry),
      queue_(*segment_, geometry_),
      tasks_(*segment_, geometry_),
      workers_(*segment_, geometry_),
      lock_timeout_ms_(lock_timeout_ms) {}

Scheduler::~Scheduler() {
  // A lock taken with Lock() and never released would stay on this thread's robust list after the
  // unmap, and the next lock of any robust mutex would touch unmapped memory.
  if (debug_locked_) {
    debug_locked_ = false;
    header()->mutex.Unlock();
  }
}

std::unique_ptr<Scheduler> Scheduler::Create(const std::string& name, const SchedulerOptions& options) {
  Segment::ValidateName(name);
  const Geometry g = ComputeGeometry(options);
  auto segment = Segment::Create(name, g.segment_size);
  try {
    std::unique_ptr<Scheduler> s(new Scheduler(std::move(segment), g, options.lock_timeout_ms));
    SchedulerHeader* h = s->header();
    h->common.state.store(CommonHeader::kInitialising, std::memory_order_relaxed);
    h->common.layout_version = kLayoutVersion;
    h->common.segment_size = g.segment_size;
    h->mutex.Init();
    WriteGeometry(h, g);
    // Everything else (ring, records, counters) is zero, which is the empty state.
    h->common.magic = kMagic;
    PublishReady(&h->common);
    return s;
  } catch (...) {
    try {
      Segment::Unlink(name);  // nothing half-made stays behind in /dev/shm
    } catch (const Error&) {
    }
    throw;
  }
}

std::unique_ptr<Scheduler> Scheduler::Open(const std::string& name, uint32_t lock_timeout_ms) {
  CheckSegmentOwner(name);
  auto segment = Segment::Open(name);
  CheckHeader(*segment, kMagic, kLayoutVersion, lock_timeout_ms);
  const Geometry g = ReadGeometry(*segment);
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(segment), g, lock_timeout_ms));
}

void Scheduler::Unlink(const std::string& name) { Segment::Unlink(name); }

void Scheduler::CheckOpen() const {
  if (closed_.load()) throw Error(ErrorCode::kClosed, "scheduler is closed");
}

void Scheduler::RecoverIfNeeded(bool previous_holder_died) {
  SchedulerHeader* h = header();
  // Marked first: if Recover() throws, or this process dies in it, the next locker tries again.
  if (previous_holder_died) h->needs_recovery = 1;
  if (h->needs_recovery == 0) return;
  Recover();
  h->needs_recovery = 0;
}

// Scoped lock that repairs the segment when the previous holder died inside its critical section.
#define MINIRAY_LOCKED()                                  \
  LockGuard guard(header()->mutex, lock_timeout_ms_);     \
  RecoverIfNeeded(guard.recovered())

void Scheduler::Lock() {
  CheckOpen();
  if (debug_locked_) throw Error(ErrorCode::kDeadlock, "this handle already holds the lock");
  bool died = header()->mutex.Lock(lock_timeout_ms_);
  try {
    RecoverIfNeeded(died);
  } catch (...) {
    header()->mutex.Unlock();
    throw;
  }
  debug_locked_ = true;
}

void Scheduler::Unlock() {
  if (!debug_locked_) throw Error(ErrorCode::kInvalidArgument, "this handle does not hold the lock");
  debug_locked_ = false;
  header()->mutex.Unlock();
}

// ---- given: helpers for the waiting loops -------------------------------------------------------

namespace {

// A waiter re-checks at least this often, in case a waker died between its bump and its wake.
constexpr int64_t kMaxSleepMs = 5000;

// Milliseconds left until `deadline` (-1: no deadline), capped at kMaxSleepMs; 0 when it passed.
int64_t SleepFor(int64_t deadline) {
  if (deadline < 0) return kMaxSleepMs;
  return std::clamp<int64_t>(deadline - MonotonicMs(), 0, kMaxSleepMs);
}

// The deadline of a wait of `timeout_ms` (0: do not wait; -1: none) starting now.
[[maybe_unused]] int64_t DeadlineOf(int64_t timeout_ms) {
  return timeout_ms <= 0 ? timeout_ms : MonotonicMs() + timeout_ms;
}

// True when `deadline` (from DeadlineOf) has passed; a deadline of 0 (do not wait) always has.
[[maybe_unused]] bool Expired(int64_t deadline) {
  return deadline == 0 || (deadline > 0 && MonotonicMs() >= deadline);
}

[[maybe_unused]] const char* StateName(uint32_t state) {
  switch (static_cast<TaskState>(state)) {
    case TaskState::kFree: return "free";
    case TaskState::kQueued: return "queued";
    case TaskState::kLeased: return "leased";
    case TaskState::kDone: return "done";
    case TaskState::kFailed: return "failed";
  }
  return "corrupt";
}

// Bumps a futex word (under the lock); wake its sleepers with FutexWakeAll after unlocking.
[[maybe_unused]] void Bump(std::atomic<uint32_t>& word) { word.fetch_add(1, std::memory_order_release); }

// Copies `text` into a fixed field, returning its length (the caller checked it fits).
[[maybe_unused]] uint32_t CopyText(char* field, size_t capacity, const std::string& text) {
  const size_t n = std::min(text.size(), capacity - 1);
  std::memcpy(field, text.data(), n);
  field[n] = '\0';
  return static_cast<uint32_t>(n);
}

}  // namespace

// The one place a waiting loop sleeps: outside the lock, on a word read under it.
void Scheduler::SleepOn(std::atomic<uint32_t>& word, uint32_t seen, int64_t deadline, const char* what) {
  FutexWait(&word, seen, SleepFor(deadline));
  if (closed_.load()) {
    throw Error(ErrorCode::kClosed, std::string("scheduler was closed while ") + what + "() waited");
  }
}

// ---- the scheduler ------------------------------------------------------------------------------

namespace {

// Spin, then sleep. A task round trip between two processes is two hand-offs (submit -> fetch,
// complete -> wait). When the waiter sleeps, each hand-off costs a futex wake-up: the waker enters
// the kernel, and the sleeper's CPU, idle by then, must be woken and scheduled (5-8 us a hand-off
// on a 2-core VM: most of a 15-20 us round trip). The other side usually answers within a few
// microseconds, so fetch() and wait() first watch their word for a bounded time.
//
// The bound, 10 us, is about what the sleep and wake-up it saves cost, and 3-4 times a hand-off
// when the other side has a core of its own (2.5-3.5 us). A spin does not pay when the other side
// takes longer than that (a long task: the spin is wasted) or waits for this very core (more
// runnable processes than cores: every hand-off pays the whole spin, which can double a round
// trip on a busy machine). Both show as a spin that ran out before a wake-up came. Then this
// handle skips its next spins (2, 4, ..., 64 of them) before it tries again, and each spin that
// pays halves that number: a handle spins while spinning pays, and mostly sleeps, as before,
// when it does not. A wait that times out says nothing about that and changes nothing. Giving the
// core away while spinning (sched_yield) was tried and is worse: on a busy machine the core can
// go to an unrelated process for its whole time slice, milliseconds, where a woken sleeper is
// scheduled at once.
//
// A spin decides nothing: a changed word only sends the caller back to re-check under the lock,
// and the spin ends at the deadline, so a wait returns neither earlier nor later than before.
constexpr int64_t kSpinNs = 10000;
constexpr uint32_t kMaxSpinsSkipped = 64;

int64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// Watches `word` without the lock until it moves on from `seen`: true when it did within the
// spin, false when the spin (or the deadline, see DeadlineOf) ran out first.
bool SpinWhileUnchanged(const std::atomic<uint32_t>& word, uint32_t seen, int64_t deadline) {
  int64_t end = MonotonicNs() + kSpinNs;
  if (deadline > 0) end = std::min(end, deadline * 1000000);
  for (uint32_t i = 1; word.load(std::memory_order_acquire) == seen; ++i) {
    if (i % 8 == 0 && MonotonicNs() >= end) return false;
    CpuRelax();
  }
  return true;
}

}  // namespace

void Scheduler::SpinThenSleepOn(std::atomic<uint32_t>& word, uint32_t seen, int64_t deadline, const char* what) {
  // Relaxed loads and stores: the fields are hints for this handle's next waits; a lost update
  // between threads waiting at once costs at most one spin too many or too few.
  const uint32_t skip = spins_to_skip_.load(std::memory_order_relaxed);
  if (skip > 0) {
    spins_to_skip_.store(skip - 1, std::memory_order_relaxed);
    SleepOn(word, seen, deadline, what);
    return;
  }
  if (SpinWhileUnchanged(word, seen, deadline)) {
    spin_backoff_.store(spin_backoff_.load(std::memory_order_relaxed) / 2, std::memory_order_relaxed);
    if (closed_.load()) {
      throw Error(ErrorCode::kClosed, std::string("scheduler was closed while ") + what + "() waited");
    }
    return;
  }
  SleepOn(word, seen, deadline, what);
  // Woken (not timed out) after the spin gave up: the spin did not pay.
  if (word.load(std::memory_order_acquire) != seen) {
    const uint32_t backoff = std::min(kMaxSpinsSkipped, std::max(2u, 2 * spin_backoff_.load(std::memory_order_relaxed)));
    spin_backoff_.store(backoff, std::memory_order_relaxed);
    spins_to_skip_.store(backoff, std::memory_order_relaxed);
  }
}

WorkerRecord* Scheduler::OwnWorker(uint64_t worker) const {
  WorkerRecord* w = workers_.Find(worker);
  if (w == nullptr) {
    throw Error(ErrorCode::kWorkerNotFound, "no live worker " + std::to_string(worker) +
                                                " (never registered, retired, or reaped as dead)");
  }
  if (!(w->process == SelfIdentity())) {
    throw Error(ErrorCode::kWorkerNotFound, "worker " + std::to_string(worker) + " belongs to pid " +
                                                std::to_string(w->process.pid) + ", not to this process");
  }
  return w;
}

void Scheduler::PushLocked(TaskRecord* r, uint64_t limit) {
  r->queued_seq = queue_.tail();
  MINIRAY_CRASH_POINT("phase3.push.after_seq");
  r->state = static_cast<uint32_t>(TaskState::kQueued);
  MINIRAY_CRASH_POINT("phase3.push.after_state");
  if (!queue_.Push(tasks_.IdOf(r), limit)) {
    throw Error(ErrorCode::kSegmentCorrupt, "the task ring has no slot for a queued task");
  }
  MINIRAY_CRASH_POINT("phase3.push.after_tail");
  Bump(header()->task_seq);
}


uint64_t Scheduler::Submit(const TaskSpec& spec, int64_t timeout_ms) {
  CheckOpen();
  if (spec.fn.empty() || spec.fn.size() > kMaxFnBytes) {
    throw Error(ErrorCode::kInvalidArgument, "fn must be 1.." + std::to_string(kMaxFnBytes) +
                                                 " bytes of UTF-8, got " + std::to_string(spec.fn.size()));
  }
  if (spec.args.size() > kMaxArgs) {
    throw Error(ErrorCode::kInvalidArgument, "a task takes at most " + std::to_string(kMaxArgs) +
                                                 " object ids, got " + std::to_string(spec.args.size()));
  }
  if (spec.max_attempts > kMaxAttempts) {
    throw Error(ErrorCode::kInvalidArgument, "maxAttempts must be 1.." + std::to_string(kMaxAttempts) +
                                                 ", got " + std::to_string(spec.max_attempts));
  }
  const ProcessIdentity self = SelfIdentity();
  const int64_t deadline = DeadlineOf(timeout_ms);
  for (;;) {
    uint32_t seen = 0;
    std::optional<uint64_t> queued;
    {
      MINIRAY_LOCKED();
      CheckOpen();
      SchedulerHeader* h = header();
      const uint64_t size = queue_.Size();
      const bool ring_full = size >= geometry_.queue_capacity;
      TaskRecord* r = ring_full ? nullptr : tasks_.Allocate();
      if (r != nullptr) {
        // The record is still kFree: nothing below is visible until PushLocked sets kQueued.
        r->attempts = 0;
        r->max_attempts = spec.max_attempts != 0 ? spec.max_attempts : geometry_.default_max_attempts;
        r->worker = 0;
        r->owner = self;
        r->fn_len = CopyText(r->fn, sizeof r->fn, spec.fn);
        r->nargs = static_cast<uint32_t>(spec.args.size());
        std::copy(spec.args.begin(), spec.args.end(), r->args);
        r->error_len = 0;
        MINIRAY_CRASH_POINT("phase3.submit.after_fields");
        h->submitted += 1;
        MINIRAY_CRASH_POINT("phase3.submit.after_total");
        h->tasks_used += 1;
        MINIRAY_CRASH_POINT("phase3.submit.after_used");
        PushLocked(r, geometry_.queue_capacity);
        queued = tasks_.IdOf(r);
      } else {
        const std::string why =
            ring_full ? "the queue holds " + std::to_string(size) + " tasks, its capacity"
                      : "all " + std::to_string(geometry_.max_tasks) +
                            " task records are in use (finished tasks stay until wait() collects them)";
        if (Expired(deadline)) {
          throw Error(ErrorCode::kQueueFull,
                      why + (timeout_ms > 0 ? "; waited " + std::to_string(timeout_ms) + " ms" : ""));
        }
        // Read under the lock: a fetch after this point changes it, so the sleep cannot miss it.
        seen = h->space_seq.load(std::memory_order_acquire);
      }
    }
    if (queued.has_value()) {
      FutexWakeAll(&header()->task_seq);
      return *queued;
    }
    SleepOn(header()->space_seq, seen, deadline, "submit");
  }
}

uint64_t Scheduler::RegisterWorker() {
  CheckOpen();
  const ProcessIdentity self = SelfIdentity();
  MINIRAY_LOCKED();
  CheckOpen();
  const uint64_t id = workers_.Register(self, MonotonicMs());
  own_workers_.push_back(id);
  return id;
}

std::optional<Task> Scheduler::Fetch(uint64_t worker, int64_t timeout_ms) {
  CheckOpen();
  const int64_t deadline = DeadlineOf(timeout_ms);
  for (;;) {
    uint32_t seen = 0;
    std::optional<Task> task;
    {
      MINIRAY_LOCKED();
      CheckOpen();
      SchedulerHeader* h = header();
      WorkerRecord* w = OwnWorker(worker);
      if (w->state == static_cast<uint32_t>(WorkerState::kBusy)) {
        throw Error(ErrorCode::kInvalidArgument, "worker " + std::to_string(worker) + " still holds task " +
                                                     std::to_string(w->task) + ": complete() or fail() it first");
      }
      w->heartbeat_ms = MonotonicMs();  // waiting for work is a sign of life
      if (queue_.Size() > 0) {
        // Checked before anything changes: a ring entry is a value read from the segment.
        const uint64_t id = queue_.At(queue_.head());
        TaskRecord* r = tasks_.Find(id);
        if (r == nullptr || r->state != static_cast<uint32_t>(TaskState::kQueued) ||
            r->fn_len > kMaxFnBytes || r->nargs > kMaxArgs) {
          throw Error(ErrorCode::kSegmentCorrupt, "the ring's head names task " + std::to_string(id) +
                                                      ", which is not a valid queued task");
        }
        queue_.Pop();
        MINIRAY_CRASH_POINT("phase3.fetch.after_pop");
        r->attempts += 1;
        MINIRAY_CRASH_POINT("phase3.fetch.after_attempts");
        r->worker = worker;
        MINIRAY_CRASH_POINT("phase3.fetch.after_worker");
        r->state = static_cast<uint32_t>(TaskState::kLeased);
        MINIRAY_CRASH_POINT("phase3.fetch.after_state");
        h->tasks_leased += 1;
        MINIRAY_CRASH_POINT("phase3.fetch.after_count");
        w->task = id;
        MINIRAY_CRASH_POINT("phase3.fetch.after_task");
        w->state = static_cast<uint32_t>(WorkerState::kBusy);
        Bump(h->space_seq);
        task = Task{id, std::string(r->fn, r->fn_len), std::vector<ObjectId>(r->args, r->args + r->nargs),
                    r->attempts, r->max_attempts};
      } else {
        if (Expired(deadline)) return std::nullopt;
        seen = h->task_seq.load(std::memory_order_acquire);
      }
    }
    if (task.has_value()) {
      FutexWakeAll(&header()->space_seq);
      return task;
    }
    SpinThenSleepOn(header()->task_seq, seen, deadline, "fetch");
  }
}

void Scheduler::FinishLocked(TaskRecord* r, WorkerRecord* w, TaskState state) {
  SchedulerHeader* h = header();
  if (state == TaskState::kDone) {
    h->completed += 1;
  } else {
    h->failed_total += 1;
  }
  MINIRAY_CRASH_POINT("phase3.finish.after_total");
  r->state = static_cast<uint32_t>(state);
  MINIRAY_CRASH_POINT("phase3.finish.after_state");
  h->tasks_leased -= 1;
  MINIRAY_CRASH_POINT("phase3.finish.after_leased");
  if (state == TaskState::kDone) {
    h->tasks_done += 1;
  } else {
    h->tasks_failed += 1;
  }
  MINIRAY_CRASH_POINT("phase3.finish.after_count");
  if (w != nullptr) {
    w->task = 0;
    MINIRAY_CRASH_POINT("phase3.finish.after_worker_task");
    w->state = static_cast<uint32_t>(WorkerState::kIdle);
    MINIRAY_CRASH_POINT("phase3.finish.after_worker_state");
    w->tasks_done += 1;
    w->heartbeat_ms = MonotonicMs();
  }
  Bump(h->done_seq);
}

// The record of `task` if `worker`, a live worker of this process, holds its lease.
static TaskRecord* LeasedTo(const TaskTable& tasks, const WorkerTable& workers, uint64_t worker, uint64_t task,
                            WorkerRecord** out) {
  TaskRecord* r = tasks.Find(task);
  if (r == nullptr) {
    throw Error(ErrorCode::kTaskNotFound, "no task " + std::to_string(task) + " (never submitted, or already collected)");
  }
  if (r->state != static_cast<uint32_t>(TaskState::kLeased) || r->worker != worker) {
    throw Error(ErrorCode::kNotLeased, "task " + std::to_string(task) + " is " + StateName(r->state) +
                                           (r->state == static_cast<uint32_t>(TaskState::kLeased)
                                                ? " to worker " + std::to_string(r->worker)
                                                : std::string()) +
                                           ", not leased to worker " + std::to_string(worker));
  }
  WorkerRecord* w = workers.Find(worker);
  if (w == nullptr || !(w->process == SelfIdentity())) {
    throw Error(ErrorCode::kNotLeased, "worker " + std::to_string(worker) + " is not a live worker of this process");
  }
  if (w->task != task) {
    throw Error(ErrorCode::kSegmentCorrupt, "task " + std::to_string(task) + " is leased to worker " +
                                                std::to_string(worker) + ", which holds task " + std::to_string(w->task));
  }
  *out = w;
  return r;
}

void Scheduler::Complete(uint64_t worker, uint64_t task, const ObjectId& result) {
  CheckOpen();
  {
    MINIRAY_LOCKED();
    CheckOpen();
    WorkerRecord* w = nullptr;
    TaskRecord* r = LeasedTo(tasks_, workers_, worker, task, &w);
    r->result = result;
    MINIRAY_CRASH_POINT("phase3.complete.after_result");
    FinishLocked(r, w, TaskState::kDone);
  }
  FutexWakeAll(&header()->done_seq);
}

void Scheduler::Fail(uint64_t worker, uint64_t task, const std::string& message) {
  CheckOpen();
  if (message.size() > kMaxErrorBytes) {
    throw Error(ErrorCode::kInvalidArgument, "a failure message is at most " + std::to_string(kMaxErrorBytes) +
                                                 " bytes, got " + std::to_string(message.size()));
  }
  {
    MINIRAY_LOCKED();
    CheckOpen();
    WorkerRecord* w = nullptr;
    TaskRecord* r = LeasedTo(tasks_, workers_, worker, task, &w);
    r->error_len = CopyText(r->error, sizeof r->error, message);
    MINIRAY_CRASH_POINT("phase3.fail.after_error");
    FinishLocked(r, w, TaskState::kFailed);
  }
  FutexWakeAll(&header()->done_seq);
}

void Scheduler::Heartbeat(uint64_t worker) {
  CheckOpen();
  MINIRAY_LOCKED();
  CheckOpen();
  OwnWorker(worker)->heartbeat_ms = MonotonicMs();
}

TaskOutcome Scheduler::Wait(uint64_t task, int64_t timeout_ms) {
  CheckOpen();
  const int64_t deadline = DeadlineOf(timeout_ms);
  for (;;) {
    uint32_t seen = 0;
    std::optional<TaskOutcome> outcome;
    {
      MINIRAY_LOCKED();
      CheckOpen();
      SchedulerHeader* h = header();
      TaskRecord* r = tasks_.Find(task);
      if (r == nullptr) {
        throw Error(ErrorCode::kTaskNotFound, "no task " + std::to_string(task) +
                                                  " (never submitted, or its outcome was already collected)");
      }
      const auto state = static_cast<TaskState>(r->state);
      if (state == TaskState::kDone || state == TaskState::kFailed) {
        if (r->error_len > kMaxErrorBytes) {
          throw Error(ErrorCode::kSegmentCorrupt, "task " + std::to_string(task) + " has an error of " +
                                                      std::to_string(r->error_len) + " bytes");
        }
        TaskOutcome out{state, r->result, std::string(), r->attempts, r->worker};
        if (state == TaskState::kFailed) out.error.assign(r->error, r->error_len);
        tasks_.Free(r);
        MINIRAY_CRASH_POINT("phase3.wait.after_free");
        Bump(h->space_seq);
        outcome = std::move(out);
      } else if (Expired(deadline)) {
        throw Error(ErrorCode::kTimeout, "task " + std::to_string(task) + " is still " + StateName(r->state) +
                                             " (attempt " + std::to_string(r->attempts) + " of " +
                                             std::to_string(r->max_attempts) + ")" +
                                             (timeout_ms > 0 ? " after " + std::to_string(timeout_ms) + " ms" : ""));
      } else {
        seen = h->done_seq.load(std::memory_order_acquire);
      }
    }
    if (outcome.has_value()) {
      FutexWakeAll(&header()->space_seq);
      return std::move(*outcome);
    }
    SpinThenSleepOn(header()->done_seq, seen, deadline, "wait");
  }
}

TaskInfo Scheduler::Inspect(uint64_t task) {
  CheckOpen();
  MINIRAY_LOCKED();
  CheckOpen();
  TaskRecord* r = tasks_.Find(task);
  if (r == nullptr) {
    throw Error(ErrorCode::kTaskNotFound, "no task " + std::to_string(task) + " (never submitted, or already collected)");
  }
  if (r->fn_len > kMaxFnBytes || r->state > static_cast<uint32_t>(TaskState::kFailed)) {
    throw Error(ErrorCode::kSegmentCorrupt, "task record of " + std::to_string(task) + " is corrupt");
  }
  const bool leased = r->state == static_cast<uint32_t>(TaskState::kLeased);
  return TaskInfo{task, static_cast<TaskState>(r->state), r->attempts, r->max_attempts, leased ? r->worker : 0,
                  std::string(r->fn, r->fn_len)};
}

bool Scheduler::RequeueOrFailLocked(TaskRecord* r, const std::string& why) {
  SchedulerHeader* h = header();
  if (r->attempts >= r->max_attempts) {
    const std::string message = why + "; it failed after " + std::to_string(r->attempts) + " of " +
                                std::to_string(r->max_attempts) + " attempts";
    r->error_len = CopyText(r->error, sizeof r->error, message);
    MINIRAY_CRASH_POINT("phase3.requeue.after_error");
    FinishLocked(r, nullptr, TaskState::kFailed);
    return false;
  }
  h->requeued += 1;
  MINIRAY_CRASH_POINT("phase3.requeue.after_total");
  r->worker = 0;
  MINIRAY_CRASH_POINT("phase3.requeue.after_worker");
  h->tasks_leased -= 1;
  MINIRAY_CRASH_POINT("phase3.requeue.after_count");
  // Always room: at most one task per worker is leased, and the ring has max_workers slots more
  // than submit may fill.
  PushLocked(r, geometry_.ring_slots);
  return true;
}

ReapReport Scheduler::Reap() {
  CheckOpen();
  struct Seen {
    uint64_t id;
    ProcessIdentity who;
  };
  std::vector<Seen> live;
  std::vector<ProcessIdentity> owners;
  {
    // 1. Who is there (under the lock, quickly).
    MINIRAY_LOCKED();
    CheckOpen();
    for (uint32_t slot = 0; slot < workers_.slots(); ++slot) {
      const WorkerRecord* w = workers_.At(slot);
      const auto state = static_cast<WorkerState>(w->state);
      if (state == WorkerState::kIdle || state == WorkerState::kBusy) live.push_back({workers_.IdOf(w), w->process});
    }
    for (uint32_t slot = 0; slot < tasks_.slots(); ++slot) {
      const TaskRecord* r = tasks_.At(slot);
      const auto state = static_cast<TaskState>(r->state);
      if ((state == TaskState::kDone || state == TaskState::kFailed) &&
          std::find(owners.begin(), owners.end(), r->owner) == owners.end()) {
        owners.push_back(r->owner);
      }
    }
  }
  // 2. Who is gone: /proc reads, outside the lock (a thousand of them would stall every process).
  std::unordered_set<uint64_t> gone;
  for (const Seen& s : live) {
    if (!IsAlive(s.who)) gone.insert(s.id);
  }
  std::vector<ProcessIdentity> dead_owners;
  for (const ProcessIdentity& o : owners) {
    if (!IsAlive(o)) dead_owners.push_back(o);
  }
  // 3. Reap (under the lock again). A slot reused meanwhile has a new id, so it is not in `gone`.
  ReapReport report{};
  {
    MINIRAY_LOCKED();
    CheckOpen();
    SchedulerHeader* h = header();
    const int64_t now = MonotonicMs();
    for (uint32_t slot = 0; slot < workers_.slots(); ++slot) {
      WorkerRecord* w = workers_.At(slot);
      const auto state = static_cast<WorkerState>(w->state);
      if (state != WorkerState::kIdle && state != WorkerState::kBusy) continue;
      const uint64_t id = workers_.IdOf(w);
      const bool dead = gone.count(id) != 0;
      const int64_t silent = now - w->heartbeat_ms;
      const bool expired = state == WorkerState::kBusy && geometry_.lease_ms > 0 && silent > geometry_.lease_ms;
      if (!dead && !expired) continue;
      if (state == WorkerState::kBusy) {
        TaskRecord* r = tasks_.Find(w->task);
        if (r != nullptr && r->state == static_cast<uint32_t>(TaskState::kLeased) && r->worker == id) {
          const std::string why = "worker " + std::to_string(id) + " (pid " + std::to_string(w->process.pid) + ") " +
                                  (dead ? "died while running it" : "sent no heartbeat for " + std::to_string(silent) + " ms");
          if (RequeueOrFailLocked(r, why)) {
            report.requeued += 1;
          } else {
            report.failed += 1;
          }
        }
      }
      MINIRAY_CRASH_POINT("phase3.reap.after_task");
      w->task = 0;
      MINIRAY_CRASH_POINT("phase3.reap.after_worker_task");
      w->state = static_cast<uint32_t>(WorkerState::kDead);
      MINIRAY_CRASH_POINT("phase3.reap.after_worker_state");
      h->reaped_workers += 1;
      report.dead_workers += 1;
    }
    if (!dead_owners.empty()) {
      for (uint32_t slot = 0; slot < tasks_.slots(); ++slot) {
        TaskRecord* r = tasks_.At(slot);
        const auto state = static_cast<TaskState>(r->state);
        if ((state == TaskState::kDone || state == TaskState::kFailed) &&
            std::find(dead_owners.begin(), dead_owners.end(), r->owner) != dead_owners.end()) {
          tasks_.Free(r);
          MINIRAY_CRASH_POINT("phase3.reap.after_reclaim");
          report.reclaimed += 1;
        }
      }
      if (report.reclaimed > 0) Bump(h->space_seq);
    }
  }
  if (report.requeued > 0) FutexWakeAll(&header()->task_seq);
  if (report.failed > 0) FutexWakeAll(&header()->done_seq);
  if (report.reclaimed > 0) FutexWakeAll(&header()->space_seq);
  return report;
}

std::vector<WorkerInfo> Scheduler::Workers() {
  CheckOpen();
  MINIRAY_LOCKED();
  CheckOpen();
  const int64_t now = MonotonicMs();
  std::vector<WorkerInfo> out;
  for (uint32_t slot = 0; slot < workers_.slots(); ++slot) {
    const WorkerRecord* w = workers_.At(slot);
    const auto state = static_cast<WorkerState>(w->state);
    if (state == WorkerState::kEmpty) continue;
    if (state > WorkerState::kDead) {
      throw Error(ErrorCode::kSegmentCorrupt, "worker slot " + std::to_string(slot) + " has state " + std::to_string(w->state));
    }
    out.push_back(WorkerInfo{workers_.IdOf(w), state, w->process, state == WorkerState::kBusy ? w->task : 0,
                             now - w->heartbeat_ms, w->tasks_done});
  }
  return out;
}

SchedulerStats Scheduler::Stats() {
  CheckOpen();
  MINIRAY_LOCKED();
  CheckOpen();
  const SchedulerHeader* h = header();
  SchedulerStats s{};
  s.segment_size = geometry_.segment_size;
  s.queue_capacity = geometry_.queue_capacity;
  s.ring_slots = geometry_.ring_slots;
  s.queued = queue_.Size();
  s.head = queue_.head();
  s.tail = queue_.tail();
  s.max_tasks = geometry_.max_tasks;
  s.tasks = h->tasks_used;
  s.leased = h->tasks_leased;
  s.done = h->tasks_done;
  s.failed = h->tasks_failed;
  s.max_workers = geometry_.max_workers;
  for (uint32_t slot = 0; slot < workers_.slots(); ++slot) {
    const auto state = static_cast<WorkerState>(workers_.At(slot)->state);
    if (state == WorkerState::kIdle || state == WorkerState::kBusy) s.workers += 1;
    if (state == WorkerState::kBusy) s.busy_workers += 1;
    if (state == WorkerState::kDead) s.dead_workers += 1;
  }
  s.submitted = h->submitted;
  s.completed = h->completed;
  s.failed_total = h->failed_total;
  s.requeued = h->requeued;
  s.reaped_workers = h->reaped_workers;
  s.lock_recoveries = h->mutex.recoveries.load();
  return s;
}

void Scheduler::Close() {
  if (closed_.exchange(true)) return;
  SchedulerHeader* h = header();
  if (debug_locked_) {
    debug_locked_ = false;
    h->mutex.Unlock();
  }
  bool requeued = false;
  try {
    LockGuard guard(h->mutex, lock_timeout_ms_);
    RecoverIfNeeded(guard.recovered());
    // Retire this handle's workers: what they hold goes back to the queue, as if they had died.
    for (uint64_t id : own_workers_) {
      WorkerRecord* w = workers_.Find(id);
      if (w == nullptr) continue;
      if (w->state == static_cast<uint32_t>(WorkerState::kBusy)) {
        TaskRecord* r = tasks_.Find(w->task);
        if (r != nullptr && r->state == static_cast<uint32_t>(TaskState::kLeased) && r->worker == id) {
          requeued = RequeueOrFailLocked(r, "worker " + std::to_string(id) + " was closed while running it") || requeued;
        }
      }
      w->task = 0;
      MINIRAY_CRASH_POINT("phase3.close.after_worker_task");
      w->state = static_cast<uint32_t>(WorkerState::kDead);
    }
    own_workers_.clear();
  } catch (const Error&) {
    // Closing never fails; workers we could not retire stay (as if this process had died).
  }
  // Wakes this handle's waits (in every process, harmlessly: they re-check and sleep again).
  Bump(h->task_seq);
  Bump(h->space_seq);
  Bump(h->done_seq);
  FutexWakeAll(&h->task_seq);
  FutexWakeAll(&h->space_seq);
  FutexWakeAll(&h->done_seq);
  (void)requeued;
}

void Scheduler::Recover() {
  // The dead holder may have stopped between any two writes of Submit, Fetch, Complete, Fail, Wait,
  // Reap, Close or an earlier Recover. The records are the truth: recount them, give each leased
  // task to the worker it names (or back to the queue when that worker is gone), and rebuild the
  // ring from the queued records in their order. Running it twice gives the same result, so a
  // recovery that is itself interrupted is simply run again.
  SchedulerHeader* h = header();
  struct Queued {
    uint64_t seq;
    uint32_t slot;
  };
  std::vector<Queued> queued;
  std::vector<TaskRecord*> leased;
  uint64_t used = 0;
  uint64_t done = 0;
  uint64_t failed = 0;
  for (uint32_t slot = 0; slot < tasks_.slots(); ++slot) {
    TaskRecord* r = tasks_.At(slot);
    const auto state = static_cast<TaskState>(r->state);
    if (state == TaskState::kFree) continue;
    if (state > TaskState::kFailed || r->fn_len > kMaxFnBytes || r->nargs > kMaxArgs || r->error_len > kMaxErrorBytes) {
      throw Error(ErrorCode::kSegmentCorrupt, "task record " + std::to_string(slot) + " is corrupt (state " +
                                                  std::to_string(r->state) + ")");
    }
    used += 1;
    if (state == TaskState::kQueued) queued.push_back({r->queued_seq, slot});
    if (state == TaskState::kLeased) leased.push_back(r);
    if (state == TaskState::kDone) done += 1;
    if (state == TaskState::kFailed) failed += 1;
  }
  for (uint32_t slot = 0; slot < workers_.slots(); ++slot) {
    WorkerRecord* w = workers_.At(slot);
    const auto state = static_cast<WorkerState>(w->state);
    if (state > WorkerState::kDead) {
      throw Error(ErrorCode::kSegmentCorrupt, "worker record " + std::to_string(slot) + " is corrupt (state " +
                                                  std::to_string(w->state) + ")");
    }
    if (state == WorkerState::kIdle || state == WorkerState::kBusy) {
      w->task = 0;
      w->state = static_cast<uint32_t>(WorkerState::kIdle);
    } else {
      w->task = 0;
    }
  }
  uint64_t nleased = 0;
  for (TaskRecord* r : leased) {
    WorkerRecord* w = workers_.Find(r->worker);
    if (w != nullptr && w->task == 0) {
      w->task = tasks_.IdOf(r);
      w->state = static_cast<uint32_t>(WorkerState::kBusy);
      nleased += 1;
    } else if (r->attempts >= r->max_attempts) {
      // Its worker is gone and it has had all its leases.
      r->error_len = CopyText(r->error, sizeof r->error, "its worker was gone when a dead lock holder's state was repaired");
      r->state = static_cast<uint32_t>(TaskState::kFailed);
      failed += 1;
    } else {
      // Its worker is gone (or holds another task): back to the queue, behind everything else.
      // The lease it used stays counted in attempts.
      r->worker = 0;
      r->queued_seq = UINT64_MAX;
      r->state = static_cast<uint32_t>(TaskState::kQueued);
      queued.push_back({UINT64_MAX, static_cast<uint32_t>(r - tasks_.At(0))});
    }
  }
  std::stable_sort(queued.begin(), queued.end(), [](const Queued& a, const Queued& b) { return a.seq < b.seq; });
  std::vector<uint64_t> ids;
  ids.reserve(queued.size());
  for (const Queued& q : queued) ids.push_back(tasks_.IdOf(tasks_.At(q.slot)));
  queue_.Rebuild(ids);
  for (uint64_t i = 0; i < queued.size(); ++i) tasks_.At(queued[i].slot)->queued_seq = queue_.head() + i;
  h->tasks_used = used;
  h->tasks_leased = nleased;
  h->tasks_done = done;
  h->tasks_failed = failed;
  // Wake everyone: a waker may have died between its bump and its wake.
  Bump(h->task_seq);
  Bump(h->space_seq);
  Bump(h->done_seq);
  FutexWakeAll(&h->task_seq);
  FutexWakeAll(&h->space_seq);
  FutexWakeAll(&h->done_seq);
}

}  // namespace miniray::phase3
