// Phase 3: YOUR CODE GOES HERE (the ring of task ids). The lesson is phase3-scheduler/README.md.
//
// Every method runs under the scheduler's lock, so plain loads and stores of head, tail and the
// slots are enough here. Check what you read from the segment before you trust it: another process
// (or a bug) may have written anything into head and tail.
#include "task_queue.h"

#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase3 {

uint64_t TaskQueue::Size() const {
  // TODO(student): how many tasks the ring holds. ERR_SEGMENT_CORRUPT when head and tail cannot be
  // right.
  MINIRAY_TODO("phase3 TaskQueue::Size");
}

bool TaskQueue::Push([[maybe_unused]] uint64_t task, [[maybe_unused]] uint64_t limit) {
  // TODO(student): append at the tail, unless `limit` tasks are already queued. Which write makes
  // the push visible, and should it come first or last?
  MINIRAY_TODO("phase3 TaskQueue::Push");
}

std::optional<uint64_t> TaskQueue::Pop() {
  // TODO(student): remove and return the task at the head; nullopt when empty.
  MINIRAY_TODO("phase3 TaskQueue::Pop");
}

uint64_t TaskQueue::At([[maybe_unused]] uint64_t seq) const {
  // TODO(student): the task id at ring position `seq`, which must be in [head, tail).
  MINIRAY_TODO("phase3 TaskQueue::At");
}

void TaskQueue::Rebuild([[maybe_unused]] const std::vector<uint64_t>& tasks) {
  // TODO(student) (recovery): make the ring hold exactly `tasks`, in order, from head on.
  MINIRAY_TODO("phase3 TaskQueue::Rebuild");
}

}  // namespace miniray::phase3
