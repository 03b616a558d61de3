// Phase 3 reference: the task table.
#include "task_table.h"

#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase3 {

TaskRecord* TaskTable::At(uint64_t slot) const {
  if (slot >= slots_) {
    throw Error(ErrorCode::kSegmentCorrupt, "task slot " + std::to_string(slot) + " is outside the table of " +
                                                std::to_string(slots_));
  }
  return &records_[slot];
}

uint64_t TaskTable::IdOf(const TaskRecord* record) const {
  return MakeId(static_cast<uint32_t>(record - records_), record->generation);
}

TaskRecord* TaskTable::Find(uint64_t id) const {
  const uint32_t slot = SlotOf(id);
  if (slot >= slots_ || id > kMaxId) return nullptr;
  TaskRecord* r = &records_[slot];
  if (r->state == static_cast<uint32_t>(TaskState::kFree) || r->generation != GenerationOf(id)) return nullptr;
  return r;
}

TaskRecord* TaskTable::Allocate() {
  const uint64_t start = header_->next_free < slots_ ? header_->next_free : 0;
  for (uint64_t i = 0; i < slots_; ++i) {
    const uint64_t slot = (start + i) % slots_;
    TaskRecord* r = &records_[slot];
    if (r->state != static_cast<uint32_t>(TaskState::kFree)) continue;
    r->generation = NextGeneration(r->generation);
    MINIRAY_CRASH_POINT("phase3.allocate.after_generation");
    header_->next_free = (slot + 1) % slots_;
    return r;
  }
  return nullptr;
}

void TaskTable::Free(TaskRecord* r) {
  const auto state = static_cast<TaskState>(r->state);
  if (state == TaskState::kDone) header_->tasks_done -= 1;
  if (state == TaskState::kFailed) header_->tasks_failed -= 1;
  if (state == TaskState::kLeased) header_->tasks_leased -= 1;
  MINIRAY_CRASH_POINT("phase3.free.after_count");
  header_->tasks_used -= 1;
  MINIRAY_CRASH_POINT("phase3.free.after_used");
  r->state = static_cast<uint32_t>(TaskState::kFree);
}

}  // namespace miniray::phase3
