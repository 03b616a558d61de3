// Phase 2 reference: the object store.
//
// One robust process-shared mutex guards the table, the blocks, the counters and the client
// records. Every change of more than one word is a journal transaction (layout/journal.h): a
// holder killed at any point leaves either the state before the change or the state after it,
// and the next locker undoes a half-done one. Whether the next locker must repair is written in
// the segment (StoreHeader::repair, and an open journal), not only reported by the lock: a
// recovery that fails, or whose process dies too, is run again by the locker after it.
//
// Waiting for a seal uses a futex word in the header (seal_seq): a waiter reads it under the lock,
// unlocks and sleeps while it is unchanged; Seal bumps it and wakes everyone *before* its
// transaction commits, so a committed seal has always been announced, whenever its process dies.
#include "object_store.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "miniray/crash_point.h"
#include "miniray/errors.h"
#include "miniray/futex.h"
#include "miniray/process_identity.h"

namespace miniray::phase2 {

namespace {

// A waiter re-checks at least this often. Nothing relies on it for a wake-up (see Seal); it bounds
// the cost of a wake-up lost to something this code does not foresee.
constexpr int64_t kMaxSleepMs = 5000;

constexpr uint32_t kUnsealed = static_cast<uint32_t>(SlotState::kUnsealed);
constexpr uint32_t kSealed = static_cast<uint32_t>(SlotState::kSealed);
constexpr uint32_t kClientFree = static_cast<uint32_t>(ClientState::kFree);
constexpr uint32_t kClientOpen = static_cast<uint32_t>(ClientState::kOpen);
constexpr size_t kPinWords = sizeof(ObjectEntry::pins) / 8;

bool IsSealed(const ObjectEntry* e) { return e->state == kSealed; }

[[noreturn]] void NotFound(const ObjectId& id) {
  throw Error(ErrorCode::kObjectNotFound, "object " + id.Hex() + " is not in the store");
}

[[noreturn]] void TooManyPins(const ObjectEntry* e, uint64_t pins) {
  throw Error(ErrorCode::kTableFull, "this handle holds " + std::to_string(pins) +
                                         " pins on object " + e->id.Hex() +
                                         ": release some (a get() in a loop without release?)");
}

uint64_t PinSum(const ObjectEntry* e) {
  uint64_t sum = 0;
  for (uint16_t p : e->pins) sum += p;
  return sum;
}

}  // namespace

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
  MINIRAY_CRASH_POINT("phase2.recover.begin");
  // The interrupted change, undone: the table, the blocks and the counters are exactly as they
  // were before it began.
  journal_.Rollback();
  MINIRAY_CRASH_POINT("phase2.recover.undone");
  // What the dead held: their pins, the objects they created and will never seal.
  ReclaimLocked();
  // A dead sealer woke its waiters before committing; a dead closer may not have woken its own.
  header_->seal_seq.fetch_add(1, std::memory_order_release);
  FutexWakeAll(&header_->seal_seq);
  header_->repair = 0;
  MINIRAY_CRASH_POINT("phase2.recover.done");
}

void ObjectStore::RegisterClient() {
  const ProcessIdentity self = SelfIdentity();
  MINIRAY_LOCKED();
  // Records of dead processes may be all that is left.
  ReclaimLocked();
  uint32_t c = 0;
  while (c < kMaxClients && header_->clients[c].state != kClientFree) ++c;
  if (c == kMaxClients) {
    throw Error(ErrorCode::kTableFull, "all " + std::to_string(kMaxClients) +
                                           " client records are in use: that many handles are "
                                           "open on " + segment_->name() + " (close some)");
  }
  ClientRecord& r = header_->clients[c];
  Transaction tx(journal_);
  journal_.Set(&r.owner.pid, self.pid);
  journal_.Set(&r.owner.reserved, uint32_t{0});
  journal_.Set(&r.owner.start_time, self.start_time);
  journal_.Set(&header_->client_serial, header_->client_serial + 1);
  journal_.Set(&r.serial, header_->client_serial);
  journal_.Set(&r.state, kClientOpen);
  MINIRAY_CRASH_POINT("phase2.client.opened");
  tx.Commit();
  client_ = c;
}

