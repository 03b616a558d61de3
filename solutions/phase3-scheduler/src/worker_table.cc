// Phase 3 reference: the worker table.
#include "worker_table.h"

#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase3 {

WorkerRecord* WorkerTable::At(uint64_t slot) const {
  if (slot >= slots_) {
    throw Error(ErrorCode::kSegmentCorrupt, "worker slot " + std::to_string(slot) +
                                                " is outside the table of " + std::to_string(slots_));
  }
  return &records_[slot];
}

uint64_t WorkerTable::IdOf(const WorkerRecord* record) const {
  return MakeId(static_cast<uint32_t>(record - records_), record->generation);
}

WorkerRecord* WorkerTable::Find(uint64_t id) const {
  const uint32_t slot = SlotOf(id);
  if (id > kMaxId || slot >= slots_) return nullptr;
  WorkerRecord* w = &records_[slot];
  const auto state = static_cast<WorkerState>(w->state);
  if ((state != WorkerState::kIdle && state != WorkerState::kBusy) || w->generation != GenerationOf(id)) {
    return nullptr;
  }
  return w;
}

uint64_t WorkerTable::Register(const ProcessIdentity& who, int64_t now_ms) {
  for (uint32_t slot = 0; slot < slots_; ++slot) {
    WorkerRecord* w = &records_[slot];
    const auto state = static_cast<WorkerState>(w->state);
    if (state != WorkerState::kEmpty && state != WorkerState::kDead) continue;
    // Everything first, the state last: a process killed before it leaves the slot as it was.
    w->generation = NextGeneration(w->generation);
    w->process = who;
    w->task = 0;
    w->heartbeat_ms = now_ms;
    w->registered_ms = now_ms;
    w->tasks_done = 0;
    MINIRAY_CRASH_POINT("phase3.register.after_fields");
    w->state = static_cast<uint32_t>(WorkerState::kIdle);
    return IdOf(w);
  }
  throw Error(ErrorCode::kTableFull, "all " + std::to_string(slots_) +
                                         " worker slots hold live workers (reap() frees the slots of dead ones)");
}

}  // namespace miniray::phase3
