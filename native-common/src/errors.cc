#include "miniray/errors.h"

#include <cstring>

namespace miniray {

const char* CodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kShmFull: return "ERR_SHM_FULL";
    case ErrorCode::kTableFull: return "ERR_TABLE_FULL";
    case ErrorCode::kObjectNotFound: return "ERR_OBJECT_NOT_FOUND";
    case ErrorCode::kObjectExists: return "ERR_OBJECT_EXISTS";
    case ErrorCode::kObjectNotSealed: return "ERR_OBJECT_NOT_SEALED";
    case ErrorCode::kObjectSealed: return "ERR_OBJECT_SEALED";
    case ErrorCode::kObjectInUse: return "ERR_OBJECT_IN_USE";
    case ErrorCode::kSegmentNotFound: return "ERR_SEGMENT_NOT_FOUND";
    case ErrorCode::kSegmentExists: return "ERR_SEGMENT_EXISTS";
    case ErrorCode::kBadName: return "ERR_BAD_NAME";
    case ErrorCode::kLayoutMismatch: return "ERR_LAYOUT_MISMATCH";
    case ErrorCode::kSegmentCorrupt: return "ERR_SEGMENT_CORRUPT";
    case ErrorCode::kLockTimeout: return "ERR_LOCK_TIMEOUT";
    case ErrorCode::kDeadlock: return "ERR_DEADLOCK";
    case ErrorCode::kTimeout: return "ERR_TIMEOUT";
    case ErrorCode::kQueueFull: return "ERR_QUEUE_FULL";
    case ErrorCode::kInvalidArgument: return "ERR_INVALID_ARGUMENT";
    case ErrorCode::kClosed: return "ERR_CLOSED";
    case ErrorCode::kNotImplemented: return "ERR_NOT_IMPLEMENTED";
    case ErrorCode::kSystem: return "ERR_SYSTEM";
    case ErrorCode::kTaskNotFound: return "ERR_TASK_NOT_FOUND";
    case ErrorCode::kNotLeased: return "ERR_NOT_LEASED";
    case ErrorCode::kWorkerNotFound: return "ERR_WORKER_NOT_FOUND";
  }
  return "ERR_SYSTEM";
}

void NotImplemented(const char* what) {
  throw Error(ErrorCode::kNotImplemented, std::string("not implemented: ") + what);
}

void ThrowErrno(ErrorCode code, const std::string& what, int err) {
  throw Error(code, what + ": " + std::strerror(err));
}

}  // namespace miniray
