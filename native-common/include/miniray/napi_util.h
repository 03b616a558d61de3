// N-API helpers every phase's glue uses: per-environment state, argument parsing with typed errors,
// C++ -> JS error conversion, and zero-copy views over a mapped segment. Only glue code includes
// this header; student code stays plain C++.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "miniray/errors.h"
#include "miniray/object_id.h"

namespace miniray::napi {

// ---- Per-environment state ------------------------------------------------------------------
// One process may load an addon in several JavaScript environments: the main thread and every
// worker_thread, each with its own heap. Anything that refers to a JS value (the error class, the
// store class) therefore lives in the environment's instance data, created on first use and freed
// with the environment, never in a static: a static set by a worker dangles once the worker exits.

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
// An integer in [min, max], e.g. a timeout where -1 means "forever". A double of 2^63 or more (or
// below -2^63) is refused before it is converted: that conversion is undefined behaviour.
int64_t ArgI64(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max);
// An object id, given either as its 20 bytes in a Uint8Array (the fast path: the harnesses pass
// idBytes(id) from lib/ids.ts, about 10 ns to read) or as 40 hex digits (about 60 ns: the string is
// copied out of V8 and parsed). Anything else, a Uint8Array of another length or a detached one,
// is ERR_INVALID_ARGUMENT naming the parameter.
ObjectId ArgObjectId(const Napi::CallbackInfo& info, size_t i, const char* name);
// The same for a value that is not an argument (an element of an array of ids).
ObjectId ValueObjectId(Napi::Env env, napi_value value, const std::string& name);

// lockTimeoutMs: 0 to one hour.
uint32_t ArgLockTimeout(const Napi::CallbackInfo& info, size_t i);

// timeoutMs of a wait: -1 (no limit) to one day.
int64_t ArgTimeoutMs(const Napi::CallbackInfo& info, size_t i);

// The error for an object a get could not return: ERR_OBJECT_NOT_FOUND when it is not in the store
// (`missing`), ERR_TIMEOUT when it exists but was not sealed within `timeout_ms`.
Error NotReturned(const ObjectId& id, bool missing, int64_t timeout_ms);

// ---- The size a view may have ------------------------------------------------------------------
// The largest ArrayBuffer this runtime makes (buffer.constants.MAX_LENGTH: 2^32 on Node 20, more on
// later versions). A segment larger than that cannot be handed to JavaScript as one buffer, so the
// glue refuses it up front: asking the runtime anyway fails, and Node 20 then runs the buffer's
// finalizer on the failure path (a double free in code that also cleans up after a failed call).
uint64_t MaxViewBytes(Napi::Env env);
// Throws ERR_INVALID_ARGUMENT when `bytes` exceed MaxViewBytes.
void CheckViewable(Napi::Env env, uint64_t bytes, const std::string& what);

// create(): a store whose views would exceed MaxViewBytes (the layout added to the capacity pushed
// it over) is closed and its segment unlinked again, then refused: a refused create leaves nothing
// behind. `view_bytes` is what the store's SegmentBuffer will cover.
template <typename Store>
std::unique_ptr<Store> RefuseUnviewable(Napi::Env env, std::unique_ptr<Store> store, const std::string& name,
                                        uint64_t view_bytes) {
  if (view_bytes > MaxViewBytes(env)) {
    store.reset();
    try {
      Store::Unlink(name);
    } catch (const Error&) {
      // already gone: nothing is left behind either way
    }
    CheckViewable(env, view_bytes, "segment " + name);  // throws
  }
  return store;
}

// ---- Store objects -----------------------------------------------------------------------------
// The glue's ObjectWrap class for stores, registered once per environment by the addon's Init.
void SetStoreClass(Napi::Env env, Napi::Function ctor);

// How a new store reaches its wrapper's constructor: never through a JS value. NewStoreObject
// parks the store in this environment's instance data for the length of one `new` of the class,
// and the constructor takes it with TakeStore. A JS value (an External) could be kept by JavaScript
// and handed to the constructor again later (a pointer into a stack frame long gone), or an External
// of another type handed to it (type confusion): either way a crash reachable from JavaScript.
// `new` called from JavaScript finds nothing parked and gets ERR_INVALID_ARGUMENT.
namespace detail {
template <typename T>
struct TypeKey {
  static constexpr char id = 0;  // its address names the type
};
void ParkStore(Napi::Env env, std::shared_ptr<void> store, const void* type);
std::shared_ptr<void> UnparkStore(Napi::Env env, const void* type);  // empty if none of this type
void ClearParkedStore(Napi::Env env) noexcept;
}  // namespace detail

// A store object for JavaScript: `new ctor()` with the store parked for its constructor. The store
// goes away with the call if the constructor did not take it.
template <typename Store>
Napi::Object NewStoreObject(Napi::Env env, Napi::Function ctor, std::unique_ptr<Store> store) {
  struct Parked {
    Napi::Env env;
    ~Parked() { detail::ClearParkedStore(env); }
  } parked{env};
  detail::ParkStore(env, std::shared_ptr<Store>(std::move(store)), &detail::TypeKey<Store>::id);
  return ctor.New({});
}
// The same with the class registered by SetStoreClass.
Napi::Function StoreClass(Napi::Env env);
template <typename Store>
Napi::Object NewStoreObject(Napi::Env env, std::unique_ptr<Store> store) {
  return NewStoreObject(env, StoreClass(env), std::move(store));
}
// In the wrapper's constructor: its share of the store being made.
template <typename Store>
std::shared_ptr<Store> TakeStore(const Napi::CallbackInfo& info) {
  std::shared_ptr<void> store = detail::UnparkStore(info.Env(), &detail::TypeKey<Store>::id);
  if (!store) {
    throw MakeError(info.Env(), ErrorCode::kInvalidArgument, "stores are made by create() and open(), not by new");
  }
  return std::static_pointer_cast<Store>(store);
}

// debug.lock() from JavaScript holds a store's lock across calls, so the handle remembers that it
// does and gives the lock back when it is closed or collected. glibc keeps every robust mutex a
// thread holds on a list that runs through the mutexes themselves: unmapping one that is held
// leaves the list pointing into nothing, and this thread's next lock of any robust mutex crashes.
class HeldLock {
 public:
  template <typename Store>
  void Lock(Store& store) {
    store.Lock();
    held_ = true;
  }
  template <typename Store>
  void Unlock(Store& store) {
    store.Unlock();
    held_ = false;
  }
  // Unlocks if held; never throws (the handle goes away regardless).
  template <typename Store>
  void Release(Store* store) noexcept {
    if (!held_ || store == nullptr) return;
    held_ = false;
    try {
      store->Unlock();
    } catch (...) {
    }
  }

