// Phase 3: the segment checker (given). See checker.h for the invariants.
#include "checker.h"

#include <algorithm>
#include <map>
#include <set>

#include "scheduler_layout.h"

namespace miniray::phase3 {

namespace {

std::string Id(uint64_t id) { return std::to_string(id) + " (slot " + std::to_string(SlotOf(id)) + ")"; }

void CheckLocked(const Segment& segment, const Geometry& g, CheckReport& out) {
  const SchedulerHeader* h = HeaderOf(segment);
  const uint64_t* ring = RingOf(segment, g);
  const TaskRecord* tasks = TasksOf(segment, g);
  const WorkerRecord* workers = WorkersOf(segment, g);
  auto problem = [&](const std::string& p) {
    if (out.problems.size() < 50) out.problems.push_back(p);
  };

  // Records.
  uint64_t used = 0;
  std::set<uint32_t> queued_slots;
  for (uint32_t slot = 0; slot < g.max_tasks; ++slot) {
    const TaskRecord& r = tasks[slot];
    const uint64_t id = MakeId(slot, r.generation);
    if (r.state > static_cast<uint32_t>(TaskState::kFailed)) {
      problem("task record " + std::to_string(slot) + " has unknown state " + std::to_string(r.state));
      continue;
    }
    const auto state = static_cast<TaskState>(r.state);
    if (state == TaskState::kFree) {
      out.free_records += 1;
      continue;
    }
    used += 1;
    if (r.generation == 0) problem("task " + Id(id) + " is in use with generation 0");
    if (r.fn_len == 0 || r.fn_len > kMaxFnBytes) problem("task " + Id(id) + " has fn_len " + std::to_string(r.fn_len));
    if (r.nargs > kMaxArgs) problem("task " + Id(id) + " has " + std::to_string(r.nargs) + " args");
    if (r.error_len > kMaxErrorBytes) problem("task " + Id(id) + " has error_len " + std::to_string(r.error_len));
    if (r.max_attempts < 1 || r.max_attempts > kMaxAttempts) {
      problem("task " + Id(id) + " has max_attempts " + std::to_string(r.max_attempts));
    }
    if (r.attempts > r.max_attempts) {
      problem("task " + Id(id) + " has used " + std::to_string(r.attempts) + " of " + std::to_string(r.max_attempts) +
              " attempts");
    }
    switch (state) {
      case TaskState::kQueued:
        out.queued += 1;
        queued_slots.insert(slot);
        if (r.attempts >= r.max_attempts) problem("task " + Id(id) + " is queued with no attempt left");
        break;
      case TaskState::kLeased: {
        out.leased += 1;
        const uint32_t wslot = SlotOf(r.worker);
        if (r.attempts < 1) problem("task " + Id(id) + " is leased but was never fetched (attempts 0)");
        if (wslot >= g.max_workers) {
          problem("task " + Id(id) + " is leased to worker " + Id(r.worker) + ", outside the worker table");
          break;
        }
        const WorkerRecord& w = workers[wslot];
        if (w.state != static_cast<uint32_t>(WorkerState::kBusy) || w.generation != GenerationOf(r.worker) ||
            w.task != id) {
          problem("task " + Id(id) + " is leased to worker " + Id(r.worker) + ", which is not busy with it (state " +
                  std::to_string(w.state) + ", task " + std::to_string(w.task) + ")");
        }
        break;
      }
      case TaskState::kDone:
        out.done += 1;
        break;
      case TaskState::kFailed:
        out.failed += 1;
        break;
      case TaskState::kFree:
        break;
    }
  }

  // The ring.
  const uint64_t head = h->head;
  const uint64_t tail = h->tail;
  out.head = head;
  out.tail = tail;
  if (tail < head || tail - head > g.ring_slots) {
    problem("ring counters impossible: head " + std::to_string(head) + ", tail " + std::to_string(tail) + ", " +
            std::to_string(g.ring_slots) + " slots");
  } else {
    std::set<uint32_t> seen;
    for (uint64_t seq = head; seq < tail; ++seq) {
      const uint64_t id = ring[seq % g.ring_slots];
      const uint32_t slot = SlotOf(id);
      if (slot >= g.max_tasks) {
        problem("ring position " + std::to_string(seq) + " names task slot " + std::to_string(slot) + ", outside the table");
        continue;
      }
      const TaskRecord& r = tasks[slot];
      if (!seen.insert(slot).second) problem("task " + Id(id) + " is in the ring twice");
      if (r.state != static_cast<uint32_t>(TaskState::kQueued) || r.generation != GenerationOf(id)) {
        problem("ring position " + std::to_string(seq) + " names task " + Id(id) + ", which is not queued (state " +
                std::to_string(r.state) + ", generation " + std::to_string(r.generation) + ")");
      } else if (r.queued_seq != seq) {
        problem("task " + Id(id) + " sits at ring position " + std::to_string(seq) + " but records queued_seq " +
                std::to_string(r.queued_seq));
      }
    }
    for (uint32_t slot : queued_slots) {
      if (seen.count(slot) == 0) problem("queued task in slot " + std::to_string(slot) + " is not in the ring (lost)");
    }
  }

  // Workers.
  std::map<uint64_t, uint32_t> holders;  // task id -> worker slot
  for (uint32_t slot = 0; slot < g.max_workers; ++slot) {
    const WorkerRecord& w = workers[slot];
    const uint64_t id = MakeId(slot, w.generation);
    if (w.state > static_cast<uint32_t>(WorkerState::kDead)) {
      problem("worker slot " + std::to_string(slot) + " has unknown state " + std::to_string(w.state));
      continue;
    }
    const auto state = static_cast<WorkerState>(w.state);
    if (state == WorkerState::kEmpty) continue;
    if (state == WorkerState::kDead) {
      out.dead_workers += 1;
      if (w.task != 0) problem("dead worker " + Id(id) + " still holds task " + std::to_string(w.task));
      continue;
    }
    out.live_workers += 1;
    if (w.process.pid <= 0) problem("live worker " + Id(id) + " has no process");
    if (state == WorkerState::kIdle) {
      if (w.task != 0) problem("idle worker " + Id(id) + " holds task " + std::to_string(w.task));
      continue;
    }
    out.busy_workers += 1;
    const uint32_t tslot = SlotOf(w.task);
    if (tslot >= g.max_tasks) {
      problem("busy worker " + Id(id) + " holds task " + Id(w.task) + ", outside the table");
      continue;
    }
    const TaskRecord& r = tasks[tslot];
    if (r.state != static_cast<uint32_t>(TaskState::kLeased) || r.generation != GenerationOf(w.task) || r.worker != id) {
      problem("busy worker " + Id(id) + " holds task " + Id(w.task) + ", which is not leased to it (state " +
              std::to_string(r.state) + ")");
    }
    if (!holders.emplace(w.task, slot).second) problem("task " + Id(w.task) + " is held by two workers");
  }

  // Counts.
  auto count = [&](const char* field, uint64_t stored, uint64_t actual) {
    if (stored != actual) {
      problem(std::string("header ") + field + " is " + std::to_string(stored) + " but the records say " +
              std::to_string(actual));
    }
  };
  count("tasks_used", h->tasks_used, used);
  count("tasks_leased", h->tasks_leased, out.leased);
  count("tasks_done", h->tasks_done, out.done);
  count("tasks_failed", h->tasks_failed, out.failed);
}

}  // namespace

CheckReport CheckSegment(const std::string& name, uint32_t lock_timeout_ms) {
  auto segment = Segment::Open(name);
  CheckHeader(*segment, kMagic, kLayoutVersion, lock_timeout_ms);
  const Geometry g = ReadGeometry(*segment);
  SchedulerHeader* h = HeaderOf(*segment);
  CheckReport report;
  LockGuard guard(h->mutex, lock_timeout_ms);
  // The checker repairs nothing: a holder that died is left for the next operation to recover.
  if (guard.recovered()) h->needs_recovery = 1;
  if (h->needs_recovery != 0) {
    report.recovery_pending = true;
    return report;
  }
  CheckLocked(*segment, g, report);
  return report;
}

}  // namespace miniray::phase3
