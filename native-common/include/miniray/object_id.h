// A 20-byte object id, as in Ray and Plasma. Trivially copyable, so it can live in shared memory.
// TypeScript sees it as a 40-character lowercase hex string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace miniray {

struct ObjectId {
  static constexpr size_t kSize = 20;
  uint8_t bytes[kSize];

  // A fresh id from the kernel's random source (getrandom, drawn from a per-thread pool).
  static ObjectId Random();
  // Parses 40 hex digits; throws ERR_INVALID_ARGUMENT otherwise.
  static ObjectId FromHex(const std::string& hex);
  static ObjectId FromHex(const char* hex, size_t length);
  std::string Hex() const;
  // A well-mixed 64-bit hash of all 20 bytes (three words through splitmix64's finaliser).
  uint64_t Hash() const;
  bool IsZero() const;

  bool operator==(const ObjectId& other) const { return std::memcmp(bytes, other.bytes, kSize) == 0; }
  bool operator!=(const ObjectId& other) const { return !(*this == other); }
};

static_assert(sizeof(ObjectId) == ObjectId::kSize, "ObjectId must be exactly 20 bytes");

}  // namespace miniray
