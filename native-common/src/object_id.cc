#include "miniray/object_id.h"

#include <pthread.h>
#include <sys/random.h>

#include <array>
#include <atomic>

#include <cerrno>

#include "miniray/errors.h"

namespace miniray {

namespace {

void FillRandom(uint8_t* out, size_t size) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = getrandom(out + got, size - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(ErrorCode::kSystem, "getrandom", errno);
    }
    got += static_cast<size_t>(n);
  }
}

// getrandom is a system call (about 350 ns); ids are drawn from a per-thread pool refilled 4 KiB
// at a time. A fork()ed child must not hand out its parent's remaining ids: bumping the
// generation in the child empties every pool.
std::atomic<uint32_t> fork_generation{0};
void OnFork() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct RandomPool {
  uint8_t bytes[4096 - 4096 % ObjectId::kSize];
  size_t used = sizeof(bytes);
  uint32_t generation = 0;
};

}  // namespace

ObjectId ObjectId::Random() {
  static const int registered = pthread_atfork(nullptr, nullptr, OnFork);
  (void)registered;
  thread_local RandomPool pool;
  uint32_t generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.used + kSize > sizeof(pool.bytes) || pool.generation != generation) {
    FillRandom(pool.bytes, sizeof(pool.bytes));
    pool.used = 0;
    pool.generation = generation;
  }
  ObjectId id;
  std::memcpy(id.bytes, pool.bytes + pool.used, kSize);
  pool.used += kSize;
  return id;
}

// Hex digit values by character (-1: not a digit), built at compile time: ids are parsed on every
// get and release, so a table lookup beats a chain of comparisons.
static constexpr auto kHexValue = [] {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<int8_t>(c);
  for (int c = 0; c < 6; ++c) {
    t['a' + c] = static_cast<int8_t>(10 + c);
    t['A' + c] = static_cast<int8_t>(10 + c);
  }
  return t;
}();

static int HexDigit(char c) { return kHexValue[static_cast<uint8_t>(c)]; }

ObjectId ObjectId::FromHex(const std::string& hex) { return FromHex(hex.data(), hex.size()); }

ObjectId ObjectId::FromHex(const char* hex, size_t length) {
  if (length != 2 * kSize) {
    throw Error(ErrorCode::kInvalidArgument,
                "object id must be 40 hex digits, got " + std::to_string(length) + " characters");
  }
  ObjectId id;
  for (size_t i = 0; i < kSize; ++i) {
    int hi = HexDigit(hex[2 * i]);
    int lo = HexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      throw Error(ErrorCode::kInvalidArgument,
                  "object id must be 40 hex digits: '" + std::string(hex, length) + "'");
    }
    id.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return id;
}

std::string ObjectId::Hex() const {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(2 * kSize, '0');
  for (size_t i = 0; i < kSize; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

bool ObjectId::IsZero() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace miniray
