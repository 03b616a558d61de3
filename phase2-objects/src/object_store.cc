// Phase 2: YOUR CODE GOES HERE (the object store: lifecycle, pins and waiting).
//
// Every function marked TODO throws "not implemented" until you write it. Creating, opening and
// unlinking the segment are given (you wrote them in phase 1; here they use native-common's
// Segment and RobustMutex), and so is the locking helper MINIRAY_LOCKED(). The lesson is
// phase2-objects/README.md.
#include "object_store.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include "miniray/errors.h"
#include "miniray/futex.h"

namespace miniray::phase2 {

ObjectStore::ObjectStore(std::unique_ptr<Segment> segment, uint32_t lock_timeout_ms)
    : segment_(std::move(segment)),
      table_(*segment_, &segment_->At<StoreHeader>(0)->table),
      allocator_(*segment_, &segment_->At<StoreHeader>(0)->allocator),
      lock_timeout_ms_(lock_timeout_ms) {}

ObjectStore::~ObjectStore() = default;

std::unique_ptr<ObjectStore> ObjectStore::Create(const std::string& name,
                                                 const StoreOptions& options) {
  Segment::ValidateName(name);
  if (options.capacity == 0 || options.capacity > kMaxCapacity) {
    throw Error(ErrorCode::kInvalidArgument,
                "capacity must be 1.." + std::to_string(kMaxCapacity) + " bytes");
  }
  if (options.table_size == 0 || options.table_size > kMaxTableSlots) {
    throw Error(ErrorCode::kInvalidArgument,
                "tableSize must be 1.." + std::to_string(kMaxTableSlots) + " slots");
  }
  const uint64_t table_offset = AlignUp(sizeof(StoreHeader), kAlignment);
  const uint64_t data_offset =
      AlignUp(table_offset + ObjectTable::BytesFor(options.table_size), kAlignment);
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t size = AlignUp(data_offset + AlignUp(options.capacity, kAlignment), page);

  auto segment = Segment::Create(name, size);
  try {
    std::unique_ptr<ObjectStore> store(new ObjectStore(std::move(segment), options.lock_timeout_ms));
    StoreHeader* h = store->header();
    h->common.state.store(CommonHeader::kInitialising, std::memory_order_relaxed);
    h->common.layout_version = kLayoutVersion;
    h->common.segment_size = size;
    h->mutex.Init();
    h->seal_seq.store(0);
    h->sealed_count = 0;
    store->table_.Init(table_offset, options.table_size);
    store->allocator_.Init(data_offset, size);  // page rounding is capacity too
    h->common.magic = kMagic;
    PublishReady(&h->common);
    return store;
  } catch (...) {
    try {
      Segment::Unlink(name);  // nothing half-made stays behind in /dev/shm
    } catch (const Error&) {
    }
    throw;
  }
}

std::unique_ptr<ObjectStore> ObjectStore::Open(const std::string& name, uint32_t lock_timeout_ms) {
  auto segment = Segment::Open(name);
  if (segment->size() < sizeof(StoreHeader)) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " is too small for a phase-2 store");
  }
  CheckHeader(*segment, kMagic, kLayoutVersion, lock_timeout_ms);
  std::unique_ptr<ObjectStore> store(new ObjectStore(std::move(segment), lock_timeout_ms));
  store->table_.Check();
  store->allocator_.Check();
  const TableHeader& t = store->header()->table;
  const AllocatorHeader& a = store->header()->allocator;
  if (t.offset < sizeof(StoreHeader) || a.begin < t.offset + ObjectTable::BytesFor(t.slots)) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " has overlapping regions");
  }
  return store;
}

void ObjectStore::Unlink(const std::string& name) { Segment::Unlink(name); }

StoreLayout ObjectStore::layout() const {
  const StoreHeader* h = header();
  return {h->table.offset, ObjectTable::BytesFor(h->table.slots), h->allocator.begin,
          h->allocator.end - h->allocator.begin};
}

void ObjectStore::CheckOpen() const {
  if (closed_.load()) throw Error(ErrorCode::kClosed, "store is closed");
}

// Scoped lock that repairs the segment when the previous holder died inside its critical section.
#define MINIRAY_LOCKED()                                       \
  LockGuard guard(header()->mutex, lock_timeout_ms_);          \
  if (guard.recovered()) Recover()

