// Phase 2: YOUR CODE GOES HERE (the object store: lifecycle, pins, owners, waiting, recovery).
//
// Every function marked TODO throws "not implemented" until you write it. Creating, opening and
// unlinking the segment are given (you wrote them in phase 1; here they use native-common's
// Segment and RobustMutex), and so is the locking helper MINIRAY_LOCKED(), which repairs the
// segment first when the header says a holder died. The lesson is phase2-objects/README.md.
#include "object_store.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "miniray/crash_point.h"
#include "miniray/errors.h"
#include "miniray/futex.h"
#include "miniray/process_identity.h"

namespace miniray::phase2 {

ObjectStore::ObjectStore(std::unique_ptr<Segment> segment, uint32_t lock_timeout_ms)
    : segment_(std::move(segment)),
      header_(segment_->At<StoreHeader>(0)),
      journal_(*segment_),
      table_(*segment_, &header_->table, journal_),
      allocator_(*segment_, &header_->allocator, journal_),
      lock_timeout_ms_(lock_timeout_ms) {}

ObjectStore::~ObjectStore() {
  try {
    Close();
  } catch (...) {
    // A destructor never throws; what Close() could not give back, Reclaim() will.
  }
}

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
  const uint64_t data_offset = DataOffset(options.table_size);
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t size = AlignUp(data_offset + AlignUp(options.capacity, kAlignment), page);

  auto segment = Segment::Create(name, size);
  try {
    std::unique_ptr<ObjectStore> store(new ObjectStore(std::move(segment), options.lock_timeout_ms));
    StoreHeader* h = store->header_;
    h->common.state.store(CommonHeader::kInitialising, std::memory_order_relaxed);
    h->common.layout_version = kLayoutVersion;
    h->common.segment_size = size;
    h->mutex.Init();
    store->table_.Init(TableOffset(), options.table_size);
    store->allocator_.Init(data_offset, size);  // page rounding is capacity too
    h->common.magic = kMagic;
    PublishReady(&h->common);
    store->RegisterClient();
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
  if (store->allocator_.begin() != DataOffset(store->table_.slots())) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " has overlapping regions");
  }
  store->RegisterClient();
  return store;
}

void ObjectStore::Unlink(const std::string& name) { Segment::Unlink(name); }

StoreLayout ObjectStore::layout() const {
  return {TableOffset(), TableBytes(table_.slots()), allocator_.begin(), allocator_.capacity(),
          client_};
}

void ObjectStore::CheckOpen() const {
  if (closed_.load(std::memory_order_relaxed)) throw Error(ErrorCode::kClosed, "store is closed");
}

// Holding the lock: first repair whatever a dead holder left half-done.
inline void ObjectStore::RepairIfNeeded(bool holder_died) {
  // Written before anything else: if this process dies while repairing, the next locker repairs.
  if (holder_died) header_->repair = 1;
  if (header_->repair != 0 || journal_.open()) Recover();
}

// Scoped lock that repairs the segment first when the header says it needs it.
#define MINIRAY_LOCKED()                                \
  LockGuard guard(header_->mutex, lock_timeout_ms_);    \
  RepairIfNeeded(guard.recovered())

void ObjectStore::Recover() {
  // TODO(student): you hold the lock and the segment needs repair: a holder died in the middle of
  // something, or a recovery before yours failed. Undo the interrupted change (the journal can),
  // give back what dead clients held, wake every waiter, and only then clear header_->repair.
  // If you are killed half-way, the next locker runs all of this again: make sure that is safe.
  MINIRAY_TODO("phase2 ObjectStore::Recover");
}

void ObjectStore::RegisterClient() {
  // TODO(student): under the lock, take a free client record for this handle (ERR_TABLE_FULL when
  // none is left, even after giving back the records of dead processes) and remember its index in
  // client_. Its owner is SelfIdentity() (pid *and* start time). A record is three fields: in
  // which order may they become visible? (Or: do you need to care, inside a transaction?)
  MINIRAY_TODO("phase2 ObjectStore::RegisterClient");
}

ReclaimStats ObjectStore::ReleaseClientLocked([[maybe_unused]] uint32_t c) {
  // TODO(student) (helper for Close and reclaiming): give back everything client `c` holds: its
  // pins, and the objects it created and never sealed (nobody else may seal or abort those). Then
  // free its record. A process may die half-way through this too: what then?
  MINIRAY_TODO("phase2 ObjectStore::ReleaseClientLocked");
}

ReclaimStats ObjectStore::ReclaimLocked() {
  // TODO(student) (helper): every open client record whose owner is no longer alive (IsAlive in
  // native-common/include/miniray/process_identity.h; never just "a process with that pid
  // exists") is released.
  MINIRAY_TODO("phase2 ObjectStore::ReclaimLocked");
}

Location ObjectStore::LocationOf([[maybe_unused]] const ObjectEntry* entry) const {
  // TODO(student) (helper): the entry's offset and size, after checking they lie inside the data
  // region (ERR_SEGMENT_CORRUPT): they come from shared memory.
  MINIRAY_TODO("phase2 ObjectStore::LocationOf");
}

Location ObjectStore::CreateObject([[maybe_unused]] const ObjectId& id, [[maybe_unused]] uint64_t size) {
  // TODO(student): under the lock. Before you answer ERR_SHM_FULL or ERR_TABLE_FULL, could a dead
  // process be holding the space or the slots?
  MINIRAY_TODO("phase2 ObjectStore::CreateObject");
}

