// Phase 1 reference solution.
//
// The segment is memory every process that maps it can write, so nothing read from it is trusted
// twice: the geometry is checked at open (without overflow) and copied into this object, every
// count and offset read later is checked against that copy before it is used, and a segment that
// another user owns or that others may open is refused.
#include "shm_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "miniray/errors.h"
#include "miniray/mutex_kind.h"
#include "miniray/process_identity.h"

namespace miniray::phase1 {

namespace {

constexpr uint32_t kInitialising = 1;
constexpr uint32_t kReady = 2;

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

void ValidateName(const std::string& name) {
  bool ok = name.size() >= 2 && name.size() <= 201 && name[0] == '/' && name != "/." &&
            name != "/..";
  for (size_t i = 1; ok && i < name.size(); ++i) {
    char c = name[i];
    ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
  }
  if (!ok) {
    throw Error(ErrorCode::kBadName,
                "bad segment name '" + name + "': use '/' then 1-200 of [A-Za-z0-9._-]");
  }
}

// Closes a descriptor when it goes out of scope: the mapping outlives it.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

void CheckRc(int rc, const char* what) {
  if (rc != 0) ThrowErrno(ErrorCode::kSystem, what, rc);
}

// Process-shared (every process maps the same mutex), robust (a holder's death is reported to the
// next locker instead of wedging it) and error-checking (an unlock by a non-holder is an error).
void InitMutex(pthread_mutex_t* mutex) {
  pthread_mutexattr_t attr;
  CheckRc(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
  CheckRc(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "setpshared");
  CheckRc(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST), "setrobust");
  CheckRc(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK), "settype");
  int rc = pthread_mutex_init(mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  CheckRc(rc, "pthread_mutex_init");
}

// True while the mutex still has the kind InitMutex gave it (see miniray/mutex_kind.h).
bool HasOwnKind(const pthread_mutex_t& mutex) {
  static const int expected = MutexKindFrom(InitMutex);
  return MutexKindOf(mutex) == expected;
}

// One load of a field of the segment. A plain read may legally be made twice by the compiler (it
// assumes nobody else writes), and another process may change the field in between: a check of
// the first read would then not cover the second. Read once, check, use the value read.
template <typename T>
T ReadOnce(const T& field) {
  return std::atomic_ref<T>(const_cast<T&>(field)).load(std::memory_order_relaxed);
}

// The stores that publish a put happen in this order, and the compiler must not reorder them: a
// release store keeps every write before it (the bytes, the entry) before it.
template <typename T>
void Publish(T& field, T value) {
  std::atomic_ref<T>(field).store(value, std::memory_order_release);
}

[[noreturn]] void Corrupt(const std::string& name, const std::string& what) {
  throw Error(ErrorCode::kSegmentCorrupt, "segment " + name + ": " + what);
}

}  // namespace

ShmStore::ShmStore(std::string name, uint8_t* base, size_t size, uint32_t lock_timeout_ms)
    : name_(std::move(name)), base_(base), size_(size), lock_timeout_ms_(lock_timeout_ms) {}

ShmStore::~ShmStore() { ::munmap(base_, size_); }

std::unique_ptr<ShmStore> ShmStore::Create(const std::string& name, const ShmOptions& options) {
  ValidateName(name);
  if (options.capacity == 0 || options.capacity > kMaxCapacity) {
    throw Error(ErrorCode::kInvalidArgument,
                "capacity must be 1.." + std::to_string(kMaxCapacity) + " bytes");
  }
  if (options.max_objects == 0 || options.max_objects > kMaxObjects) {
    throw Error(ErrorCode::kInvalidArgument,
                "maxObjects must be 1.." + std::to_string(kMaxObjects));
  }
  const uint64_t table_offset = AlignUp(sizeof(Header), kAlignment);
  const uint64_t data_offset =
      AlignUp(table_offset + uint64_t{options.max_objects} * sizeof(ObjectEntry), kAlignment);
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t size = AlignUp(data_offset + AlignUp(options.capacity, kAlignment), page);

  FdCloser fd{::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600)};
  if (fd.fd < 0) {
    if (errno == EEXIST) {
      throw Error(ErrorCode::kSegmentExists, "segment " + name + " already exists");
    }
    ThrowErrno(ErrorCode::kSystem, "shm_open " + name, errno);
  }
  uint8_t* base = nullptr;
  try {
    if (::ftruncate(fd.fd, static_cast<off_t>(size)) != 0) {
      ThrowErrno(ErrorCode::kShmFull, "ftruncate " + name, errno);
    }
    // Reserve the pages now: on a full /dev/shm this fails here, instead of a SIGBUS on first
    // touch in whichever process writes there first.
    int err = ::posix_fallocate(fd.fd, 0, static_cast<off_t>(size));
    if (err != 0) {
      throw Error(ErrorCode::kShmFull, "cannot reserve " + std::to_string(size) + " bytes for " +
                                           name + ": " + std::strerror(err));
    }
    void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.fd, 0);
    if (addr == MAP_FAILED) ThrowErrno(ErrorCode::kSystem, "mmap " + name, errno);
    base = static_cast<uint8_t*>(addr);

