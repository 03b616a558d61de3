// Phase 1: a named POSIX shared memory segment holding immutable objects.
//
// YOU EDIT THIS FILE and shm_store.cc. The public interface (Create, Open, Unlink, Put, Get,
// Stats, Lock, Unlock, base, mapped_size) is what the given glue calls: keep its signatures. The
// layout structs and private members are a suggestion: change them as you see fit, and bump
// kLayoutVersion when you do. One contract stays: the segment starts with the 8-byte magic and
// then the 4-byte layout version, so tools (`npm run miniray -- ls`) and tests can recognise it.
//
// Layout (all offsets from the segment's first byte; nothing in the segment is a pointer):
//
//   0                 kHeaderSize            table_offset + max_objects * 40     segment_size
//   +-----------------+----------------------+-----------------------------------+
//   | Header          | ObjectEntry[max]     | data region (capacity bytes,      |
//   | magic, version, | id, offset, size     | 64-byte aligned bump allocation)  |
//   | sizes, mutex    |                      |                                   |
//   +-----------------+----------------------+-----------------------------------+
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <pthread.h>

#include "miniray/object_id.h"

namespace miniray::phase1 {

struct ShmOptions {
  uint64_t capacity;         // bytes in the data region
  uint32_t max_objects;      // entries in the metadata table
  uint32_t lock_timeout_ms;  // how long a lock waits before ERR_LOCK_TIMEOUT
};

struct ShmStats {
  uint64_t segment_size;  // bytes mapped: header + table + data region (page-rounded)
  uint64_t capacity;      // bytes in the data region
  uint64_t used_bytes;    // bytes of the data region handed out (object sizes, 64-byte aligned)
  uint64_t object_count;
  uint64_t max_objects;
  uint64_t lock_recoveries;  // how often a dead holder's lock was taken over
};

// Where an object's bytes are, relative to the segment's first byte.
struct ObjectLocation {
  uint64_t offset;
  uint64_t size;
};

constexpr uint64_t kMagic = 0x314d48535941524dULL;  // "MRAYSHM1" read as little-endian bytes
constexpr uint32_t kLayoutVersion = 1;
constexpr uint64_t kAlignment = 64;
constexpr uint64_t kMaxCapacity = 1ULL << 36;  // 64 GiB
constexpr uint32_t kMaxObjects = 1u << 22;

struct Header {
  uint64_t magic;
  uint32_t layout_version;
  std::atomic<uint32_t> state;  // kInitialising while the creator builds the layout, then kReady
  uint64_t segment_size;
  uint64_t capacity;
  uint64_t max_objects;
  uint64_t table_offset;
  uint64_t data_offset;
  // Protected by `mutex`:
  uint64_t next_offset;   // bump pointer, relative to data_offset
  uint64_t object_count;  // entries [0, object_count) of the table are valid
  // The lock itself.
  pthread_mutex_t mutex;
  std::atomic<int32_t> holder_pid;
  std::atomic<uint32_t> recoveries;
};

struct ObjectEntry {
  ObjectId id;
  uint32_t reserved;
  uint64_t offset;  // relative to data_offset
  uint64_t size;
};
static_assert(sizeof(ObjectEntry) == 40, "ObjectEntry is part of the layout");

class ShmStore {
 public:
  // Creates a new segment (ERR_SEGMENT_EXISTS if the name is taken) and initialises its layout.
  static std::unique_ptr<ShmStore> Create(const std::string& name, const ShmOptions& options);
  // Opens an existing segment and checks its header (ERR_LAYOUT_MISMATCH if it is not ours).
  static std::unique_ptr<ShmStore> Open(const std::string& name, uint32_t lock_timeout_ms);
  // Removes the segment's name. Mapped processes keep working on it.
  static void Unlink(const std::string& name);

  ~ShmStore();
  ShmStore(const ShmStore&) = delete;
  ShmStore& operator=(const ShmStore&) = delete;

  // Copies `size` bytes into the segment under the lock; returns a fresh random id.
  ObjectId Put(const uint8_t* data, size_t size);
  // Finds an object by linear scan; ERR_OBJECT_NOT_FOUND if absent. No copy: a location.
  ObjectLocation Get(const ObjectId& id);
  ShmStats Stats();

  // The lock, public so that tests can hold it across processes.
  void Lock();
  void Unlock();

  uint8_t* base() const { return base_; }
  size_t mapped_size() const { return size_; }

 private:
  // The layout's sizes and offsets, checked and copied out of the header once: at create, or at
  // open by CheckLayout. Every operation uses this copy, never the header's: any process that maps
  // the segment can rewrite the header at any moment.
  struct Geometry {
    uint64_t segment_size;
    uint64_t capacity;
    uint64_t max_objects;
    uint64_t table_offset;
    uint64_t data_offset;
  };

  ShmStore(std::string name, uint8_t* base, size_t size, uint32_t lock_timeout_ms);
  Header* header() const { return reinterpret_cast<Header*>(base_); }
  ObjectEntry* table() const;
  // Validates every field an opener relies on (without overflow), then copies them into geometry_.
  void CheckLayout();

  std::string name_;
  uint8_t* base_;
  size_t size_;
  uint32_t lock_timeout_ms_;
  Geometry geometry_{};
};

}  // namespace miniray::phase1