ReclaimStats ObjectStore::ReleaseClientLocked(uint32_t c) {
  ReclaimStats out{};
  for (uint64_t i = 0; i < table_.slots(); ++i) {
    ObjectEntry* e = table_.SlotAt(i);
    if (!IsLive(e->state)) continue;
    if (e->state == kUnsealed && e->creator == c) {
      // Nobody else may write or abort it, and its creator is gone: drop it (tidy afterwards, so
      // that no entry moves under this walk).
      DropLocked(e, false);
      out.objects += 1;
      MINIRAY_CRASH_POINT("phase2.client.aborted");
      continue;
    }
    const uint16_t pins = e->pins[c];
    if (pins != 0) {
      e->pins[c] = 0;  // one write: needs no transaction
      out.pins += pins;
      MINIRAY_CRASH_POINT("phase2.client.unpinned");
    }
  }
  ClientRecord& r = header_->clients[c];
  Transaction tx(journal_);
  journal_.Set(&r.state, kClientFree);
  journal_.Set(&r.owner.pid, int32_t{0});
  journal_.Set(&r.owner.start_time, uint64_t{0});
  MINIRAY_CRASH_POINT("phase2.client.freed");
  tx.Commit();
  table_.Tidy();
  return out;
}

ReclaimStats ObjectStore::ReclaimLocked() {
  ReclaimStats total{};
  for (uint32_t c = 0; c < kMaxClients; ++c) {
    if (c == client_) continue;
    const ClientRecord r = header_->clients[c];
    if (r.state != kClientOpen) continue;
    bool alive = true;
    try {
      alive = IsAlive(r.owner);
    } catch (const Error&) {
      // /proc did not answer: keep the record rather than take a live process's pins.
    }
    if (alive) continue;
    const ReclaimStats s = ReleaseClientLocked(c);
    total.clients += 1;
    total.pins += s.pins;
    total.objects += s.objects;
  }
  return total;
}

Location ObjectStore::LocationOf(const ObjectEntry* e) const {
  const uint64_t offset = e->offset;
  const uint64_t size = e->size;
  if (offset < allocator_.begin() + sizeof(BlockHeader) || offset > allocator_.end() ||
      size > allocator_.end() - offset) {
    throw Error(ErrorCode::kSegmentCorrupt, "object " + e->id.Hex() + " has offset " +
                                                std::to_string(offset) + " and size " +
                                                std::to_string(size) +
                                                ", outside the data region");
  }
  return {offset, size};
}

Location ObjectStore::CreateObject(const ObjectId& id, uint64_t size) {
  CheckOpen();
  Location loc{};
  {
    MINIRAY_LOCKED();
    try {
      loc = CreateLocked(id, size);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kShmFull && e.code() != ErrorCode::kTableFull) throw;
      // Before saying "full": dead processes may hold the space or the slots.
      if (ReclaimLocked().clients == 0) throw;
      loc = CreateLocked(id, size);
    }
  }
  // From here the creator writes its object without the lock; killed now, it leaves an unsealed
  // object and its pin to whoever reclaims.
  MINIRAY_CRASH_POINT("phase2.create.unlocked");
  return loc;
}

Location ObjectStore::CreateLocked(const ObjectId& id, uint64_t size) {
  Transaction tx(journal_);
  ObjectEntry* e = table_.Insert(id);
  const uint64_t offset = allocator_.Allocate(size);
  journal_.Set(&e->offset, offset);
  journal_.Set(&e->size, size);
  journal_.Set(&e->creator, client_);
  journal_.Set(&e->pins[client_], uint16_t{1});  // the creator's pin, as in Plasma
  MINIRAY_CRASH_POINT("phase2.create.filled");
  tx.Commit();
  MINIRAY_CRASH_POINT("phase2.create.done");
  return {offset, size};
}

