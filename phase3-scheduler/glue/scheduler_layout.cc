// Phase 3: computing, writing and (once, at open) reading the segment's geometry. Given.
#include "scheduler_layout.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace miniray::phase3 {

namespace {

constexpr uint64_t kAlign = 64;

[[noreturn]] void Invalid(const std::string& message) {
  throw Error(ErrorCode::kInvalidArgument, message);
}

void InRange(const char* what, uint64_t value, uint64_t lo, uint64_t hi) {
  if (value < lo || value > hi) {
    Invalid(std::string(what) + " must be " + std::to_string(lo) + ".." + std::to_string(hi) +
            ", got " + std::to_string(value));
  }
}

uint64_t PageSize() {
  long page = ::sysconf(_SC_PAGESIZE);
  return page > 0 ? static_cast<uint64_t>(page) : 4096;
}

// Every count is bounded before this runs, so no sum below can overflow 64 bits (the largest
// segment is about 42 MiB).
Geometry Layout(uint32_t queue_capacity, uint32_t max_tasks, uint32_t max_workers, uint32_t lease_ms,
                uint32_t max_attempts) {
  Geometry g{};
  g.queue_capacity = queue_capacity;
  g.ring_slots = queue_capacity + max_workers;
  g.max_tasks = max_tasks;
  g.max_workers = max_workers;
  g.ring_offset = AlignUp(sizeof(SchedulerHeader), kAlign);
  g.tasks_offset = AlignUp(g.ring_offset + uint64_t{g.ring_slots} * sizeof(uint64_t), kAlign);
  g.workers_offset = AlignUp(g.tasks_offset + uint64_t{max_tasks} * sizeof(TaskRecord), kAlign);
  g.segment_size =
      AlignUp(g.workers_offset + uint64_t{max_workers} * sizeof(WorkerRecord), PageSize());
  g.lease_ms = lease_ms;
  g.default_max_attempts = max_attempts;
  return g;
}

}  // namespace

Geometry ComputeGeometry(const SchedulerOptions& o) {
  InRange("queueCapacity", o.queue_capacity, 1, kMaxQueueCapacity);
  InRange("maxTasks", o.max_tasks, 1, kMaxTasks);
  InRange("maxWorkers", o.max_workers, 1, kMaxWorkers);
  InRange("leaseMs", o.lease_ms, 0, kMaxLeaseMs);
  InRange("maxAttempts", o.max_attempts, 1, kMaxAttempts);
  return Layout(o.queue_capacity, o.max_tasks, o.max_workers, o.lease_ms, o.max_attempts);
}

void WriteGeometry(SchedulerHeader* h, const Geometry& g) {
  h->queue_capacity = g.queue_capacity;
  h->ring_slots = g.ring_slots;
  h->max_tasks = g.max_tasks;
  h->max_workers = g.max_workers;
  h->ring_offset = g.ring_offset;
  h->tasks_offset = g.tasks_offset;
  h->workers_offset = g.workers_offset;
  h->lease_ms = g.lease_ms;
  h->default_max_attempts = g.default_max_attempts;
}

Geometry ReadGeometry(const Segment& segment) {
  const std::string& name = segment.name();
  if (segment.size() < sizeof(SchedulerHeader)) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " is too small for a scheduler");
  }
  // One read of each field, into locals: what another process writes afterwards cannot change
  // what this process checked and uses.
  const volatile SchedulerHeader* h = HeaderOf(segment);
  const uint32_t queue_capacity = h->queue_capacity;
  const uint32_t ring_slots = h->ring_slots;
  const uint32_t max_tasks = h->max_tasks;
  const uint32_t max_workers = h->max_workers;
  const uint64_t ring_offset = h->ring_offset;
  const uint64_t tasks_offset = h->tasks_offset;
  const uint64_t workers_offset = h->workers_offset;
  const uint32_t lease_ms = h->lease_ms;
  const uint32_t max_attempts = h->default_max_attempts;
  auto bad = [&](const std::string& what) -> Error {
    return Error(ErrorCode::kLayoutMismatch, "segment " + name + " is not a valid scheduler: " + what);
  };
  if (queue_capacity < 1 || queue_capacity > kMaxQueueCapacity) throw bad("queue_capacity out of range");
  if (max_tasks < 1 || max_tasks > kMaxTasks) throw bad("max_tasks out of range");
  if (max_workers < 1 || max_workers > kMaxWorkers) throw bad("max_workers out of range");
  if (lease_ms > kMaxLeaseMs) throw bad("lease_ms out of range");
  if (max_attempts < 1 || max_attempts > kMaxAttempts) throw bad("default_max_attempts out of range");
  Geometry g = Layout(queue_capacity, max_tasks, max_workers, lease_ms, max_attempts);
  if (ring_slots != g.ring_slots) throw bad("ring_slots is not queue_capacity + max_workers");
  if (ring_offset != g.ring_offset || tasks_offset != g.tasks_offset ||
      workers_offset != g.workers_offset) {
    throw bad("region offsets do not match the layout");
  }
  if (g.segment_size != segment.size()) {
    throw bad("its size (" + std::to_string(segment.size()) + " bytes) does not match its counts (" +
              std::to_string(g.segment_size) + " bytes)");
  }
  return g;
}

void CheckSegmentOwner(const std::string& name) {
  Segment::ValidateName(name);
  struct stat st;
  const std::string path = "/dev/shm" + name;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw Error(ErrorCode::kSegmentNotFound, "no segment named " + name);
    ThrowErrno(ErrorCode::kSystem, "stat " + path, errno);
  }
  if (st.st_uid != ::geteuid()) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " belongs to uid " +
                                                std::to_string(st.st_uid) + ", not to this user");
  }
  if ((st.st_mode & 077) != 0) {
    throw Error(ErrorCode::kLayoutMismatch,
                "segment " + name + " may be opened by group or other (mode " +
                    std::to_string(st.st_mode & 0777) + " in decimal): refused");
  }
}

}  // namespace miniray::phase3