    // The creator alone initialises; openers wait for state == kReady.
    Header* h = reinterpret_cast<Header*>(base);
    h->state.store(kInitialising, std::memory_order_relaxed);
    h->layout_version = kLayoutVersion;
    h->segment_size = size;
    h->capacity = size - data_offset;  // page rounding is usable capacity too
    h->max_objects = options.max_objects;
    h->table_offset = table_offset;
    h->data_offset = data_offset;
    h->next_offset = 0;
    h->object_count = 0;
    h->holder_pid.store(0);
    h->recoveries.store(0);

    InitMutex(&h->mutex);

    h->magic = kMagic;
    h->state.store(kReady, std::memory_order_release);
  } catch (...) {
    if (base != nullptr) ::munmap(base, size);
    ::shm_unlink(name.c_str());
    throw;
  }
  std::unique_ptr<ShmStore> store(new ShmStore(name, base, size, options.lock_timeout_ms));
  store->geometry_ = {size, size - data_offset, options.max_objects, table_offset, data_offset};
  return store;
}

std::unique_ptr<ShmStore> ShmStore::Open(const std::string& name, uint32_t lock_timeout_ms) {
  ValidateName(name);
  FdCloser fd{::shm_open(name.c_str(), O_RDWR, 0)};
  if (fd.fd < 0) {
    if (errno == ENOENT) throw Error(ErrorCode::kSegmentNotFound, "no segment named " + name);
    ThrowErrno(ErrorCode::kSystem, "shm_open " + name, errno);
  }
  struct stat st;
  if (::fstat(fd.fd, &st) != 0) ThrowErrno(ErrorCode::kSystem, "fstat " + name, errno);
  // Only this user's processes may write what we are about to trust (Create makes it 0600).
  if (st.st_uid != ::geteuid()) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " belongs to uid " + std::to_string(st.st_uid) +
                                                ", not to uid " + std::to_string(::geteuid()));
  }
  if ((st.st_mode & 0077) != 0) {
    throw Error(ErrorCode::kLayoutMismatch,
                "segment " + name + " may be opened by group or others (mode " +
                    std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                    std::to_string(st.st_mode & 7) + "), so anyone could corrupt it");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < sizeof(Header)) {
    throw Error(ErrorCode::kLayoutMismatch,
                "segment " + name + " is " + std::to_string(size) + " bytes: not a phase-1 store");
  }
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.fd, 0);
  if (addr == MAP_FAILED) ThrowErrno(ErrorCode::kSystem, "mmap " + name, errno);
  std::unique_ptr<ShmStore> store(
      new ShmStore(name, static_cast<uint8_t*>(addr), size, lock_timeout_ms));
  store->CheckLayout();
  return store;
}

