// Typed errors shared by every phase.
//
// C++ code throws miniray::Error(code, message). The N-API glue turns it into one JavaScript class,
// MiniRayError, whose `code` property is the stable string below ("ERR_SHM_FULL", ...). Tests and
// students match on the code, never on the message.
#pragma once

#include <stdexcept>
#include <string>

namespace miniray {

enum class ErrorCode {
  kShmFull,            // ERR_SHM_FULL: the data region (or /dev/shm itself) has no room
  kTableFull,          // ERR_TABLE_FULL: the metadata table has no free slot
  kObjectNotFound,     // ERR_OBJECT_NOT_FOUND
  kObjectExists,       // ERR_OBJECT_EXISTS: create() of an id that is already in the store
  kObjectNotSealed,    // ERR_OBJECT_NOT_SEALED: seal-only operation on an unsealed object
  kObjectSealed,       // ERR_OBJECT_SEALED: abort() or a second seal() of a sealed object
  kObjectInUse,        // ERR_OBJECT_IN_USE: delete() of a pinned object
  kSegmentNotFound,    // ERR_SEGMENT_NOT_FOUND: open()/unlink() of a name that does not exist
  kSegmentExists,      // ERR_SEGMENT_EXISTS: create() of a name that already exists
  kBadName,            // ERR_BAD_NAME: not a valid POSIX shared memory name
  kLayoutMismatch,     // ERR_LAYOUT_MISMATCH: wrong magic, version or sizes: not our segment
  kSegmentCorrupt,     // ERR_SEGMENT_CORRUPT: an offset or count in the segment is out of bounds
  kLockTimeout,        // ERR_LOCK_TIMEOUT: the lock was not acquired in time (names the holder)
  kDeadlock,           // ERR_DEADLOCK: this thread already holds the lock
  kTimeout,            // ERR_TIMEOUT: a wait (get of an unsealed object, pop, ...) timed out
  kQueueFull,          // ERR_QUEUE_FULL
  kInvalidArgument,    // ERR_INVALID_ARGUMENT: wrong type, negative or absurd size, bad id
  kClosed,             // ERR_CLOSED: the store was closed in this process
  kNotImplemented,     // ERR_NOT_IMPLEMENTED: a skeleton TODO
  kSystem,             // ERR_SYSTEM: an unexpected errno from the OS
  kTaskNotFound,       // ERR_TASK_NOT_FOUND: no such task (never submitted, or collected and reused)
  kNotLeased,          // ERR_NOT_LEASED: complete/fail by a worker that does not hold the task's lease
  kWorkerNotFound,     // ERR_WORKER_NOT_FOUND: no such worker (never registered, or reaped as dead)
};

// The stable string of a code, e.g. "ERR_SHM_FULL".
const char* CodeName(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// Throws ERR_NOT_IMPLEMENTED with "not implemented: <what>". Skeleton TODOs call this.
[[noreturn]] void NotImplemented(const char* what);

// Throws `code` with "<what>: <strerror(err)>".
[[noreturn]] void ThrowErrno(ErrorCode code, const std::string& what, int err);

}  // namespace miniray

// Marks an unfinished function in a skeleton: MINIRAY_TODO("phase1 ShmStore::Put");
#define MINIRAY_TODO(what) ::miniray::NotImplemented(what)
