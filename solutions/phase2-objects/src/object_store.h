// Phase 2: the object store, Plasma's object lifecycle on top of the table and the allocator.
//
// YOU EDIT THIS FILE and object_store.cc. The public interface is what the given glue
// (phase2-objects/glue/addon.cc) calls: keep its signatures. The segment's format (StoreHeader,
// the client records, the journal) is fixed by the given phase2-objects/layout/layout.h.
//
// The lifecycle of an object, as in Plasma:
//   CreateObject(id, size) -> unsealed: only its creator writes it; get() waits for it. The
//                             creator holds a pin on it, as if it had called get().
//   Seal(id)               -> sealed: immutable, visible to every process, wakes waiting gets.
//                             The creator's pin stays until it calls Release(id).
//   Abort(id)              -> the creator drops its unsealed object; the space is reused
//   Get(id, timeout)       -> pins a sealed object (waiting for an unsealed or missing one)
//   Release(id)            -> unpins one Get (or the creator's pin, after Seal)
//   Delete(id)             -> removes a sealed object; refused (ERR_OBJECT_IN_USE) while pinned
//
// Every handle (each Create or Open) takes a client record in the segment, with its process's pid
// and start time. Pins and unsealed objects belong to a client, so any process can give back what
// a dead client held (Reclaim).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "allocator.h"
#include "journal.h"
#include "layout.h"
#include "miniray/object_id.h"
#include "miniray/robust_mutex.h"
#include "miniray/segment.h"
#include "object_table.h"

namespace miniray::phase2 {

struct StoreOptions {
  uint64_t capacity;         // bytes in the data region (block headers included)
  uint64_t table_size;       // slots in the object table: at most this many objects at once
  uint32_t lock_timeout_ms;  // how long a lock waits before ERR_LOCK_TIMEOUT
};

// Where an object's bytes are, as segment offsets.
struct Location {
  uint64_t offset;
  uint64_t size;
};

// An outcome of Get(): sealed (and now pinned), or what it was when the wait ended.
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
  uint64_t pinned;         // every pin of every object: gets not released, creators' pins
  uint64_t clients;        // open handles (client records in use), in every process
  uint64_t lock_recoveries;
};

// What Reclaim() gave back.
struct ReclaimStats {
  uint64_t clients;  // client records of dead processes freed
  uint64_t pins;     // pins those clients still held
  uint64_t objects;  // unsealed objects they had created (aborted)
};

// For tests and the debugger: where the regions are.
struct StoreLayout {
  uint64_t table_offset;
  uint64_t table_bytes;
  uint64_t data_offset;
  uint64_t data_bytes;
  uint32_t client;  // this handle's client record
};

class ObjectStore {
 public:
  static std::unique_ptr<ObjectStore> Create(const std::string& name, const StoreOptions& options);
  static std::unique_ptr<ObjectStore> Open(const std::string& name, uint32_t lock_timeout_ms);
  static void Unlink(const std::string& name);

  // Closes the handle if Close() was not called.
  ~ObjectStore();
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // A new unsealed object of `size` bytes, pinned by this handle; returns where to write it.
  Location CreateObject(const ObjectId& id, uint64_t size);
  // Create + copy + seal + release, all or nothing: when it throws, the id is not in the store.
  void Put(const ObjectId& id, const uint8_t* data, uint64_t size);
  void Seal(const ObjectId& id);
  // Only the object's creator may abort it.
  void Abort(const ObjectId& id);
  // Waits until `id` is sealed or `timeout_ms` passed (0: do not wait, -1: no limit), then pins it
  // when it is sealed. Any thread may call it (the glue's Promise form runs it on the libuv pool).
  // ERR_CLOSED when Close() is called meanwhile.
  GetResult Get(const ObjectId& id, int64_t timeout_ms);
  // The same for several ids: waits until every one is sealed or the time is up, then pins the
  // sealed ones.
  std::vector<GetResult> GetMany(const std::vector<ObjectId>& ids, int64_t timeout_ms);
  // Unpins one Get of this handle, or its creator's pin after Seal; ERR_INVALID_ARGUMENT when this
  // handle holds no pin on `id`.
  void Release(const ObjectId& id);
  bool Contains(const ObjectId& id);
  void Delete(const ObjectId& id);
  StoreStats Stats();
  // Gives back what clients of dead processes held: their pins, their unsealed objects.
  ReclaimStats Reclaim();
  // Cancels this handle's waits (they fail with ERR_CLOSED), releases its pins, aborts the
  // objects it created and did not seal, and frees its client record. Every later call fails
  // with ERR_CLOSED. The mapping stays until the destructor.
  void Close();

  // The lock, public so that tests can hold it across processes.
  void Lock();
  void Unlock();

  uint8_t* base() const { return segment_->base(); }
  size_t mapped_size() const { return segment_->size(); }
  StoreLayout layout() const;

 private:
  ObjectStore(std::unique_ptr<Segment> segment, uint32_t lock_timeout_ms);
  void CheckOpen() const;
  // Holding the lock: repairs what a dead holder left (called when the header says so).
  void RepairIfNeeded(bool holder_died);
  void Recover();
  // Holding the lock: takes a free client record for this handle.
  void RegisterClient();
  // Holding the lock: releases every pin of client `c`, aborts the objects it created and did not
  // seal, frees its record.
  ReclaimStats ReleaseClientLocked(uint32_t c);
  ReclaimStats ReclaimLocked();
  Location CreateLocked(const ObjectId& id, uint64_t size);
  void SealLocked(ObjectEntry* entry, bool release_creator_pin);
  // Removes `entry` and frees its block, in one transaction; then tidies the table when `tidy`.
  void DropLocked(ObjectEntry* entry, bool tidy);
  Location LocationOf(const ObjectEntry* entry) const;
  void PinLocked(ObjectEntry* entry);
  void AbortQuietly(const ObjectId& id);

  std::unique_ptr<Segment> segment_;
  StoreHeader* header_;
  Journal journal_;
  ObjectTable table_;
  Allocator allocator_;
  uint32_t lock_timeout_ms_;
  uint32_t client_ = kMaxClients;  // this handle's client record
  std::atomic<bool> closed_{false};
  bool debug_locked_ = false;  // Lock() was called and Unlock() not yet
};

}  // namespace miniray::phase2