 private:
  bool held_ = false;
};

// ---- Promises settled by work on the libuv pool ------------------------------------------------
// A blocking call's async form: Run() waits on the libuv pool, never on the event loop, then
// Result() turns what it got into the promise's value on the JavaScript thread. Subclasses hold
// what Run() needs (a share of the store, so its mapping outlives the wait); the worker deletes
// itself once the promise is settled.
//   auto* w = new FetchWorker(env, shared, ...);
//   return w->Start();
// Settling never throws and never reaches node-addon-api's error paths: work still running when
// the worker thread that started it exits (or is terminated) completes into an environment that can
// no longer run JavaScript. Every N-API call fails there, and an exception escaping the completion
// would terminate the whole process (and a Napi::Error made there can abort it). Nobody awaits
// the promise then.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  // Queues the work; returns its promise.
  Napi::Promise Start();
  void OnWorkComplete(Napi::Env env, napi_status status) final;

 protected:
  PromiseWorker(Napi::Env env, const char* resource_name);
  // On the pool. A miniray::Error keeps its code; any other exception rejects with ERR_SYSTEM.
  virtual void Run() = 0;
  // On the JavaScript thread, after Run() returned. May throw miniray::Error: the promise rejects.
  virtual Napi::Value Result(Napi::Env env) = 0;

 private:
  void Execute() final;
  void Settle(Napi::Env env);

  Napi::Promise::Deferred deferred_;
  std::optional<Error> error_;  // what Run() threw
};