void ObjectStore::AbortQuietly(const ObjectId& id) {
  try {
    Abort(id);
  } catch (const Error&) {
    // The object stays with this handle, unsealed: Close() (or this process's death) drops it.
  }
}

void ObjectStore::Put(const ObjectId& id, const uint8_t* data, uint64_t size) {
  const Location loc = CreateObject(id, size);
  uint8_t* dst = segment_->base() + loc.offset;
  const auto d = reinterpret_cast<uintptr_t>(dst);
  const auto s = reinterpret_cast<uintptr_t>(data);
  if (size > 0 && s < d + size && d < s + size) {
    // Only a view of an object that was released and deleted can reach a block that was free.
    AbortQuietly(id);
    throw Error(ErrorCode::kInvalidArgument,
                "put(): the data to store lies in the very space object " + id.Hex() +
                    " was given: it is a view of an object that was released and deleted (copy "
                    "what you need before you release)");
  }
  if (size > 0) std::memcpy(dst, data, size);
  MINIRAY_CRASH_POINT("phase2.put.copied");
  try {
    CheckOpen();
    MINIRAY_LOCKED();
    ObjectEntry* e = table_.Find(id);
    if (e == nullptr) NotFound(id);
    if (IsSealed(e)) {
      // Another handle sealed it after the copy was complete: the put happened; drop our pin.
      if (e->pins[client_] > 0) e->pins[client_] -= 1;
      return;
    }
    SealLocked(e, true);
  } catch (const Error&) {
    AbortQuietly(id);  // all or nothing: a put that throws leaves the id free
    throw;
  }
}

void ObjectStore::SealLocked(ObjectEntry* e, bool release_creator_pin) {
  Transaction tx(journal_);
  journal_.Set(&e->state, kSealed);
  journal_.Set(&header_->sealed_count, header_->sealed_count + 1);
  if (release_creator_pin) {
    const uint16_t pins = e->pins[client_];
    if (pins == 0) throw Error(ErrorCode::kInvalidArgument, "put() lost its creator's pin");
    journal_.Set(&e->pins[client_], static_cast<uint16_t>(pins - 1));
  }
  MINIRAY_CRASH_POINT("phase2.seal.state");
  // Announce before committing, while holding the lock: the waiters wake, wait for the lock and
  // then look. If this process dies before the commit the seal is undone and they wait on; if it
  // dies after, they were already woken. Either way no waiter sleeps through a seal.
  header_->seal_seq.fetch_add(1, std::memory_order_release);
  MINIRAY_CRASH_POINT("phase2.seal.bumped");
  FutexWakeAll(&header_->seal_seq);
  MINIRAY_CRASH_POINT("phase2.seal.woken");
  tx.Commit();
  MINIRAY_CRASH_POINT("phase2.seal.committed");
}

void ObjectStore::Seal(const ObjectId& id) {
  CheckOpen();
  {
    MINIRAY_LOCKED();
    ObjectEntry* e = table_.Find(id);
    if (e == nullptr) NotFound(id);
    if (IsSealed(e)) throw Error(ErrorCode::kObjectSealed, "object " + id.Hex() + " is already sealed");
    SealLocked(e, false);
  }
  MINIRAY_CRASH_POINT("phase2.seal.unlocked");
}

void ObjectStore::DropLocked(ObjectEntry* e, bool tidy) {
  const uint64_t offset = e->offset;
  {
    Transaction tx(journal_);
    // A slot that holds no object keeps no pins (the creator's, for an unsealed object).
    auto* words = reinterpret_cast<uint64_t*>(e->pins);
    for (size_t w = 0; w < kPinWords; ++w) {
      uint64_t v;
      std::memcpy(&v, words + w, 8);
      if (v != 0) journal_.Set(words + w, uint64_t{0});
    }
    if (IsSealed(e)) journal_.Set(&header_->sealed_count, header_->sealed_count - 1);
    table_.Erase(e);
    allocator_.Free(offset);
    MINIRAY_CRASH_POINT("phase2.drop.freed");
    tx.Commit();
  }
  MINIRAY_CRASH_POINT("phase2.drop.done");
  if (tidy) table_.Tidy();
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
  if (e->creator != client_) {
    const uint32_t c = e->creator;
    const std::string who =
        c < kMaxClients ? "pid " + std::to_string(header_->clients[c].owner.pid) : "nobody known";
    throw Error(ErrorCode::kObjectInUse, "object " + id.Hex() + " is being created by another handle (" +
                                             who + "): only its creator may abort it");
  }
  DropLocked(e, true);
}

