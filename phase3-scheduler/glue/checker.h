// Phase 3: the segment checker (given). It walks a scheduler segment under its lock and lists every
// invariant that does not hold, so a test (or `npm run miniray -- check /name`) can tell a
// consistent scheduler from one that lost, duplicated or mixed up tasks.
//
// The invariants, for a segment at rest (no recovery pending):
//   ring     head <= tail, tail - head <= ring_slots; every position in [head, tail) names a queued
//            task whose queued_seq is that position; no task twice; every queued task is in it
//   records  states known; lengths within their fields; attempts <= max_attempts; a queued task
//            has attempts < max_attempts
//   leases   a leased task names a busy worker that names it back; a busy worker holds a leased task;
//            idle and dead workers hold nothing; a live worker has a process
//   counts   tasks_used, tasks_leased, tasks_done, tasks_failed match the records
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace miniray::phase3 {

struct CheckReport {
  bool recovery_pending = false;  // a holder died in the lock and no operation has repaired it yet
  std::vector<std::string> problems;
  uint64_t head = 0;
  uint64_t tail = 0;
  uint64_t queued = 0;
  uint64_t leased = 0;
  uint64_t done = 0;
  uint64_t failed = 0;
  uint64_t free_records = 0;
  uint64_t live_workers = 0;
  uint64_t busy_workers = 0;
  uint64_t dead_workers = 0;
};

// Opens `name` and checks it (ERR_SEGMENT_NOT_FOUND, ERR_LAYOUT_MISMATCH when it cannot be read as
// a scheduler at all, ERR_LOCK_TIMEOUT when its lock is held too long).
CheckReport CheckSegment(const std::string& name, uint32_t lock_timeout_ms);

}  // namespace miniray::phase3
