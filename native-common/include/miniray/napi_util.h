// N-API helpers every phase's glue uses: argument parsing with typed errors, C++ -> JS error
// conversion, and zero-copy views over a mapped segment. Only glue code includes this header;
// student code stays plain C++.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "miniray/errors.h"
#include "miniray/object_id.h"

namespace miniray::napi {

// Registers `setErrorClass(ctor)` on `exports`. The TypeScript loader calls it once with the
// MiniRayError class, so every error thrown by any phase is an instance of that one class.
void InitErrors(Napi::Env env, Napi::Object exports);

// A JS MiniRayError(code, message), or a plain Error with a `code` property before
// setErrorClass was called.
Napi::Error MakeError(Napi::Env env, ErrorCode code, const std::string& message);

// Runs `body`, turning miniray::Error and any std::exception into a JS exception with a code.
template <typename F>
auto Guard(Napi::Env env, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw MakeError(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw MakeError(env, ErrorCode::kSystem, "out of memory");
  } catch (const std::exception& e) {
    throw MakeError(env, ErrorCode::kSystem, e.what());
  }
}

// Argument readers. Each throws ERR_INVALID_ARGUMENT naming the parameter on a wrong type or range.
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name);
// A non-negative integer no larger than `max` (a JS number; fractions, NaN and infinities refused).
uint64_t ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t max);
// An integer in [min, max], e.g. a timeout where -1 means "forever".
int64_t ArgI64(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max);
ObjectId ArgObjectId(const Napi::CallbackInfo& info, size_t i, const char* name);

// lockTimeoutMs: 0 to one hour.
uint32_t ArgLockTimeout(const Napi::CallbackInfo& info, size_t i);

// A store object for JavaScript: `ctor` is the glue's ObjectWrap class, whose constructor gets the
// new store as an External and keeps a share of it with TakeStore (shared with the segment's
// ArrayBuffer, so that views outlive close()).
template <typename Store>
Napi::Value NewStoreObject(Napi::FunctionReference& ctor, Napi::Env env,
                           std::unique_ptr<Store> store) {
  std::shared_ptr<Store> shared(std::move(store));
  return ctor.New({Napi::External<std::shared_ptr<Store>>::New(env, &shared)});
}
template <typename Store>
std::shared_ptr<Store> TakeStore(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) {
    throw MakeError(info.Env(), ErrorCode::kInvalidArgument,
                    "stores are made by create() and open(), not by new");
  }
  return *info[0].As<Napi::External<std::shared_ptr<Store>>>().Data();
}

struct ByteSpan {
  const uint8_t* data;
  size_t size;
};
// Any ArrayBufferView (Buffer, Uint8Array, DataView, ...). Valid until the call returns.
ByteSpan ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name);

// One external ArrayBuffer over a whole mapping, created once per mapping (V8 aborts when one
// address is wrapped twice), kept alive by a reference, handing out Uint8Array views.
// `owner` keeps the mapping alive: the ArrayBuffer's finalizer releases it, so a view that JS
// still holds stays readable after the store is closed.
class SegmentBuffer {
 public:
  SegmentBuffer(Napi::Env env, uint8_t* base, size_t size, std::shared_ptr<void> owner);
  // A Uint8Array over [offset, offset + length); throws ERR_SEGMENT_CORRUPT when out of range.
  Napi::Uint8Array View(Napi::Env env, uint64_t offset, uint64_t length) const;
  Napi::ArrayBuffer Buffer() const { return ref_.Value(); }
  size_t size() const { return size_; }

 private:
  size_t size_;
  Napi::Reference<Napi::ArrayBuffer> ref_;
};

// The hot path of get(): instead of building a view per call in C++ (about 100 ns), the glue writes
// the object's [offset, size] into a Float64Array(2) that the harness bound once, and the harness
// makes the view in JavaScript over the segment's one ArrayBuffer (see lib/views.ts).
class LocationScratch {
 public:
  // bindScratch(f64): keeps a reference to the array and remembers where its elements live.
  void Bind(const Napi::CallbackInfo& info);
  // Writes [offset, size] after checking the range lies inside a mapping of `mapped` bytes.
  void Write(uint64_t offset, uint64_t size, size_t mapped);

 private:
  Napi::Reference<Napi::Float64Array> ref_;
  double* slots_ = nullptr;
};

// Reads `obj[key]` as a JS number into `out` (helper for building stats objects).
inline void Set(Napi::Object obj, const char* key, double value) {
  obj.Set(key, Napi::Number::New(obj.Env(), value));
}

}  // namespace miniray::napi