Location ObjectStore::CreateLocked([[maybe_unused]] const ObjectId& id, [[maybe_unused]] uint64_t size) {
  // TODO(student) (helper): a table entry and a block, in one transaction, so that a failure (or a
  // death) half-way leaves neither. The new object is unsealed, created by this client, and pinned
  // once by it.
  MINIRAY_TODO("phase2 ObjectStore::CreateLocked");
}

void ObjectStore::AbortQuietly([[maybe_unused]] const ObjectId& id) {
  // TODO(student) (helper for Put): abort, and swallow the error if that fails too.
  MINIRAY_TODO("phase2 ObjectStore::AbortQuietly");
}

void ObjectStore::Put([[maybe_unused]] const ObjectId& id, [[maybe_unused]] const uint8_t* data,
                      [[maybe_unused]] uint64_t size) {
  // TODO(student): create, copy, seal, release, all or nothing: if any step after the create
  // fails, the id must be free again. What if `data` is a view of this very segment?
  MINIRAY_TODO("phase2 ObjectStore::Put");
}

void ObjectStore::SealLocked([[maybe_unused]] ObjectEntry* entry,
                             [[maybe_unused]] bool release_creator_pin) {
  // TODO(student) (helper): unsealed -> sealed, in a transaction. A get() in another process may
  // be asleep waiting for exactly this: how does it learn, and what if this process dies right
  // after the seal? (futex.h)
  MINIRAY_TODO("phase2 ObjectStore::SealLocked");
}

void ObjectStore::Seal([[maybe_unused]] const ObjectId& id) {
  // TODO(student): ERR_OBJECT_NOT_FOUND, ERR_OBJECT_SEALED; then SealLocked.
  MINIRAY_TODO("phase2 ObjectStore::Seal");
}

void ObjectStore::DropLocked([[maybe_unused]] ObjectEntry* entry, [[maybe_unused]] bool tidy) {
  // TODO(student) (helper for Abort, Delete and ReleaseClientLocked): remove the entry and give its
  // space back, as one transaction.
  MINIRAY_TODO("phase2 ObjectStore::DropLocked");
}

void ObjectStore::Abort([[maybe_unused]] const ObjectId& id) {
  // TODO(student): drop an unsealed object (ERR_OBJECT_NOT_FOUND, ERR_OBJECT_SEALED). Who may?
  MINIRAY_TODO("phase2 ObjectStore::Abort");
}

void ObjectStore::PinLocked([[maybe_unused]] ObjectEntry* entry) {
  // TODO(student) (helper): one more pin of this client on the entry. One write: does it need a
  // transaction?
  MINIRAY_TODO("phase2 ObjectStore::PinLocked");
}

GetResult ObjectStore::Get([[maybe_unused]] const ObjectId& id, [[maybe_unused]] int64_t timeout_ms) {
  // TODO(student): a loop. Under the lock, look the id up; when it is sealed, pin it and return
  // its location; when the deadline has passed, say what it was. Otherwise remember the futex
  // word, unlock, and sleep on it for the remaining time (never longer than a few seconds). Never
  // sleep holding the lock. Fail with ERR_CLOSED once Close() was called, even while asleep.
  // This is every get()'s path: keep it lean.
  MINIRAY_TODO("phase2 ObjectStore::Get");
}

std::vector<GetResult> ObjectStore::GetMany([[maybe_unused]] const std::vector<ObjectId>& ids,
                                            [[maybe_unused]] int64_t timeout_ms) {
  // TODO(student): Get for several ids: wait until all are sealed or the time is up, then pin the
  // sealed ones (all of them or none: check before you pin).
  MINIRAY_TODO("phase2 ObjectStore::GetMany");
}

void ObjectStore::Release([[maybe_unused]] const ObjectId& id) {
  // TODO(student): undo one pin of this handle (ERR_INVALID_ARGUMENT if it holds none on `id`;
  // ERR_OBJECT_NOT_SEALED for the creator's pin before seal).
  MINIRAY_TODO("phase2 ObjectStore::Release");
}

bool ObjectStore::Contains([[maybe_unused]] const ObjectId& id) {
  // TODO(student): true only for a sealed object.
  MINIRAY_TODO("phase2 ObjectStore::Contains");
}

void ObjectStore::Delete([[maybe_unused]] const ObjectId& id) {
  // TODO(student): remove a sealed object. Refuse while any client has it pinned
  // (ERR_OBJECT_IN_USE); an unsealed object is its creator's to abort (ERR_OBJECT_NOT_SEALED).
  MINIRAY_TODO("phase2 ObjectStore::Delete");
}

StoreStats ObjectStore::Stats() {
  // TODO(student): fill every field of StoreStats (see object_store.h), under the lock.
  MINIRAY_TODO("phase2 ObjectStore::Stats");
}

ReclaimStats ObjectStore::Reclaim() {
  // TODO(student): ReclaimLocked, under the lock.
  MINIRAY_TODO("phase2 ObjectStore::Reclaim");
}

void ObjectStore::Close() {
  // TODO(student): mark this handle closed (only once), give back what its client holds and free
  // its record, and wake its waiting gets so they fail with ERR_CLOSED instead of sleeping on.
  // Closing never throws. What if this very thread holds the lock (a test's debug.lock())?
  MINIRAY_TODO("phase2 ObjectStore::Close");
}

void ObjectStore::Lock() {
  CheckOpen();
  const bool died = header_->mutex.Lock(lock_timeout_ms_);
  try {
    RepairIfNeeded(died);
  } catch (...) {
    header_->mutex.Unlock();
    throw;
  }
  debug_locked_ = true;
}

void ObjectStore::Unlock() {
  debug_locked_ = false;
  header_->mutex.Unlock();
}

}  // namespace miniray::phase2