void ShmStore::CheckLayout() {
  Header* h = header();
  // Wait (bounded) for a creator that is still initialising.
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (h->state.load(std::memory_order_acquire) != kReady) {
    if (ReadOnce(h->magic) != 0 && ReadOnce(h->magic) != kMagic) break;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
        lock_timeout_ms_) {
      throw Error(ErrorCode::kLayoutMismatch, "segment " + name_ + " was never initialised");
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, nullptr);
  }
  if (ReadOnce(h->magic) != kMagic) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name_ + " is not a phase-1 store (magic)");
  }
  const uint32_t version = ReadOnce(h->layout_version);
  if (version != kLayoutVersion) {
    throw Error(ErrorCode::kLayoutMismatch,
                "segment " + name_ + " has layout version " + std::to_string(version) +
                    ", expected " + std::to_string(kLayoutVersion));
  }
  // Every size and offset is read once, into `g`, and only `g` is checked and kept. Each check is
  // written so that nothing can overflow: a sum such as table_offset + max_objects * 40 wraps past
  // 2^64 for a table_offset near 2^64, and a check of the wrapped sum passes.
  const Geometry g{ReadOnce(h->segment_size), ReadOnce(h->capacity), ReadOnce(h->max_objects),
                   ReadOnce(h->table_offset), ReadOnce(h->data_offset)};
  auto bad = [&](const std::string& what) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name_ + " has inconsistent sizes: " + what);
  };
  if (g.segment_size != size_) {
    bad("records " + std::to_string(g.segment_size) + " bytes, maps " + std::to_string(size_));
  }
  if (g.max_objects == 0 || g.max_objects > kMaxObjects) bad("max_objects " + std::to_string(g.max_objects));
  if (g.table_offset < sizeof(Header) || g.table_offset % kAlignment != 0 || g.table_offset > size_) {
    bad("table_offset " + std::to_string(g.table_offset));
  }
  const uint64_t table_bytes = g.max_objects * sizeof(ObjectEntry);  // at most 2^22 * 40: no overflow
  if (table_bytes > size_ - g.table_offset) bad("the table runs past the end of the segment");
  if (g.data_offset % kAlignment != 0 || g.data_offset > size_ || g.data_offset < g.table_offset ||
      g.data_offset - g.table_offset < table_bytes) {
    bad("data_offset " + std::to_string(g.data_offset));
  }
  if (g.capacity != size_ - g.data_offset || g.capacity == 0) bad("capacity " + std::to_string(g.capacity));
  geometry_ = g;
}

void ShmStore::Unlink(const std::string& name) {
  ValidateName(name);
  if (::shm_unlink(name.c_str()) != 0) {
    if (errno == ENOENT) throw Error(ErrorCode::kSegmentNotFound, "no segment named " + name);
    ThrowErrno(ErrorCode::kSystem, "shm_unlink " + name, errno);
  }
}

ObjectEntry* ShmStore::table() const {
  return reinterpret_cast<ObjectEntry*>(base_ + geometry_.table_offset);
}

void ShmStore::Lock() {
  Header* h = header();
  // A kind word overwritten by another process can steer glibc into a path that aborts.
  if (!HasOwnKind(h->mutex)) Corrupt(name_, "its lock is not the robust mutex it was made as");
  // Uncontended fast path: no clock read.
  int rc = pthread_mutex_trylock(&h->mutex);
  if (rc == 0) {
    h->holder_pid.store(static_cast<int32_t>(CurrentPid()));  // cached: getpid() is a syscall
    return;
  }
  if (rc == EBUSY) rc = LockWithDeadline();
  Acquired(rc);
}

int ShmStore::LockWithDeadline() {
  Header* h = header();
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += lock_timeout_ms_ / 1000;
  deadline.tv_nsec += static_cast<long>(lock_timeout_ms_ % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000L;
  }
  return pthread_mutex_clocklock(&h->mutex, CLOCK_MONOTONIC, &deadline);
}

void ShmStore::Acquired(int rc) {
  Header* h = header();
  if (rc == EOWNERDEAD) {
    // The previous holder died mid-critical-section. Mark the lock usable again (or it is
    // unrecoverable for everyone once we unlock), then repair what the holder may have left.
    CheckRc(pthread_mutex_consistent(&h->mutex), "pthread_mutex_consistent");
    h->recoveries.fetch_add(1);
    h->holder_pid.store(static_cast<int32_t>(CurrentPid()));
    Repair();
    return;
  } else if (rc == ETIMEDOUT) {
    int32_t holder = h->holder_pid.load();
    std::string who = holder <= 0 ? "an unknown process" : "pid " + std::to_string(holder);
    if (holder > 0 && ::kill(holder, 0) != 0 && errno == ESRCH) who += " (no longer running)";
    throw Error(ErrorCode::kLockTimeout, "lock on " + name_ + " not acquired within " +
                                             std::to_string(lock_timeout_ms_) + " ms; held by " +
                                             who);
  } else if (rc == EDEADLK) {
    throw Error(ErrorCode::kDeadlock, "this thread already holds the lock on " + name_);
  } else if (rc == ENOTRECOVERABLE || rc == EINVAL || rc == EAGAIN) {
    Corrupt(name_, "its lock is unrecoverable or damaged (pthread error " + std::to_string(rc) + ")");
  } else {
    CheckRc(rc, "pthread_mutex_clocklock");
  }
  h->holder_pid.store(static_cast<int32_t>(CurrentPid()));
}

