// Phase 3: the scheduler, a task queue and a worker table shared by every process that opens it.
//
// YOU EDIT THIS FILE and scheduler.cc. The public interface is what the given glue
// (phase3-scheduler/glue/addon.cc) calls: keep its signatures. Add private members as you like.
//
// A task's life (the lesson draws it):
//   Submit(spec)             -> kQueued: in the ring, waiting for a worker
//   Fetch(worker)            -> kLeased to that worker (attempts + 1)
//   Complete(worker, result) -> kDone: result is an object id in the phase-2 store
//   Fail(worker, message)    -> kFailed
//   Wait(task)               -> returns the outcome of a finished task and frees its record
//   Reap()                   -> a leased task whose worker died goes back to kQueued, or to
//                               kFailed once it has used max_attempts leases
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "miniray/object_id.h"
#include "miniray/process_identity.h"
#include "scheduler_layout.h"
#include "task_queue.h"
#include "task_table.h"
#include "worker_table.h"

namespace miniray::phase3 {

// What submit() takes. The glue has checked the types; checking the values is Submit's job.
struct TaskSpec {
  std::string fn;                // the function to run, e.g. "demo/tiles.ts#render": 1..127 bytes
  std::vector<ObjectId> args;    // its arguments, objects in the phase-2 store: at most kMaxArgs
  uint32_t max_attempts;         // 0: the scheduler's default; else 1..kMaxAttempts
};

// What fetch() hands a worker.
struct Task {
  uint64_t id;
  std::string fn;
  std::vector<ObjectId> args;
  uint32_t attempt;       // 1 for the first lease, 2 after one worker died holding it, ...
  uint32_t max_attempts;
};

// What wait() returns for a finished task.
struct TaskOutcome {
  TaskState state;        // kDone or kFailed
  ObjectId result;        // kDone
  std::string error;      // kFailed
  uint32_t attempts;
  uint64_t worker;        // kDone: the worker that completed it
};

// inspect(): a task as it is now.
struct TaskInfo {
  uint64_t id;
  TaskState state;
  uint32_t attempts;
  uint32_t max_attempts;
  uint64_t worker;        // while kLeased
  std::string fn;
};

struct WorkerInfo {
  uint64_t id;
  WorkerState state;
  ProcessIdentity process;
  uint64_t task;          // while kBusy
  int64_t heartbeat_age_ms;
  uint64_t tasks_done;
};

// What reap() did.
struct ReapReport {
  uint32_t requeued;      // leased tasks of dead workers put back in the queue
  uint32_t failed;        // ... failed instead, because they had used max_attempts
  uint32_t dead_workers;  // workers declared dead
  uint32_t reclaimed;     // finished tasks freed because the process that submitted them is gone
};

struct SchedulerStats {
  uint64_t segment_size;
  uint64_t queue_capacity;
  uint64_t ring_slots;
  uint64_t queued;        // tail - head
  uint64_t head;
  uint64_t tail;
  uint64_t max_tasks;
  uint64_t tasks;         // records in use: queued + leased + done + failed
  uint64_t leased;
  uint64_t done;          // finished, not yet collected by wait()
  uint64_t failed;        // failed, not yet collected by wait()
  uint64_t max_workers;
  uint64_t workers;       // idle + busy
  uint64_t busy_workers;
  uint64_t dead_workers;
  uint64_t submitted;     // running totals
  uint64_t completed;
  uint64_t failed_total;
  uint64_t requeued;
  uint64_t reaped_workers;
  uint64_t lock_recoveries;
};

class Scheduler {
 public:
  static std::unique_ptr<Scheduler> Create(const std::string& name, const SchedulerOptions& options);
  static std::unique_ptr<Scheduler> Open(const std::string& name, uint32_t lock_timeout_ms);
  static void Unlink(const std::string& name);

  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a task; waits while the queue is full or every record is in use (0: do not wait,
  // -1: no limit), then ERR_QUEUE_FULL. Returns the task id.
  uint64_t Submit(const TaskSpec& spec, int64_t timeout_ms);
  // A new worker for this process. ERR_TABLE_FULL.
  uint64_t RegisterWorker();
  // Leases the oldest queued task to `worker`, waiting for one up to `timeout_ms`; nullopt when
  // none came. ERR_WORKER_NOT_FOUND (not a live worker of this process), ERR_INVALID_ARGUMENT (the
  // worker still holds a task).
  std::optional<Task> Fetch(uint64_t worker, int64_t timeout_ms);
  // The worker holding `task` finishes it. ERR_TASK_NOT_FOUND, ERR_NOT_LEASED.
  void Complete(uint64_t worker, uint64_t task, const ObjectId& result);
  void Fail(uint64_t worker, uint64_t task, const std::string& message);
  // A sign of life from a busy worker. ERR_WORKER_NOT_FOUND.
  void Heartbeat(uint64_t worker);
  // Waits until `task` is done or failed, returns its outcome and frees its record (a task's
  // outcome is collected once). ERR_TASK_NOT_FOUND; ERR_TIMEOUT when it did not finish in time.
  TaskOutcome Wait(uint64_t task, int64_t timeout_ms);
  TaskInfo Inspect(uint64_t task);
  // Declares dead the workers whose process is gone or whose lease expired, and re-queues (or
  // fails) what they held. Any process may call it.
  ReapReport Reap();
  std::vector<WorkerInfo> Workers();
  SchedulerStats Stats();
  // Cancels this handle's waits (ERR_CLOSED) and retires the workers it registered (a task one
  // of them holds goes back to the queue). Every later call fails with ERR_CLOSED. Never throws.
  void Close();

  // The lock, public so that tests can hold it across processes.
  void Lock();
  void Unlock();

  const Geometry& geometry() const { return geometry_; }
  const std::string& name() const { return segment_->name(); }

 private:
  Scheduler(std::unique_ptr<Segment> segment, const Geometry& geometry, uint32_t lock_timeout_ms);
  SchedulerHeader* header() const { return HeaderOf(*segment_); }
  void CheckOpen() const;
  // Runs Recover() when the previous holder died inside the lock, or a recovery did not finish.
  void RecoverIfNeeded(bool previous_holder_died);
  // The sleep of a waiting loop, after unlocking: waits until `word` moves on from `seen` (read
  // under the lock) or `deadline` passes; ERR_CLOSED when Close() ran meanwhile. Given.
  void SleepOn(std::atomic<uint32_t>& word, uint32_t seen, int64_t deadline, const char* what);
  // fetch() and wait(): watch `word` for a few microseconds first, then SleepOn (scheduler.cc).
  void SpinThenSleepOn(std::atomic<uint32_t>& word, uint32_t seen, int64_t deadline, const char* what);
  // Repairs whatever a process that died holding the lock left half-done.
  void Recover();

  // Helpers (the lock held).
  WorkerRecord* OwnWorker(uint64_t worker) const;
  void PushLocked(TaskRecord* record, uint64_t limit);
  void FinishLocked(TaskRecord* record, WorkerRecord* worker, TaskState state);
  // Back to the queue, or kFailed when it has used all its attempts; true when re-queued.
  bool RequeueOrFailLocked(TaskRecord* record, const std::string& why);

  std::unique_ptr<Segment> segment_;
  const Geometry geometry_;  // copied at open, never re-read from the segment
  TaskQueue queue_;
  TaskTable tasks_;
  WorkerTable workers_;
  const uint32_t lock_timeout_ms_;
  std::atomic<bool> closed_{false};
  bool debug_locked_ = false;           // Lock() from JS; only the JS thread touches it
  std::vector<uint64_t> own_workers_;   // registered through this handle (retired by Close)
  // SpinThenSleepOn's hints: how many more waits sleep without spinning, and the backoff (spins
  // skipped after a spin that did not pay: doubled by each such spin, halved by one that did).
  std::atomic<uint32_t> spins_to_skip_{0};
  std::atomic<uint32_t> spin_backoff_{0};
};

}  // namespace miniray::phase3