void ObjectStore::Recover() {
  // TODO(student): the previous lock holder died inside a critical section. Make the table's
  // counts true (ObjectTable::Recount), drop entries whose offsets make no sense, free blocks no
  // entry owns (Allocator::Rebuild), fix sealed_count, and wake every waiter.
  MINIRAY_TODO("phase2 ObjectStore::Recover");
}

Location ObjectStore::CreateObject([[maybe_unused]] const ObjectId& id, [[maybe_unused]] uint64_t size) {
  // TODO(student): under the lock (MINIRAY_LOCKED()): ERR_OBJECT_EXISTS for a known id, then space
  // and a table entry, unsealed. If the second step fails, undo the first. Which order leaves less
  // to repair if this process is killed in between?
  MINIRAY_TODO("phase2 ObjectStore::CreateObject");
}

void ObjectStore::Put([[maybe_unused]] const ObjectId& id, [[maybe_unused]] const uint8_t* data,
                      [[maybe_unused]] uint64_t size) {
  // TODO(student): create, copy, seal.
  MINIRAY_TODO("phase2 ObjectStore::Put");
}

void ObjectStore::Seal([[maybe_unused]] const ObjectId& id) {
  // TODO(student): unsealed -> sealed (ERR_OBJECT_NOT_FOUND, ERR_OBJECT_SEALED). A get() in another
  // process may be asleep waiting for exactly this: how does it learn? (futex.h)
  MINIRAY_TODO("phase2 ObjectStore::Seal");
}

void ObjectStore::DropLocked([[maybe_unused]] ObjectEntry* entry) {
  // TODO(student) (helper for Abort and Delete): remove the entry and give its space back.
  MINIRAY_TODO("phase2 ObjectStore::DropLocked");
}

void ObjectStore::Abort([[maybe_unused]] const ObjectId& id) {
  // TODO(student): drop an unsealed object (ERR_OBJECT_NOT_FOUND, ERR_OBJECT_SEALED).
  MINIRAY_TODO("phase2 ObjectStore::Abort");
}

std::vector<GetResult> ObjectStore::Get([[maybe_unused]] const std::vector<ObjectId>& ids,
                                        [[maybe_unused]] int64_t timeout_ms) {
  // TODO(student): a loop. Under the lock, look every id up; when all are sealed, or the deadline
  // has passed, pin the sealed ones (ref_count, and this handle's pins_) and return. Otherwise
  // remember the futex word, unlock, and sleep on it for the remaining time (never longer than a
  // few seconds, in case a waker died before waking you). Never sleep holding the lock. Fail with
  // ERR_CLOSED once Close() was called, even while asleep.
  MINIRAY_TODO("phase2 ObjectStore::Get");
}

void ObjectStore::Release([[maybe_unused]] const ObjectId& id) {
  // TODO(student): undo one pin of this handle (ERR_INVALID_ARGUMENT if it holds none on `id`).
  MINIRAY_TODO("phase2 ObjectStore::Release");
}

bool ObjectStore::Contains([[maybe_unused]] const ObjectId& id) {
  // TODO(student): true only for a sealed object.
  MINIRAY_TODO("phase2 ObjectStore::Contains");
}

void ObjectStore::Delete([[maybe_unused]] const ObjectId& id) {
  // TODO(student): remove a sealed object. Refuse while any process has it pinned
  // (ERR_OBJECT_IN_USE); an unsealed object is its creator's to abort (ERR_OBJECT_NOT_SEALED).
  MINIRAY_TODO("phase2 ObjectStore::Delete");
}

StoreStats ObjectStore::Stats() {
  // TODO(student): fill every field of StoreStats (see object_store.h), under the lock.
  MINIRAY_TODO("phase2 ObjectStore::Stats");
}

void ObjectStore::Close() {
  // TODO(student): mark this handle closed, release the pins it still holds, and wake its waiting
  // gets so they fail with ERR_CLOSED instead of sleeping on.
  MINIRAY_TODO("phase2 ObjectStore::Close");
}

void ObjectStore::Lock() {
  CheckOpen();
  if (header()->mutex.Lock(lock_timeout_ms_)) Recover();
}

void ObjectStore::Unlock() { header()->mutex.Unlock(); }

}  // namespace miniray::phase2
