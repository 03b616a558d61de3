// Phase 3 reference: the ring of task ids.
#include "task_queue.h"

#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase3 {

uint64_t TaskQueue::Size() const {
  const uint64_t head = header_->head;
  const uint64_t tail = header_->tail;
  if (tail < head || tail - head > slots_) {
    throw Error(ErrorCode::kSegmentCorrupt, "the task ring's counters are impossible: head " +
                                                std::to_string(head) + ", tail " +
                                                std::to_string(tail) + ", " +
                                                std::to_string(slots_) + " slots");
  }
  return tail - head;
}

bool TaskQueue::Push(uint64_t task, uint64_t limit) {
  if (Size() >= limit) return false;
  const uint64_t tail = header_->tail;
  ring_[tail % slots_] = task;
  MINIRAY_CRASH_POINT("phase3.push.after_slot");
  header_->tail = tail + 1;  // the push takes effect here: a slot past the tail is not in the ring
  return true;
}

std::optional<uint64_t> TaskQueue::Pop() {
  if (Size() == 0) return std::nullopt;
  const uint64_t head = header_->head;
  const uint64_t task = ring_[head % slots_];
  header_->head = head + 1;
  return task;
}

uint64_t TaskQueue::At(uint64_t seq) const {
  const uint64_t size = Size();
  if (seq < header_->head || seq - header_->head >= size) {
    throw Error(ErrorCode::kInvalidArgument, "ring position " + std::to_string(seq) + " is not in the ring");
  }
  return ring_[seq % slots_];
}

void TaskQueue::Rebuild(const std::vector<uint64_t>& tasks) {
  if (tasks.size() > slots_) {
    throw Error(ErrorCode::kSegmentCorrupt, std::to_string(tasks.size()) + " queued tasks do not fit in " +
                                                std::to_string(slots_) + " ring slots");
  }
  const uint64_t head = header_->head;
  for (uint64_t i = 0; i < tasks.size(); ++i) {
    ring_[(head + i) % slots_] = tasks[i];
    MINIRAY_CRASH_POINT("phase3.rebuild.after_slot");
  }
  header_->tail = head + tasks.size();
}

}  // namespace miniray::phase3
