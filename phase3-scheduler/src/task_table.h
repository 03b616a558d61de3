// Phase 3: the task table, max_tasks fixed-size TaskRecords in the segment.
//
// YOU EDIT THIS FILE and task_table.cc. The record layout is given (glue/scheduler_layout.h).
// A task id is (generation << 20) | slot: Find() must refuse an id whose generation is not the
// record's current one, or a driver still holding the id of a collected task would read (or
// complete!) whatever task reuses the record. Every method runs under the scheduler's lock.
#pragma once

#include <cstdint>

#include "scheduler_layout.h"

namespace miniray::phase3 {

class TaskTable {
 public:
  TaskTable(const Segment& segment, const Geometry& geometry)
      : header_(HeaderOf(segment)), records_(TasksOf(segment, geometry)), slots_(geometry.max_tasks) {}

  uint32_t slots() const { return slots_; }
  // The record in `slot`; ERR_SEGMENT_CORRUPT when slot >= max_tasks (a slot read from the
  // segment, such as a ring entry, is checked here before it is followed).
  TaskRecord* At(uint64_t slot) const;
  // The id of the task now in `record`.
  uint64_t IdOf(const TaskRecord* record) const;
  // The record of task `id` if that task is still in the table (not free, same generation),
  // else nullptr.
  TaskRecord* Find(uint64_t id) const;
  // A free record for a new task, its generation already advanced (so IdOf gives the new id), or
  // nullptr when every record is in use. Nothing else changes: the record stays kFree until the
  // caller fills it and sets its state.
  TaskRecord* Allocate();
  // Gives a finished task's record back (state kFree), keeping the counts true.
  void Free(TaskRecord* record);

 private:
  SchedulerHeader* header_;
  TaskRecord* records_;
  uint32_t slots_;
};

}  // namespace miniray::phase3