struct ByteSpan {
  const uint8_t* data;
  size_t size;
};
// Any ArrayBufferView (Buffer, Uint8Array, DataView, ...). Valid until the call returns.
ByteSpan ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name);

// ---- Views -------------------------------------------------------------------------------------
// The bytes of a mapping that JavaScript may see, as segment offsets: phase 1 shows the student's
// whole segment; from phase 2 on the glue passes the data region alone, so that no view's `.buffer`
// reaches the header, the lock or the table.
struct Region {
  uint64_t offset;
  uint64_t length;
};

// One external ArrayBuffer over a region of a mapping, handing out Uint8Array views of it.
// - It is made on first use and exactly once (V8 aborts when one address is wrapped twice): a
//   handle that never hands out a view makes none, and close() then unmaps at once.
// - `owner` keeps the mapping alive; once the ArrayBuffer exists it holds `owner` until it is
//   collected, so a view JavaScript still holds stays readable after close().
// - Its size is reported to V8 as external memory, so that an unreachable segment is collected
//   (and unmapped) as soon as the heap would be for that much memory.
// Construction throws ERR_SEGMENT_CORRUPT when the region is not inside the mapping and
// ERR_INVALID_ARGUMENT when it exceeds MaxViewBytes.
class SegmentBuffer {
 public:
  SegmentBuffer(Napi::Env env, uint8_t* base, size_t mapped, Region region, std::shared_ptr<void> owner);
  SegmentBuffer(const SegmentBuffer&) = delete;
  SegmentBuffer& operator=(const SegmentBuffer&) = delete;

  Napi::ArrayBuffer Buffer(Napi::Env env);
  // A Uint8Array over segment bytes [offset, offset + length); ERR_SEGMENT_CORRUPT outside the region.
  Napi::Uint8Array View(Napi::Env env, uint64_t offset, uint64_t length);
  // Where segment bytes [offset, offset + length) lie in Buffer(); ERR_SEGMENT_CORRUPT outside it.
  uint64_t BufferOffset(uint64_t offset, uint64_t length) const;
  const Region& region() const { return region_; }

 private:
  uint8_t* base_;
  Region region_;
  std::shared_ptr<void> owner_;  // until the ArrayBuffer takes it over
  Napi::Reference<Napi::ArrayBuffer> ref_;
};

// The hot path of get(): instead of building a view per call in C++ (about 100 ns), the glue writes
// the object's [offset, size] (relative to the segment's ArrayBuffer) into two slots that the
// harness reads through a Float64Array(2), and the harness makes the view in JavaScript (see
// lib/views.ts).
// The slots are this object's memory, not a JavaScript-made array: the glue keeps a plain pointer
// to them and writes without a single N-API call (looking a bound array up again on every call, as
// it must for memory JavaScript owns and can transfer away, cost a third of a whole get). The
// Float64Array is a window on the slots (an external ArrayBuffer): Node copies such a buffer where
// JavaScript asks to transfer it, so it is never detached, and it shares ownership of the slots,
// which live until both this object and the array are gone.
class LocationScratch {
 public:
  LocationScratch();
  LocationScratch(const LocationScratch&) = delete;
  LocationScratch& operator=(const LocationScratch&) = delete;

  // scratch(): the Float64Array over the slots, made on the first call and the same one after
  // (one external ArrayBuffer per address).
  Napi::Float64Array Array(Napi::Env env);
  // Writes the location of segment bytes [offset, offset + size) within `buffer`;
  // ERR_SEGMENT_CORRUPT when they lie outside it.
  void Write(const SegmentBuffer& buffer, uint64_t offset, uint64_t size) {
    slots_[0] = static_cast<double>(buffer.BufferOffset(offset, size));
    slots_[1] = static_cast<double>(size);
  }

 private:
  std::shared_ptr<double[]> memory_;
  double* slots_;  // memory_.get()
  Napi::Reference<Napi::Float64Array> ref_;
};

