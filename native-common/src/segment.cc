#include "miniray/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "miniray/futex.h"

namespace miniray {

namespace {

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A segment is trusted only as far as its writers are: this user's processes. One owned by another
// user, or that group or others may open (a mode other than the 0600 Create gives), is refused.
void CheckOwnership(const struct stat& st, const std::string& name) {
  if (st.st_uid != ::geteuid()) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " belongs to uid " + std::to_string(st.st_uid) +
                                                ", not to this process's uid " + std::to_string(::geteuid()) +
                                                ": refusing to trust memory another user writes");
  }
  if ((st.st_mode & 0077) != 0) {
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " has mode " + mode +
                                                ": group or others may open it, so anyone could corrupt it "
                                                "(a segment of ours is 0600)");
  }
}

uint8_t* MapShared(int fd, size_t size, const std::string& name) {
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) ThrowErrno(ErrorCode::kSystem, "mmap " + name, errno);
  return static_cast<uint8_t*>(addr);
}

}  // namespace

void Segment::ValidateName(const std::string& name) {
  bool ok = name.size() >= 2 && name.size() <= 201 && name[0] == '/' && name != "/." &&
            name != "/..";
  for (size_t i = 1; ok && i < name.size(); ++i) {
    char c = name[i];
    ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
  }
  if (!ok) {
    throw Error(ErrorCode::kBadName, "bad segment name '" + name +
                                         "': use '/' then 1-200 of [A-Za-z0-9._-], e.g. "
                                         "/miniray-demo");
  }
}

std::unique_ptr<Segment> Segment::Create(const std::string& name, size_t size) {
  ValidateName(name);
  if (size == 0) throw Error(ErrorCode::kInvalidArgument, "segment size must be positive");
  Fd fd(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) {
      throw Error(ErrorCode::kSegmentExists,
                  "segment " + name + " already exists (a leftover? remove it with "
                                      "`npm run miniray -- clean` or rm /dev/shm" + name + ")");
    }
    ThrowErrno(ErrorCode::kSystem, "shm_open " + name, errno);
  }
  try {
    if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
      ThrowErrno(ErrorCode::kShmFull, "ftruncate " + name, errno);
    }
    int err = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(size));
    if (err != 0) {
      throw Error(err == ENOSPC ? ErrorCode::kShmFull : ErrorCode::kSystem,
                  "cannot reserve " + std::to_string(size) + " bytes for " + name +
                      " (is /dev/shm full?): posix_fallocate errno " + std::to_string(err));
    }
    return std::unique_ptr<Segment>(new Segment(name, MapShared(fd.get(), size, name), size));
  } catch (...) {
    ::shm_unlink(name.c_str());
    throw;
  }
}

std::unique_ptr<Segment> Segment::Open(const std::string& name) {
  ValidateName(name);
  Fd fd(::shm_open(name.c_str(), O_RDWR, 0));
  if (fd.get() < 0) {
    if (errno == ENOENT) throw Error(ErrorCode::kSegmentNotFound, "no segment named " + name);
    ThrowErrno(ErrorCode::kSystem, "shm_open " + name, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) ThrowErrno(ErrorCode::kSystem, "fstat " + name, errno);
  CheckOwnership(st, name);
  size_t size = static_cast<size_t>(st.st_size);
  if (size < sizeof(CommonHeader)) {
    throw Error(ErrorCode::kLayoutMismatch, "segment " + name + " is " + std::to_string(size) +
                                                " bytes: too small to be a Mini-Ray segment");
  }
  return std::unique_ptr<Segment>(new Segment(name, MapShared(fd.get(), size, name), size));
}

void Segment::Unlink(const std::string& name) {
  ValidateName(name);
  if (::shm_unlink(name.c_str()) != 0) {
    if (errno == ENOENT) throw Error(ErrorCode::kSegmentNotFound, "no segment named " + name);
    ThrowErrno(ErrorCode::kSystem, "shm_unlink " + name, errno);
  }
}

Segment::~Segment() { ::munmap(base_, size_); }

void Segment::CheckRange(uint64_t offset, uint64_t length) const {
  if (offset > size_ || length > size_ - offset) {
    throw Error(ErrorCode::kSegmentCorrupt,
                "offset " + std::to_string(offset) + " (+" + std::to_string(length) +
                    " bytes) lies outside segment " + name_ + " of " + std::to_string(size_) +
                    " bytes");
  }
}

void PublishReady(CommonHeader* header) {
  header->state.store(CommonHeader::kReady, std::memory_order_release);
}

void CheckHeader(const Segment& segment, uint64_t magic, uint32_t version, uint32_t timeout_ms) {
  auto* header = segment.At<CommonHeader>(0);
  int64_t deadline = MonotonicMs() + timeout_ms;
  // A creator publishes kReady last; until then the other fields may still be zero.
  while (header->state.load(std::memory_order_acquire) != CommonHeader::kReady) {
    if (header->magic != 0 && header->magic != magic) break;  // foreign: report it now
    if (MonotonicMs() >= deadline) {
      throw Error(ErrorCode::kLayoutMismatch,
                  "segment " + segment.name() + " was never initialised (its creator died?)");
    }
    struct timespec ts = {0, 1000000};  // 1 ms
    nanosleep(&ts, nullptr);
  }
  if (header->magic != magic) {
    throw Error(ErrorCode::kLayoutMismatch,
                "segment " + segment.name() + " is not a segment of this phase (bad magic)");
  }
  if (header->layout_version != version) {
    throw Error(ErrorCode::kLayoutMismatch,
                "segment " + segment.name() + " has layout version " +
                    std::to_string(header->layout_version) + ", this build expects " +
                    std::to_string(version));
  }
  if (header->segment_size != segment.size()) {
    throw Error(ErrorCode::kLayoutMismatch,
                "segment " + segment.name() + " records " + std::to_string(header->segment_size) +
                    " bytes but maps " + std::to_string(segment.size()));
  }
}

}  // namespace miniray
