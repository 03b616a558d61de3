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
  // Defined below, inline: every table lookup (and phase 4's stripe) hashes the id.
  uint64_t Hash() const;
  bool IsZero() const;

  bool operator==(const ObjectId& other) const { return std::memcmp(bytes, other.bytes, kSize) == 0; }
  bool operator!=(const ObjectId& other) const { return !(*this == other); }
};

static_assert(sizeof(ObjectId) == ObjectId::kSize, "ObjectId must be exactly 20 bytes");

inline uint64_t ObjectId::Hash() const {
  // Three words of the id, combined and run through splitmix64's finaliser: every input bit
  // reaches every output bit, in a handful of multiplies (a byte-at-a-time FNV took 20 steps).
  uint64_t a;
  uint64_t b;
  uint32_t c;
  std::memcpy(&a, bytes, 8);
  std::memcpy(&b, bytes + 8, 8);
  std::memcpy(&c, bytes + 16, 4);
  uint64_t h = a * 0x9e3779b97f4a7c15ULL;
  h ^= (b ^ (h >> 29)) * 0xc2b2ae3d27d4eb4fULL;
  h ^= (uint64_t{c} ^ (h >> 32)) * 0x165667b19e3779f9ULL;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace miniray