// Put publishes next_offset, then object_count: a holder that dies between the two leaves space
// used by no counted object, which is lost but harmless. Were the stores reordered (as a compiler
// may do to plain stores, and did at -O3), a counted object could lie beyond next_offset and the
// next put would overwrite it. Publish() orders them; this repair makes the store safe even so:
// next_offset is moved past the end of every counted object. It cannot fail, so it never leaves
// the lock held.
void ShmStore::Repair() {
  Header* h = header();
  const uint64_t count = ReadOnce(h->object_count);
  if (count > geometry_.max_objects) return;  // garbage: every operation reports it
  uint64_t end = 0;
  const ObjectEntry* t = table();
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t offset = ReadOnce(t[i].offset);
    const uint64_t size = ReadOnce(t[i].size);
    if (offset > geometry_.capacity || size > geometry_.capacity - offset) continue;  // reported by Get
    end = std::max(end, offset + AlignUp(size, kAlignment));
  }
  end = std::min(end, geometry_.capacity);
  if (ReadOnce(h->next_offset) < end) Publish(h->next_offset, end);
}

void ShmStore::Unlock() {
  header()->holder_pid.store(0);
  pthread_mutex_unlock(&header()->mutex);
}

namespace {
class Guard {
 public:
  explicit Guard(ShmStore& s) : s_(s) { s_.Lock(); }
  ~Guard() { s_.Unlock(); }

 private:
  ShmStore& s_;
};
}  // namespace

ObjectId ShmStore::Put(const uint8_t* data, size_t size) {
  ObjectId id = ObjectId::Random();  // outside the lock: a syscall
  Guard guard(*this);
  Header* h = header();
  const Geometry& g = geometry_;
  const uint64_t count = ReadOnce(h->object_count);
  if (count > g.max_objects) Corrupt(name_, "object_count " + std::to_string(count) + " exceeds the table");
  if (count == g.max_objects) {
    throw Error(ErrorCode::kTableFull, "metadata table full: " + std::to_string(g.max_objects) + " objects");
  }
  const uint64_t next = ReadOnce(h->next_offset);
  if (next > g.capacity || next % kAlignment != 0) Corrupt(name_, "next_offset " + std::to_string(next));
  const uint64_t need = AlignUp(size, kAlignment);
  if (size > g.capacity || need > g.capacity - next) {
    throw Error(ErrorCode::kShmFull, "no room for " + std::to_string(size) + " bytes: " +
                                         std::to_string(g.capacity - next) + " of " +
                                         std::to_string(g.capacity) + " left");
  }
  if (size > 0) std::memcpy(base_ + g.data_offset + next, data, size);
  ObjectEntry& e = table()[count];
  e.id = id;
  e.reserved = 0;
  e.offset = next;
  e.size = size;
  // Publish last, in this order: a holder killed before these lines leaves the object uncounted.
  Publish(h->next_offset, next + need);
  Publish(h->object_count, count + 1);
  return id;
}

ObjectLocation ShmStore::Get(const ObjectId& id) {
  Guard guard(*this);
  const Geometry& g = geometry_;
  const uint64_t count = ReadOnce(header()->object_count);
  if (count > g.max_objects) Corrupt(name_, "object_count " + std::to_string(count) + " exceeds the table");
  const ObjectEntry* t = table();
  for (uint64_t i = 0; i < count; ++i) {
    if (t[i].id == id) {
      const uint64_t offset = ReadOnce(t[i].offset);
      const uint64_t size = ReadOnce(t[i].size);
      if (offset > g.capacity || size > g.capacity - offset) {
        Corrupt(name_, "object " + id.Hex() + " lies outside the data region");
      }
      return {g.data_offset + offset, size};
    }
  }
  throw Error(ErrorCode::kObjectNotFound, "object " + id.Hex() + " not found in " + name_);
}

ShmStats ShmStore::Stats() {
  Guard guard(*this);
  Header* h = header();
  const Geometry& g = geometry_;
  const uint64_t count = ReadOnce(h->object_count);
  const uint64_t next = ReadOnce(h->next_offset);
  if (count > g.max_objects || next > g.capacity) Corrupt(name_, "its counts exceed the table or the data region");
  return {g.segment_size, g.capacity, next, count, g.max_objects, h->recoveries.load()};
}

}  // namespace miniray::phase1
