// Phase 2 reference: the object store.
//
// One robust process-shared mutex guards the table and the allocator. Waiting for a seal uses a
// futex word in the header (seal_seq): a waiter reads it under the lock, unlocks and sleeps while
// it is unchanged; Seal bumps it under the lock and wakes everyone. No waiter count is kept
// anywhere, so a waiter or a waker SIGKILLed at any point leaves nothing to repair.
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

namespace {

// A waiter re-checks at least this often, in case a waker died between its bump and its wake.
constexpr int64_t kMaxSleepMs = 5000;

bool IsSealed(const ObjectEntry* e) { return e->state == static_cast<uint32_t>(SlotState::kSealed); }

[[noreturn]] void NotFound(const ObjectId& id) {
  throw Error(ErrorCode::kObjectNotFound, "object " + id.Hex() + " is not in the store");
}

}  // namespace

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
  // The dead holder may have stopped anywhere in Create/Seal/Abort/Delete/Rebuild. Make the table's
  // counts true again, drop entries whose blocks are not allocated blocks, free blocks no entry
  // owns, and abort unsealed objects whose creator is gone (nobody will ever seal them).
  table_.Recount();
  std::unordered_set<uint64_t> owned;
  uint64_t sealed = 0;
  for (uint64_t i = 0; i < table_.slots(); ++i) {
    ObjectEntry* e = table_.SlotAt(i);
    bool live = e->state == static_cast<uint32_t>(SlotState::kSealed) ||
                e->state == static_cast<uint32_t>(SlotState::kUnsealed);
    if (!live) continue;
    bool orphan = e->state == static_cast<uint32_t>(SlotState::kUnsealed) && e->creator_pid != 0 &&
                  ::kill(static_cast<pid_t>(e->creator_pid), 0) != 0 && errno == ESRCH;
    const AllocatorHeader& a = header()->allocator;
    bool outside = e->offset < a.begin + sizeof(BlockHeader) || e->offset > a.end ||
                   e->size > a.end - e->offset;
    if (orphan || outside) {
      e->state = static_cast<uint32_t>(SlotState::kTombstone);
      continue;
    }
    owned.insert(e->offset);
    if (IsSealed(e)) sealed += 1;
  }
  table_.Recount();
  allocator_.Rebuild([&](uint64_t payload) { return owned.count(payload) != 0; });
  header()->sealed_count = sealed;
  // Wake everyone: a waker may have died between its bump and its wake.
  header()->seal_seq.fetch_add(1);
  FutexWakeAll(&header()->seal_seq);
}

Location ObjectStore::CreateObject(const ObjectId& id, uint64_t size) {
  CheckOpen();
  MINIRAY_LOCKED();
  if (table_.Find(id) != nullptr) {
    throw Error(ErrorCode::kObjectExists, "object " + id.Hex() + " already exists");
  }
  // Allocate first: if this process dies before the entry exists, recovery frees the block.
  const uint64_t offset = allocator_.Allocate(size);
  ObjectEntry* e;
  try {
    e = table_.Insert(id);
  } catch (...) {
    allocator_.Free(offset);
    throw;
  }
  e->offset = offset;
  e->size = size;
  e->ref_count = 0;
  e->creator_pid = static_cast<uint32_t>(::getpid());
  return {offset, size};
}

void ObjectStore::Put(const ObjectId& id, const uint8_t* data, uint64_t size) {
  Location loc = CreateObject(id, size);
  if (size > 0) std::memcpy(segment_->At<uint8_t>(loc.offset, size), data, size);
  Seal(id);
}

void ObjectStore::Seal(const ObjectId& id) {
  CheckOpen();
  {
    MINIRAY_LOCKED();
    ObjectEntry* e = table_.Find(id);
    if (e == nullptr) NotFound(id);
    if (IsSealed(e)) throw Error(ErrorCode::kObjectSealed, "object " + id.Hex() + " is already sealed");
    e->state = static_cast<uint32_t>(SlotState::kSealed);
    header()->sealed_count += 1;
    header()->seal_seq.fetch_add(1, std::memory_order_release);
  }
  FutexWakeAll(&header()->seal_seq);
}

void ObjectStore::DropLocked(ObjectEntry* entry) {
  const uint64_t offset = entry->offset;
  if (IsSealed(entry)) header()->sealed_count -= 1;
  table_.Erase(entry);
  allocator_.Free(offset);
}

void ObjectStore::Abort(const ObjectId& id) {
  CheckOpen();
  MINIRAY_LOCKED();
  ObjectEntry* e = table_.Find(id);
  if (e == nullptr) NotFound(id);
  if (IsSealed(e)) {
    throw Error(ErrorCode::kObjectSealed,
                "object " + id.Hex() + " is sealed: abort() drops unsealed objects; use delete()");
  }
  DropLocked(e);
}