// ---- Methods bound to one handle ----------------------------------------------------------------
// A JavaScript function whose calls reach `target` directly: the function's data is the target, so a
// call needs no napi_unwrap of `this` (a private-symbol lookup inside a TryCatch: about 60 ns, a
// fifth of a get before it was bound). The function holds a share of the target, dropped when the
// function is collected: the target lives as long as anything can still call it, whatever `this` a
// caller passes. For the few methods on the hot path (get, release); the rest stay on the class.
//   wrapper.DefineProperty(BoundProperty<Handle, &Handle::Locate>(env, "locate", handle_));
namespace detail {
// Adds a finalizer to `fn` that deletes `share`; deletes it and throws if that fails.
void KeepWhileReachable(Napi::Env env, Napi::Function fn, std::shared_ptr<void>* share);
template <typename T, Napi::Value (T::*Method)(const Napi::CallbackInfo&)>
Napi::Value CallBound(const Napi::CallbackInfo& info) {
  return (static_cast<T*>(info.Data())->*Method)(info);
}
}  // namespace detail

template <typename T, Napi::Value (T::*Method)(const Napi::CallbackInfo&)>
Napi::Function BoundMethod(Napi::Env env, const char* name, const std::shared_ptr<T>& target) {
  Napi::Function fn = Napi::Function::New<detail::CallBound<T, Method>>(env, name, target.get());
  detail::KeepWhileReachable(env, fn, new std::shared_ptr<void>(target));
  return fn;
}

// The same as an own property of a wrapper object (writable and configurable like a method, not
// enumerable).
template <typename T, Napi::Value (T::*Method)(const Napi::CallbackInfo&)>
Napi::PropertyDescriptor BoundProperty(Napi::Env env, const char* name, const std::shared_ptr<T>& target) {
  return Napi::PropertyDescriptor::Value(name, BoundMethod<T, Method>(env, name, target),
                                         static_cast<napi_property_attributes>(napi_writable | napi_configurable));
}

// Sets `obj[key]` to a JS number (helper for building stats objects).
inline void Set(Napi::Object obj, const char* key, double value) {
  obj.Set(key, Napi::Number::New(obj.Env(), value));
}

// A segment checker's report as JavaScript sees it (phases 2 and 4, layout/checker.h): the fields
// every store phase's report has, and for each client record its slot, pid, liveness and pins.
// `client_extra(object, client)` adds a phase's own fields to each client; the caller adds the
// report's.
template <typename Report, typename ClientExtra>
Napi::Object CheckReportObject(Napi::Env env, const Report& r, ClientExtra&& client_extra) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", Napi::Boolean::New(env, r.ok));
  Napi::Array problems = Napi::Array::New(env, r.problems.size());
  for (size_t i = 0; i < r.problems.size(); ++i) problems.Set(static_cast<uint32_t>(i), r.problems[i]);
  out.Set("problems", problems);
  out.Set("holderDied", Napi::Boolean::New(env, r.holder_died));
  out.Set("repairPending", Napi::Boolean::New(env, r.repair_pending));
  Set(out, "slots", static_cast<double>(r.slots));
  Set(out, "objects", static_cast<double>(r.objects));
  Set(out, "sealed", static_cast<double>(r.sealed));
  Set(out, "tombstones", static_cast<double>(r.tombstones));
  Set(out, "capacity", static_cast<double>(r.capacity));
  Set(out, "blocks", static_cast<double>(r.blocks));
  Set(out, "freeBlocks", static_cast<double>(r.free_blocks));
  Set(out, "usedBytes", static_cast<double>(r.used_bytes));
  Set(out, "pinned", static_cast<double>(r.pinned));
  Napi::Array clients = Napi::Array::New(env, r.clients.size());
  for (size_t i = 0; i < r.clients.size(); ++i) {
    const auto& c = r.clients[i];
    Napi::Object o = Napi::Object::New(env);
    Set(o, "slot", c.slot);
    Set(o, "pid", c.pid);
    o.Set("alive", Napi::Boolean::New(env, c.alive));
    Set(o, "pins", static_cast<double>(c.pins));
    client_extra(o, c);
    clients.Set(static_cast<uint32_t>(i), o);
  }
  out.Set("clients", clients);
  return out;
}

}  // namespace miniray::napi