void ObjectStore::PinLocked(ObjectEntry* e) {
  const uint16_t pins = e->pins[client_];
  if (pins == kMaxPinsPerClient) TooManyPins(e, pins);
  e->pins[client_] = static_cast<uint16_t>(pins + 1);  // one write: needs no transaction
  MINIRAY_CRASH_POINT("phase2.get.pinned");
}

GetResult ObjectStore::Get(const ObjectId& id, int64_t timeout_ms) {
  CheckOpen();
  // A poll (timeout 0) never reads the clock.
  const int64_t deadline = timeout_ms <= 0 ? timeout_ms : MonotonicMs() + timeout_ms;
  for (;;) {
    uint32_t seen;
    {
      MINIRAY_LOCKED();
      // Checked under the lock: Close() takes the lock before it releases this handle's pins.
      CheckOpen();
      ObjectEntry* e = table_.Find(id);
      if (e != nullptr && IsSealed(e)) {
        const Location loc = LocationOf(e);
        PinLocked(e);
        return {GetStatus::kSealed, loc};
      }
      const bool expired = deadline == 0 || (deadline > 0 && MonotonicMs() >= deadline);
      if (expired) return {e == nullptr ? GetStatus::kMissing : GetStatus::kUnsealed, {0, 0}};
      // Read under the lock: a seal after this point changes the word, so the sleep below
      // cannot miss it.
      seen = header_->seal_seq.load(std::memory_order_acquire);
    }
    if (closed_.load()) throw Error(ErrorCode::kClosed, "store was closed while get() waited");
    int64_t sleep = kMaxSleepMs;
    if (deadline >= 0) sleep = std::min(sleep, std::max<int64_t>(deadline - MonotonicMs(), 0));
    FutexWait(&header_->seal_seq, seen, sleep);
  }
}

std::vector<GetResult> ObjectStore::GetMany(const std::vector<ObjectId>& ids, int64_t timeout_ms) {
  CheckOpen();
  const int64_t deadline = timeout_ms <= 0 ? timeout_ms : MonotonicMs() + timeout_ms;
  std::vector<GetResult> out(ids.size(), GetResult{GetStatus::kMissing, {0, 0}});
  std::vector<ObjectEntry*> entries(ids.size(), nullptr);
  for (;;) {
    uint32_t seen;
    {
      MINIRAY_LOCKED();
      CheckOpen();
      bool all_sealed = true;
      for (size_t i = 0; i < ids.size(); ++i) {
        ObjectEntry* e = table_.Find(ids[i]);
        entries[i] = e != nullptr && IsSealed(e) ? e : nullptr;
        out[i].status = e == nullptr ? GetStatus::kMissing
                        : IsSealed(e) ? GetStatus::kSealed
                                      : GetStatus::kUnsealed;
        if (entries[i] != nullptr) out[i].location = LocationOf(e);
        if (entries[i] == nullptr) all_sealed = false;
      }
      const bool expired = deadline == 0 || (deadline > 0 && MonotonicMs() >= deadline);
      if (all_sealed || expired) {
        // Pin all or none: first make sure no pin count would overflow (an id may repeat).
        for (size_t i = 0; i < ids.size(); ++i) {
          const ObjectEntry* e = entries[i];
          if (e == nullptr || e->pins[client_] + ids.size() <= kMaxPinsPerClient) continue;
          const auto end = entries.begin() + static_cast<std::ptrdiff_t>(i) + 1;
          const auto repeats = static_cast<uint64_t>(std::count(entries.begin(), end, e));
          if (e->pins[client_] + repeats > kMaxPinsPerClient) TooManyPins(e, e->pins[client_]);
        }
        for (ObjectEntry* e : entries) {
          if (e != nullptr) PinLocked(e);
        }
        return out;
      }
      seen = header_->seal_seq.load(std::memory_order_acquire);
    }
    if (closed_.load()) throw Error(ErrorCode::kClosed, "store was closed while get() waited");
    int64_t sleep = kMaxSleepMs;
    if (deadline >= 0) sleep = std::min(sleep, std::max<int64_t>(deadline - MonotonicMs(), 0));
    FutexWait(&header_->seal_seq, seen, sleep);
  }
}

