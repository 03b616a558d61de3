// Phase 1 reference solution.
#include "shm_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "miniray/errors.h"

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

    pthread_mutexattr_t attr;
    CheckRc(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    CheckRc(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "setpshared");
    CheckRc(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST), "setrobust");
    CheckRc(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK), "settype");
    int rc = pthread_mutex_init(&h->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    CheckRc(rc, "pthread_mutex_init");

    h->magic = kMagic;
    h->state.store(kReady, std::memory_order_release);
  } catch (...) {
    if (base != nullptr) ::munmap(base, size);
    ::shm_unlink(name.c_str());
    throw;
  }
  return std::unique_ptr<ShmStore>(new ShmStore(name, base, size, options.lock_timeout_ms));
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
  // Every process sets up the lock it is going to use.
  pthread_mutexattr_t attr;
  CheckRc(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
  CheckRc(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "setpshared");
  CheckRc(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST), "setrobust");
  CheckRc(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK), "settype");
  int rc = pthread_mutex_init(&store->header()->mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  CheckRc(rc, "pthread_mutex_init");
  return store;
}

void ShmStore::CheckLayout() const {
  Header* h = header();
  // Wait (bounded) for a creator that is still initialising.
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (h->state.load(std::memory_order_acquire) != kReady) {
    if (h->magic != 0 && h->magic != kMagic) break;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
        lock_timeout_ms_) {
      throw Error(ErrorCode::kLayoutMismatch, "segment " + name_ + " was never initialised");
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, nullptr);
  }
  if (h->magic != kMagic) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name_ + " is not a phase-1 store (magic)");
  }
  if (h->layout_version != kLayoutVersion) {
    throw Error(ErrorCode::kLayoutMismatch,
                "segment " + name_ + " has layout version " + std::to_string(h->layout_version) +
                    ", expected " + std::to_string(kLayoutVersion));
  }
  // Every size and offset an opener will use is checked against the mapping once, here.
  bool sane = h->segment_size == size_ && h->max_objects > 0 && h->max_objects <= kMaxObjects &&
              h->table_offset >= sizeof(Header) && h->table_offset % kAlignment == 0 &&
              h->data_offset % kAlignment == 0 &&
              h->data_offset >= h->table_offset + h->max_objects * sizeof(ObjectEntry) &&
              h->data_offset <= size_ && h->capacity == size_ - h->data_offset;
  if (!sane) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name_ + " has inconsistent sizes");
  }
}

void ShmStore::Unlink(const std::string& name) {
  ValidateName(name);
  if (::shm_unlink(name.c_str()) != 0) {
    if (errno == ENOENT) throw Error(ErrorCode::kSegmentNotFound, "no segment named " + name);
    ThrowErrno(ErrorCode::kSystem, "shm_unlink " + name, errno);
  }
}

ObjectEntry* ShmStore::table() const {
  return reinterpret_cast<ObjectEntry*>(base_ + header()->table_offset);
}

void ShmStore::Lock() {
  Header* h = header();
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += lock_timeout_ms_ / 1000;
  deadline.tv_nsec += static_cast<long>(lock_timeout_ms_ % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000L;
  }
  int rc = pthread_mutex_clocklock(&h->mutex, CLOCK_MONOTONIC, &deadline);
  if (rc == EOWNERDEAD) {
    // The previous holder died mid-critical-section. Put publishes object_count last, so a
    // half-written object is simply not counted: the state is consistent as it stands.
    CheckRc(pthread_mutex_consistent(&h->mutex), "pthread_mutex_consistent");
    h->recoveries.fetch_add(1);
  } else if (rc == ETIMEDOUT) {
    int32_t holder = h->holder_pid.load();
    std::string who = holder == 0 ? "an unknown process" : "pid " + std::to_string(holder);
    if (holder != 0 && ::kill(holder, 0) != 0 && errno == ESRCH) who += " (no longer running)";
    throw Error(ErrorCode::kLockTimeout, "lock on " + name_ + " not acquired within " +
                                             std::to_string(lock_timeout_ms_) + " ms; held by " +
                                             who);
  } else if (rc == EDEADLK) {
    throw Error(ErrorCode::kDeadlock, "this thread already holds the lock on " + name_);
  } else if (rc == ENOTRECOVERABLE) {
    throw Error(ErrorCode::kSegmentCorrupt, "the lock on " + name_ + " is unrecoverable");
  } else {
    CheckRc(rc, "pthread_mutex_clocklock");
  }
  h->holder_pid.store(static_cast<int32_t>(::getpid()));
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
  if (h->object_count >= h->max_objects) {
    throw Error(ErrorCode::kTableFull,
                "metadata table full: " + std::to_string(h->max_objects) + " objects");
  }
  const uint64_t need = AlignUp(size, kAlignment);
  if (h->next_offset > h->capacity || need > h->capacity - h->next_offset) {
    throw Error(ErrorCode::kShmFull, "no room for " + std::to_string(size) + " bytes: " +
                                         std::to_string(h->capacity - h->next_offset) + " of " +
                                         std::to_string(h->capacity) + " left");
  }
  const uint64_t offset = h->next_offset;
  if (size > 0) std::memcpy(base_ + h->data_offset + offset, data, size);
  ObjectEntry& e = table()[h->object_count];
  e.id = id;
  e.reserved = 0;
  e.offset = offset;
  e.size = size;
  // Publish last: a holder killed before this line leaves the object uncounted, not half-valid.
  h->next_offset = offset + need;
  h->object_count = h->object_count + 1;
  return id;
}

ObjectLocation ShmStore::Get(const ObjectId& id) {
  Guard guard(*this);
  Header* h = header();
  const uint64_t count = h->object_count;
  if (count > h->max_objects) {
    throw Error(ErrorCode::kSegmentCorrupt, "object count exceeds the table");
  }
  const ObjectEntry* t = table();
  for (uint64_t i = 0; i < count; ++i) {
    if (t[i].id == id) {
      if (t[i].offset > h->capacity || t[i].size > h->capacity - t[i].offset) {
        throw Error(ErrorCode::kSegmentCorrupt, "object " + id.Hex() + " lies outside the data");
      }
      return {h->data_offset + t[i].offset, t[i].size};
    }
  }
  throw Error(ErrorCode::kObjectNotFound, "object " + id.Hex() + " not found in " + name_);
}

ShmStats ShmStore::Stats() {
  Guard guard(*this);
  Header* h = header();
  return {h->segment_size, h->capacity,   h->next_offset,
          h->object_count, h->max_objects, h->recoveries.load()};
}

}  // namespace miniray::phase1