std::vector<GetResult> ObjectStore::Get(const std::vector<ObjectId>& ids, int64_t timeout_ms) {
  CheckOpen();
  // A poll (timeout 0) never reads the clock.
  const int64_t deadline = timeout_ms <= 0 ? timeout_ms : MonotonicMs() + timeout_ms;
  std::vector<GetResult> out(ids.size(), GetResult{GetStatus::kMissing, {0, 0}});
  for (;;) {
    uint32_t seen;
    {
      MINIRAY_LOCKED();
      // Checked under the lock: Close() takes the lock before releasing this handle's pins.
      CheckOpen();
      bool all_sealed = true;
      ObjectEntry* first = nullptr;  // the single-id get (the common case) needs no second Find
      for (size_t i = 0; i < ids.size(); ++i) {
        ObjectEntry* e = table_.Find(ids[i]);
        if (i == 0) first = e;
        out[i].status = e == nullptr ? GetStatus::kMissing
                        : IsSealed(e) ? GetStatus::kSealed
                                      : GetStatus::kUnsealed;
        if (out[i].status != GetStatus::kSealed) all_sealed = false;
      }
      const bool expired = deadline == 0 || (deadline > 0 && MonotonicMs() >= deadline);
      if (all_sealed || expired) {
        for (size_t i = 0; i < ids.size(); ++i) {
          if (out[i].status != GetStatus::kSealed) continue;
          ObjectEntry* e = ids.size() == 1 ? first : table_.Find(ids[i]);
          segment_->CheckRange(e->offset, e->size);
          e->ref_count += 1;
          pins_[ids[i]] += 1;
          out[i].location = {e->offset, e->size};
        }
        return out;
      }
      // Read the word under the lock: a seal after this point changes it, so the sleep below
      // cannot miss it.
      seen = header()->seal_seq.load(std::memory_order_acquire);
    }
    if (closed_.load()) throw Error(ErrorCode::kClosed, "store was closed while get() waited");
    int64_t sleep = kMaxSleepMs;
    if (deadline >= 0) sleep = std::min(sleep, std::max<int64_t>(deadline - MonotonicMs(), 0));
    FutexWait(&header()->seal_seq, seen, sleep);
  }
}

void ObjectStore::Release(const ObjectId& id) {
  CheckOpen();
  MINIRAY_LOCKED();
  auto it = pins_.find(id);
  if (it == pins_.end()) {
    throw Error(ErrorCode::kInvalidArgument,
                "object " + id.Hex() + " is not pinned by this handle (released twice?)");
  }
  ObjectEntry* e = table_.Find(id);
  if (e == nullptr) NotFound(id);  // cannot happen: a pinned object is never deleted
  if (e->ref_count > 0) e->ref_count -= 1;
  if (--it->second == 0) pins_.erase(it);
}

bool ObjectStore::Contains(const ObjectId& id) {
  CheckOpen();
  MINIRAY_LOCKED();
  ObjectEntry* e = table_.Find(id);
  return e != nullptr && IsSealed(e);
}

void ObjectStore::Delete(const ObjectId& id) {
  CheckOpen();
  MINIRAY_LOCKED();
  ObjectEntry* e = table_.Find(id);
  if (e == nullptr) NotFound(id);
  if (!IsSealed(e)) {
    throw Error(ErrorCode::kObjectNotSealed,
                "object " + id.Hex() + " is not sealed: its creator may still write it (use abort())");
  }
  if (e->ref_count > 0) {
    throw Error(ErrorCode::kObjectInUse, "object " + id.Hex() + " is pinned by " +
                                             std::to_string(e->ref_count) +
                                             " get(s): release them first");
  }
  DropLocked(e);
}

StoreStats ObjectStore::Stats() {
  CheckOpen();
  MINIRAY_LOCKED();
  StoreStats s{};
  s.segment_size = segment_->size();
  s.capacity = allocator_.capacity();
  s.used_bytes = allocator_.used_bytes();
  s.free_bytes = s.capacity - s.used_bytes;
  s.largest_free = allocator_.LargestFree();
  s.free_blocks = allocator_.free_blocks();
  s.object_count = table_.live();
  s.sealed_count = header()->sealed_count;
  s.table_size = table_.slots();
  s.tombstones = table_.tombstones();
  for (uint64_t i = 0; i < table_.slots(); ++i) {
    const ObjectEntry* e = table_.SlotAt(i);
    if (IsSealed(e)) s.pinned += e->ref_count;
  }
  s.lock_recoveries = header()->mutex.recoveries.load();
  return s;
}

void ObjectStore::Close() {
  if (closed_.exchange(true)) return;
  try {
    LockGuard guard(header()->mutex, lock_timeout_ms_);
    if (guard.recovered()) Recover();
      for (const auto& [id, count] : pins_) {
      ObjectEntry* e = table_.Find(id);
      if (e != nullptr) e->ref_count -= std::min(e->ref_count, count);
    }
    pins_.clear();
    // Wakes this handle's waiting gets (in every process, harmlessly: they re-check and sleep).
    header()->seal_seq.fetch_add(1);
  } catch (const Error&) {
    // Closing never fails; pins we could not release stay (as if this process had died).
    header()->seal_seq.fetch_add(1);
  }
  FutexWakeAll(&header()->seal_seq);
}

void ObjectStore::Lock() {
  CheckOpen();
  if (header()->mutex.Lock(lock_timeout_ms_)) Recover();
}

void ObjectStore::Unlock() { header()->mutex.Unlock(); }

}  // namespace miniray::phase2
