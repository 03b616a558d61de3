// Phase 3: YOUR CODE GOES HERE (the worker records). The lesson is phase3-scheduler/README.md.
//
// Every method runs under the scheduler's lock.
#include "worker_table.h"

#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase3 {

WorkerRecord* WorkerTable::At([[maybe_unused]] uint64_t slot) const {
  // TODO(student): the record in `slot`, after checking the slot is inside the table.
  MINIRAY_TODO("phase3 WorkerTable::At");
}

// Given: a record's id is its slot and its generation.
uint64_t WorkerTable::IdOf(const WorkerRecord* record) const {
  return MakeId(static_cast<uint32_t>(record - records_), record->generation);
}

WorkerRecord* WorkerTable::Find([[maybe_unused]] uint64_t id) const {
  // TODO(student): the record of a live (idle or busy) worker with this id, or nullptr.
  MINIRAY_TODO("phase3 WorkerTable::Find");
}

uint64_t WorkerTable::Register([[maybe_unused]] const ProcessIdentity& who, [[maybe_unused]] int64_t now_ms) {
  // TODO(student): take an empty slot, or the slot of a worker reaped as dead, for a new idle
  // worker of process `who`. In which order do you write its fields, so that a process killed
  // half-way leaves nothing that looks like a worker?
  MINIRAY_TODO("phase3 WorkerTable::Register");
}

}  // namespace miniray::phase3