void ObjectStore::Release(const ObjectId& id) {
  CheckOpen();
  MINIRAY_LOCKED();
  ObjectEntry* e = table_.Find(id);
  if (e == nullptr || e->pins[client_] == 0) {
    throw Error(ErrorCode::kInvalidArgument,
                "object " + id.Hex() + " is not pinned by this handle (released twice?)");
  }
  if (!IsSealed(e)) {
    throw Error(ErrorCode::kObjectNotSealed,
                "object " + id.Hex() + " is not sealed: its creator's pin lasts until seal() "
                                       "(abort() drops the object)");
  }
  MINIRAY_CRASH_POINT("phase2.release.found");
  e->pins[client_] = static_cast<uint16_t>(e->pins[client_] - 1);  // one write
  MINIRAY_CRASH_POINT("phase2.release.unpinned");
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
  const uint64_t pins = PinSum(e);
  if (pins > 0) {
    throw Error(ErrorCode::kObjectInUse,
                "object " + id.Hex() + " is pinned " + std::to_string(pins) +
                    " time(s) (gets not released, or its creator's pin after seal): release first");
  }
  DropLocked(e, true);
}

StoreStats ObjectStore::Stats() {
  CheckOpen();
  MINIRAY_LOCKED();
  StoreStats s{};
  s.segment_size = segment_->size();
  s.capacity = allocator_.capacity();
  s.used_bytes = allocator_.used_bytes();
  s.free_bytes = s.capacity - std::min(s.used_bytes, s.capacity);
  s.largest_free = allocator_.LargestFree();
  s.free_blocks = allocator_.free_blocks();
  s.object_count = table_.live();
  s.sealed_count = header_->sealed_count;
  s.table_size = table_.slots();
  s.tombstones = table_.tombstones();
  for (uint64_t i = 0; i < table_.slots(); ++i) {
    const ObjectEntry* e = table_.SlotAt(i);
    if (IsLive(e->state)) s.pinned += PinSum(e);
  }
  for (const ClientRecord& r : header_->clients) {
    if (r.state == kClientOpen) s.clients += 1;
  }
  s.lock_recoveries = header_->mutex.recoveries.load();
  return s;
}

ReclaimStats ObjectStore::Reclaim() {
  CheckOpen();
  MINIRAY_LOCKED();
  return ReclaimLocked();
}

void ObjectStore::Close() {
  if (closed_.exchange(true)) return;
  if (client_ >= kMaxClients) return;  // never registered: the open failed half-way
  bool locked = false;
  try {
    bool died = false;
    try {
      died = header_->mutex.Lock(lock_timeout_ms_);
      locked = true;
    } catch (const Error& e) {
      // This thread holds the lock already (debug.lock()): do the work inside that hold.
      if (e.code() != ErrorCode::kDeadlock) throw;
    }
    RepairIfNeeded(died);
    ReleaseClientLocked(client_);
  } catch (const Error&) {
    // Closing never fails; what could not be given back now, Reclaim() gives back once this
    // process is gone.
  }
  // Wakes this handle's waiting gets (in every process, harmlessly: they re-check and sleep).
  header_->seal_seq.fetch_add(1, std::memory_order_release);
  if (locked || debug_locked_) {
    debug_locked_ = false;
    header_->mutex.Unlock();
  }
  FutexWakeAll(&header_->seal_seq);
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
