// A named POSIX shared memory segment, mapped once: the given building block from phase 2 on.
// (Phase 1 is where students write this themselves; this is the reference they can lean on later.)
//
// RAII: the destructor unmaps. The file descriptor is closed as soon as the mapping exists.
// Only offsets into the segment are ever stored inside it; At<T>() turns an offset back into a
// pointer for this process's mapping, refusing any offset that falls outside it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "miniray/errors.h"

namespace miniray {

class Segment {
 public:
  // Throws ERR_BAD_NAME unless `name` is "/" followed by 1-200 of [A-Za-z0-9._-].
  static void ValidateName(const std::string& name);
  // Creates (O_CREAT | O_EXCL, mode 0600), sizes and reserves the memory (posix_fallocate, so a
  // full /dev/shm is ERR_SHM_FULL here rather than SIGBUS later) and maps it. On any failure the
  // half-made segment is unlinked again.
  static std::unique_ptr<Segment> Create(const std::string& name, size_t size);
  // Opens and maps an existing segment of whatever size it has. ERR_SEGMENT_NOT_FOUND if missing;
  // ERR_LAYOUT_MISMATCH if another user owns it or group or others may open it (mode not 0600).
  static std::unique_ptr<Segment> Open(const std::string& name);
  // Removes the name; processes that mapped it keep their mapping. ERR_SEGMENT_NOT_FOUND if missing.
  static void Unlink(const std::string& name);

  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  uint8_t* base() const { return base_; }
  size_t size() const { return size_; }
  const std::string& name() const { return name_; }

  // The object of type T at `offset`, after checking [offset, offset + sizeof(T) * count) lies
  // inside the mapping (ERR_SEGMENT_CORRUPT otherwise).
  template <typename T>
  T* At(uint64_t offset, uint64_t count = 1) const {
    CheckRange(offset, sizeof(T) * count);
    return reinterpret_cast<T*>(base_ + offset);
  }
  void CheckRange(uint64_t offset, uint64_t length) const;

 private:
  Segment(std::string name, uint8_t* base, size_t size)
      : name_(std::move(name)), base_(base), size_(size) {}
  std::string name_;
  uint8_t* base_;
  size_t size_;
};

// The first bytes of every phase's segment. The creator fills the whole layout, then publishes
// state = kReady with a release store; an opener checks magic and version, and waits (bounded)
// for kReady, so it never reads a half-built header.
struct CommonHeader {
  static constexpr uint32_t kInitialising = 1;
  static constexpr uint32_t kReady = 2;

  uint64_t magic;
  uint32_t layout_version;
  std::atomic<uint32_t> state;
  uint64_t segment_size;
};

// Creator side: call after every other header field is written.
void PublishReady(CommonHeader* header);
// Opener side: ERR_LAYOUT_MISMATCH when the segment is too small, its magic or version differ, its
// recorded size disagrees with the mapping, or it is not ready within `timeout_ms`.
void CheckHeader(const Segment& segment, uint64_t magic, uint32_t version, uint32_t timeout_ms);

inline uint64_t AlignUp(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace miniray
