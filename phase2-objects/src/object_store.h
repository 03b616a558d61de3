// Phase 2: the object store, Plasma's object lifecycle on top of the table and the allocator.
//
// YOU EDIT THIS FILE and object_store.cc. The public interface is what the given glue
// (phase2-objects/glue/addon.cc) calls: keep its signatures. The header layout is a suggestion:
// change it as you see fit, and bump kLayoutVersion when you do.
//
// Layout (offsets from the segment's first byte):
//
//   0               table.offset                  allocator.begin               allocator.end
//   +---------------+-----------------------------+-----------------------------+
//   | StoreHeader   | ObjectEntry[table.slots]    | data region: blocks         |
//   | lock, futex,  | (object_table.h)            | (allocator.h)               |
//   | bookkeeping   |                             |                             |
//   +---------------+-----------------------------+-----------------------------+
//
// The lifecycle of an object, as in Plasma:
//   CreateObject(id, size) -> unsealed: only its creator writes it; get() waits for it
//   Seal(id)               -> sealed: immutable, visible to every process, wakes waiting gets
//   Abort(id)              -> an unsealed object is dropped and its space reused
//   Get(ids, timeout)      -> pins each sealed object (ref_count + 1), waiting for unsealed ones
//   Release(id)            -> unpins
//   Delete(id)             -> removes a sealed object; refused (ERR_OBJECT_IN_USE) while pinned
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "allocator.h"
#include "miniray/object_id.h"
#include "miniray/robust_mutex.h"
#include "miniray/segment.h"
#include "object_table.h"

namespace miniray::phase2 {

constexpr uint64_t kMagic = 0x324a424f5941524dULL;  // "MRAYOBJ2" read as little-endian bytes
// 2: ObjectId::Hash changed, and where an id lands in the table is part of the layout.
constexpr uint32_t kLayoutVersion = 2;
constexpr uint64_t kMaxCapacity = 1ULL << 36;  // 64 GiB

struct StoreOptions {
  uint64_t capacity;         // bytes in the data region (block headers included)
  uint64_t table_size;       // slots in the object table: at most this many objects at once
  uint32_t lock_timeout_ms;  // how long a lock waits before ERR_LOCK_TIMEOUT
};

struct StoreHeader {
  CommonHeader common;              // magic, version, state, segment size (native-common)
  RobustMutex mutex;                // guards everything below and the table and the blocks
  std::atomic<uint32_t> seal_seq;   // futex word: bumped (then woken) by every seal
  uint32_t reserved0;
  uint64_t sealed_count;            // entries in state kSealed
  TableHeader table;
  AllocatorHeader allocator;
};

// Where an object's bytes are, as segment offsets.
struct Location {
  uint64_t offset;
  uint64_t size;
};

// One id's outcome of Get(): sealed (and now pinned), or what it was when the wait ended.
enum class GetStatus { kSealed, kUnsealed, kMissing };
struct GetResult {
  GetStatus status;
  Location location;  // valid when status == kSealed
};

struct StoreStats {
  uint64_t segment_size;
  uint64_t capacity;       // bytes in the data region
  uint64_t used_bytes;     // bytes in allocated blocks (block headers included)
  uint64_t free_bytes;     // capacity - used_bytes
  uint64_t largest_free;   // the largest object create() could hold right now
  uint64_t free_blocks;    // pieces the free space is in (1 when fully coalesced)
  uint64_t object_count;   // unsealed + sealed
  uint64_t sealed_count;
  uint64_t table_size;     // slots
  uint64_t tombstones;
  uint64_t pinned;         // sum of every object's ref_count
  uint64_t lock_recoveries;
};

// For tests and the debugger: where the regions are.
struct StoreLayout {
  uint64_t table_offset;
  uint64_t table_bytes;
  uint64_t data_offset;
  uint64_t data_bytes;
};

class ObjectStore {
 public:
  static std::unique_ptr<ObjectStore> Create(const std::string& name, const StoreOptions& options);
  static std::unique_ptr<ObjectStore> Open(const std::string& name, uint32_t lock_timeout_ms);
  static void Unlink(const std::string& name);

  ~ObjectStore();
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // A new unsealed object of `size` bytes; returns where to write it.
  Location CreateObject(const ObjectId& id, uint64_t size);
  // Create + copy + seal, all or nothing.
  void Put(const ObjectId& id, const uint8_t* data, uint64_t size);
  void Seal(const ObjectId& id);
  void Abort(const ObjectId& id);
  // Waits until every id is sealed or `timeout_ms` passed (0: do not wait, -1: no limit), then
  // pins the sealed ones. Any thread may call it (the glue's Promise form runs it on the libuv
  // pool). ERR_CLOSED when Close() is called meanwhile.
  std::vector<GetResult> Get(const std::vector<ObjectId>& ids, int64_t timeout_ms);
  // Unpins one get() of this handle; ERR_INVALID_ARGUMENT when this handle holds no pin on `id`.
  void Release(const ObjectId& id);
  bool Contains(const ObjectId& id);
  void Delete(const ObjectId& id);
  StoreStats Stats();
  // Cancels this handle's waits (they fail with ERR_CLOSED) and releases the pins it holds.
  // Every later call fails with ERR_CLOSED. The mapping stays until the destructor.
  void Close();

  // The lock, public so that tests can hold it across processes.
  void Lock();
  void Unlock();

  uint8_t* base() const { return segment_->base(); }
  size_t mapped_size() const { return segment_->size(); }
  StoreLayout layout() const;

 private:
  ObjectStore(std::unique_ptr<Segment> segment, uint32_t lock_timeout_ms);
  StoreHeader* header() const { return segment_->At<StoreHeader>(0); }
  void CheckOpen() const;
  // Repairs what a process that died holding the lock may have left half-done.
  void Recover();
  // Removes `entry` and frees its block. Caller holds the lock.
  void DropLocked(ObjectEntry* entry);

  struct IdHash {
    size_t operator()(const ObjectId& id) const { return static_cast<size_t>(id.Hash()); }
  };

  std::unique_ptr<Segment> segment_;
  ObjectTable table_;
  Allocator allocator_;
  uint32_t lock_timeout_ms_;
  std::atomic<bool> closed_{false};
  // Pins held by this handle, so that a double release is caught and Close() can release them.
  // Which lock protects it? (The async gets run on other threads of this process.)
  std::unordered_map<ObjectId, uint32_t, IdHash> pins_;
};

}  // namespace miniray::phase2
