// Phase 3: YOUR CODE GOES HERE (the task records). The lesson is phase3-scheduler/README.md.
//
// Every method runs under the scheduler's lock.
#include "task_table.h"

#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase3 {

TaskRecord* TaskTable::At([[maybe_unused]] uint64_t slot) const {
  // TODO(student): the record in `slot`, after checking the slot is inside the table.
  MINIRAY_TODO("phase3 TaskTable::At");
}

// Given: a record's id is its slot and its generation.
uint64_t TaskTable::IdOf(const TaskRecord* record) const {
  return MakeId(static_cast<uint32_t>(record - records_), record->generation);
}

TaskRecord* TaskTable::Find([[maybe_unused]] uint64_t id) const {
  // TODO(student): the record of task `id`, or nullptr. An id is any number a caller passes in:
  // its slot may be outside the table, its record free, or reused by a later task.
  MINIRAY_TODO("phase3 TaskTable::Find");
}

TaskRecord* TaskTable::Allocate() {
  // TODO(student): a free record, its generation advanced (NextGeneration), or nullptr when every
  // record is in use. header_->next_free says where to start looking.
  MINIRAY_TODO("phase3 TaskTable::Allocate");
}

void TaskTable::Free([[maybe_unused]] TaskRecord* record) {
  // TODO(student): give the record back (kFree) and keep the header's counts true.
  MINIRAY_TODO("phase3 TaskTable::Free");
}

}  // namespace miniray::phase3
