// The get path of an object store's glue (phases 2 and 4), in one place: what one open handle
// holds, and the three methods that are bound to it (napi_util.h BoundMethod) rather than looked up
// on the wrapper object. Only glue code includes this header.
//
// A handle is shared by its wrapper object and by the bound functions locate, release and
// contains: it lives until the last of them is collected, and then gives back what the handle held
// (its pins, the objects it created and did not seal, its client record). Its location slots
// (LocationScratch) outlive both owners in the same way. After close(), every bound method throws
// ERR_CLOSED.
//
// `Store` is the phase's ObjectStore: Get(id, timeout) -> {status, location{offset, size}} with
// a status enum that has kSealed and kMissing, Release(id), Contains(id), Close(), layout() with
// data_offset and data_bytes, base() and mapped_size().
#pragma once

#include <napi.h>

#include <memory>
#include <utility>

#include "miniray/errors.h"
#include "miniray/napi_util.h"
#include "miniray/object_id.h"

namespace miniray::napi {

template <typename Store>
class StoreHandle {
 public:
  StoreHandle(Napi::Env env, std::shared_ptr<Store> s) : store(std::move(s)) {
    auto l = store->layout();
    buffer = std::make_shared<SegmentBuffer>(env, store->base(), store->mapped_size(), Region{l.data_offset, l.data_bytes},
                                             store);
  }
  StoreHandle(const StoreHandle&) = delete;
  StoreHandle& operator=(const StoreHandle&) = delete;

  // A handle collected without close() gives back what it holds. (Views still held keep the mapping
  // alive.) A phase whose handle can hold a lock across calls releases it first, in its own
  // destructor (phase 2's HeldLock).
  ~StoreHandle() {
    if (!store) return;
    try {
      store->Close();
    } catch (...) {
      // A finalizer never throws; what Close() could not give back, Reclaim() will.
    }
  }

  Store& Live() {
    if (!store) throw Error(ErrorCode::kClosed, "store is closed");
    return *store;
  }

  // close(): drops this handle's share first (so it is closed even if Close() throws), then cancels
  // its waits and releases its pins. Views already handed out, and gets still finishing on the
  // libuv pool, keep the mapping alive.
  void Close() {
    std::shared_ptr<Store> s = std::move(store);
    store.reset();
    buffer.reset();
    if (s) s->Close();
  }

  // get() in two halves (see LocationScratch): locate(id[, timeoutMs]) pins the object and writes
  // its [offset, size] into the slots the harness reads through scratch(); the harness makes the
  // view over segment(), the one ArrayBuffer of this mapping. No timeout argument is a poll (0), the
  // harness's default: nothing to read.
  Napi::Value Locate(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      Store& s = Live();
      const ObjectId id = ArgObjectId(info, 0, "id");
      const int64_t timeout = info.Length() < 2 ? 0 : ArgTimeoutMs(info, 1);
      const auto r = s.Get(id, timeout);
      using Status = decltype(r.status);
      if (r.status != Status::kSealed) throw NotReturned(id, r.status == Status::kMissing, timeout);
      scratch.Write(*buffer, r.location.offset, r.location.size);
      return info.Env().Undefined();
    });
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      Live().Release(ArgObjectId(info, 0, "id"));
      return info.Env().Undefined();
    });
  }

  Napi::Value Contains(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      return Napi::Boolean::New(info.Env(), Live().Contains(ArgObjectId(info, 0, "id")));
    });
  }

  // scratch(): the location slots as a Float64Array (the same array on every call).
  Napi::Value ScratchArray(Napi::Env env) {
    Live();
    return scratch.Array(env);
  }

  // segment(): the one ArrayBuffer over the data region.
  Napi::Value SegmentArray(Napi::Env env) {
    Live();
    return buffer->Buffer(env);
  }

  // Defines locate, release and contains on `wrapper` as functions bound to `handle`.
  template <typename Handle>
  static void Bind(Napi::Env env, Napi::Object wrapper, const std::shared_ptr<Handle>& handle) {
    const std::shared_ptr<StoreHandle> h = handle;
    wrapper.DefineProperties({
        BoundProperty<StoreHandle, &StoreHandle::Locate>(env, "locate", h),
        BoundProperty<StoreHandle, &StoreHandle::Release>(env, "release", h),
        BoundProperty<StoreHandle, &StoreHandle::Contains>(env, "contains", h),
    });
  }

  std::shared_ptr<Store> store;
  std::shared_ptr<SegmentBuffer> buffer;
  LocationScratch scratch;
};

}  // namespace miniray::napi
