// Phase 3: the worker table, max_workers WorkerRecords in the segment.
//
// YOU EDIT THIS FILE and worker_table.cc. The record layout is given (glue/scheduler_layout.h).
// A worker is a process *and* a slot: its record names the process by pid and start time
// (native-common's ProcessIdentity), because a pid alone is reused by the kernel. Worker ids carry
// a generation like task ids. Every method runs under the scheduler's lock.
#pragma once

#include <cstdint>

#include "scheduler_layout.h"

namespace miniray::phase3 {

class WorkerTable {
 public:
  WorkerTable(const Segment& segment, const Geometry& geometry)
      : records_(WorkersOf(segment, geometry)), slots_(geometry.max_workers) {}

  uint32_t slots() const { return slots_; }
  // The record in `slot`; ERR_SEGMENT_CORRUPT when slot >= max_workers.
  WorkerRecord* At(uint64_t slot) const;
  uint64_t IdOf(const WorkerRecord* record) const;
  // The record of worker `id` if that worker is registered and not dead (idle or busy, same
  // generation), else nullptr.
  WorkerRecord* Find(uint64_t id) const;
  // A new idle worker for process `who`, in an empty slot or one whose worker was reaped as dead;
  // returns its id. ERR_TABLE_FULL when every slot holds a live worker.
  uint64_t Register(const ProcessIdentity& who, int64_t now_ms);

 private:
  WorkerRecord* records_;
  uint32_t slots_;
};

}  // namespace miniray::phase3
