// Phase 3: YOUR CODE GOES HERE (the scheduler: submit, fetch, complete, wait, reap, recover).
//
// Every function marked TODO throws "not implemented" until you write it. Creating, opening and
// unlinking the segment are given (on native-common's Segment and RobustMutex, as in phase 2), and
// so are the locking helper MINIRAY_LOCKED(), which runs your Recover() when a lock holder died,
// SleepOn(), the sleep of a waiting loop, and a few small helpers for deadlines, futex words and
// text fields. The lesson is phase3-scheduler/README.md.
#include "scheduler.h"

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

// ---- the scheduler: yours -------------------------------------------------------------------------

WorkerRecord* Scheduler::OwnWorker([[maybe_unused]] uint64_t worker) const {
  // TODO(student) (a helper): the record of `worker` if it is a live worker *of this process*
  // (SelfIdentity()), else ERR_WORKER_NOT_FOUND.
  MINIRAY_TODO("phase3 Scheduler::OwnWorker");
}

void Scheduler::PushLocked([[maybe_unused]] TaskRecord* record, [[maybe_unused]] uint64_t limit) {
  // TODO(student) (a helper for Submit and re-queues): record where in the ring the task goes
  // (queued_seq), mark it queued, push its id, and tell the fetchers (task_seq). If this process is
  // killed between any two of these writes, can Recover() tell what happened?
  MINIRAY_TODO("phase3 Scheduler::PushLocked");
}

uint64_t Scheduler::Submit([[maybe_unused]] const TaskSpec& spec, [[maybe_unused]] int64_t timeout_ms) {
  // TODO(student): check the spec's values (ERR_INVALID_ARGUMENT), then loop: under the lock, if
  // the queue has room (fewer than queue_capacity queued) and a record is free, fill the record
  // and push it; otherwise read space_seq, unlock and SleepOn it until the deadline
  // (ERR_QUEUE_FULL). Wake the fetchers after unlocking.
  MINIRAY_TODO("phase3 Scheduler::Submit");
}

uint64_t Scheduler::RegisterWorker() {
  // TODO(student): a new worker for this process (WorkerTable::Register); remember it in
  // own_workers_ so that Close() can retire it.
  MINIRAY_TODO("phase3 Scheduler::RegisterWorker");
}

std::optional<Task> Scheduler::Fetch([[maybe_unused]] uint64_t worker, [[maybe_unused]] int64_t timeout_ms) {
  // TODO(student): loop: under the lock, check the worker (OwnWorker; ERR_INVALID_ARGUMENT if it
  // still holds a task), and if a task is queued, lease it: attempts + 1, the record names the
  // worker, the worker names the task, both change state, and the submitters learn there is room
  // (space_seq). Otherwise read task_seq, unlock, SleepOn it. nullopt when the time is up. Check the
  // ring entry and the record before you change anything: they were read from the segment.
  MINIRAY_TODO("phase3 Scheduler::Fetch");
}

void Scheduler::FinishLocked([[maybe_unused]] TaskRecord* record, [[maybe_unused]] WorkerRecord* worker,
                             [[maybe_unused]] TaskState state) {
  // TODO(student) (a helper for Complete, Fail and a re-queue that gives up): leased -> done or
  // failed, the counts, the worker (if any) idle again, and the waiters told (done_seq).
  MINIRAY_TODO("phase3 Scheduler::FinishLocked");
}

void Scheduler::Complete([[maybe_unused]] uint64_t worker, [[maybe_unused]] uint64_t task,
                         [[maybe_unused]] const ObjectId& result) {
  // TODO(student): ERR_TASK_NOT_FOUND for an unknown task; ERR_NOT_LEASED unless `worker`, a live
  // worker of this process, holds its lease. Then store the result and finish it.
  MINIRAY_TODO("phase3 Scheduler::Complete");
}

void Scheduler::Fail([[maybe_unused]] uint64_t worker, [[maybe_unused]] uint64_t task,
                     [[maybe_unused]] const std::string& message) {
  // TODO(student): as Complete, with an error message (at most kMaxErrorBytes) instead of a result.
  MINIRAY_TODO("phase3 Scheduler::Fail");
}

void Scheduler::Heartbeat([[maybe_unused]] uint64_t worker) {
  // TODO(student): a sign of life from one of this process's workers.
  MINIRAY_TODO("phase3 Scheduler::Heartbeat");
}

TaskOutcome Scheduler::Wait([[maybe_unused]] uint64_t task, [[maybe_unused]] int64_t timeout_ms) {
  // TODO(student): loop: under the lock, a done or failed task's outcome is copied out and its
  // record freed (the submitters learn there is room); otherwise read done_seq, unlock, SleepOn it.
  // ERR_TASK_NOT_FOUND, ERR_TIMEOUT.
  MINIRAY_TODO("phase3 Scheduler::Wait");
}

TaskInfo Scheduler::Inspect([[maybe_unused]] uint64_t task) {
  // TODO(student): the task as it is now. ERR_TASK_NOT_FOUND.
  MINIRAY_TODO("phase3 Scheduler::Inspect");
}

bool Scheduler::RequeueOrFailLocked([[maybe_unused]] TaskRecord* record, [[maybe_unused]] const std::string& why) {
  // TODO(student) (a helper for Reap and Close): a leased task whose worker is gone goes back to
  // the queue, or fails with `why` once it has used max_attempts leases. The ring always has room
  // for it: why?
  MINIRAY_TODO("phase3 Scheduler::RequeueOrFailLocked");
}

ReapReport Scheduler::Reap() {
  // TODO(student): declare dead every idle or busy worker whose process is gone (IsAlive), and
  // every busy worker silent for longer than the lease; re-queue or fail what they held. Free the
  // finished tasks whose owner is gone. Reading /proc for a thousand workers takes milliseconds:
  // do it outside the lock.
  MINIRAY_TODO("phase3 Scheduler::Reap");
}

std::vector<WorkerInfo> Scheduler::Workers() {
  // TODO(student): every worker record that is not empty.
  MINIRAY_TODO("phase3 Scheduler::Workers");
}

SchedulerStats Scheduler::Stats() {
  // TODO(student): see SchedulerStats in scheduler.h.
  MINIRAY_TODO("phase3 Scheduler::Stats");
}

void Scheduler::Close() {
  // TODO(student): mark the handle closed, release a lock taken with Lock() (see the destructor),
  // retire this handle's workers (what they hold goes back to the queue), and wake every waiter so
  // that this handle's waits end with ERR_CLOSED. Never throws.
  MINIRAY_TODO("phase3 Scheduler::Close");
}

void Scheduler::Recover() {
  // TODO(student): a process died holding the lock, between any two writes of any operation.
  // Rebuild from the task records: recount, give each leased task to the worker it names (or back
  // to the queue), rebuild the ring from the queued records in queued_seq order, and wake everyone.
  MINIRAY_TODO("phase3 Scheduler::Recover");
}

}  // namespace miniray::phase3
