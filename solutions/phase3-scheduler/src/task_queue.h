// Phase 3: the task queue, a bounded ring of task ids in the segment.
//
// YOU EDIT THIS FILE and task_queue.cc. The Scheduler (scheduler.cc) is its only caller; keep
// the public interface unless you change both. The ring's memory and counters are fixed by the
// given layout (glue/scheduler_layout.h): SchedulerHeader::head and ::tail, and ring_slots
// uint64_t task ids at ring_offset.
//
// head and tail only ever grow (64 bits: at a billion tasks a second, they wrap after 584 years).
// The task at ring position `seq` lives in slot seq % ring_slots. The ring holds tail - head tasks:
// empty when head == tail, full when tail - head == the limit, and no slot is wasted to tell the
// two apart. Every method runs under the scheduler's lock.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "scheduler_layout.h"

namespace miniray::phase3 {

class TaskQueue {
 public:
  TaskQueue(const Segment& segment, const Geometry& geometry)
      : header_(HeaderOf(segment)), ring_(RingOf(segment, geometry)), slots_(geometry.ring_slots) {}

  uint64_t head() const { return header_->head; }
  uint64_t tail() const { return header_->tail; }

  // Tasks in the ring: tail - head. ERR_SEGMENT_CORRUPT when the counters cannot be right
  // (tail behind head, or more tasks than slots).
  uint64_t Size() const;
  // Appends `task` at the tail unless the ring already holds `limit` tasks (then returns false and
  // changes nothing). `limit` is at most ring_slots.
  bool Push(uint64_t task, uint64_t limit);
  // Removes and returns the task at the head; nullopt when the ring is empty.
  std::optional<uint64_t> Pop();
  // The task id at ring position `seq` (head <= seq < tail), without removing it.
  uint64_t At(uint64_t seq) const;
  // Recovery: makes the ring hold exactly `tasks`, in this order, from the current head on.
  void Rebuild(const std::vector<uint64_t>& tasks);

 private:
  SchedulerHeader* header_;
  uint64_t* ring_;
  uint64_t slots_;  // from the geometry copied at open, never from the segment
};

}  // namespace miniray::phase3
