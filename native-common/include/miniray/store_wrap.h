// The wrapper object of an object store's glue (phases 2 and 4), in one place: the JavaScript
// class both phases define, with the methods every store has. A phase's glue derives from it,
// adds the methods its store alone has (stats, the debug locks, its get), and defines the class
// with DefineStoreClass. Only glue code includes this header.
//
//   class StoreWrap : public miniray::napi::StoreWrapBase<StoreWrap, ObjectStore, Handle> { ... };
//
// `Derived` names `static constexpr uint64_t kMaxCapacity` (the largest object a create accepts)
// and may hide AddLayout(out, layout) to add its own fields to layout(). `Handle` is the phase's
// StoreHandle<Store> (store_handle.h), or a class derived from it; its Close() is what close()
// calls (phase 2's gives back a lock debug.lock() holds first).
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "miniray/errors.h"
#include "miniray/napi_util.h"

namespace miniray::napi {

template <typename Derived, typename Store, typename Handle>
class StoreWrapBase : public Napi::ObjectWrap<Derived> {
 public:
  using Methods = std::vector<Napi::ClassPropertyDescriptor<Derived>>;

  // The class "NativeObjectStore": create, seal, abort, put, scratch, segment, delete, reclaim,
  // close, layout, then the phase's own `methods`. (locate, release and contains are bound to each
  // handle when it is made: store_handle.h.)
  static Napi::Function DefineStoreClass(Napi::Env env, Methods methods) {
    using W = Napi::ObjectWrap<Derived>;
    Methods all = {
        W::InstanceMethod("create", &StoreWrapBase::CreateObject),
        W::InstanceMethod("seal", &StoreWrapBase::Seal),
        W::InstanceMethod("abort", &StoreWrapBase::Abort),
        W::InstanceMethod("put", &StoreWrapBase::Put),
        W::InstanceMethod("scratch", &StoreWrapBase::Scratch),
        W::InstanceMethod("segment", &StoreWrapBase::SegmentBufferValue),
        W::InstanceMethod("delete", &StoreWrapBase::Delete),
        W::InstanceMethod("reclaim", &StoreWrapBase::Reclaim),
        W::InstanceMethod("close", &StoreWrapBase::Close),
        W::InstanceMethod("layout", &StoreWrapBase::Layout),
    };
    all.insert(all.end(), methods.begin(), methods.end());
    return W::DefineClass(env, "NativeObjectStore", all);
  }

  explicit StoreWrapBase(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {
    Guard(info.Env(), [&] {
      handle_ = std::make_shared<Handle>(info.Env(), TakeStore<Store>(info));
      Handle::Bind(info.Env(), info.This().template As<Napi::Object>(), handle_);
    });
  }

 protected:
  // Empty only if the constructor failed, on an object JavaScript never received.
  Handle& Live() {
    if (!handle_) throw Error(ErrorCode::kClosed, "store is closed");
    return *handle_;
  }
  Store& LiveStore() { return Live().Live(); }

  // layout() gives the common fields; a phase hides this to add its own.
  static void AddLayout(Napi::Object, const decltype(std::declval<Store&>().layout())&) {}

  std::shared_ptr<Handle> handle_;

 private:
  Napi::Value CreateObject(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      Store& store = LiveStore();
      auto id = ArgObjectId(info, 0, "id");
      auto size = ArgU64(info, 1, "size", Derived::kMaxCapacity);
      auto loc = store.CreateObject(id, size);
      return Live().buffer->View(info.Env(), loc.offset, loc.size);
    });
  }

  Napi::Value Seal(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      LiveStore().Seal(ArgObjectId(info, 0, "id"));
      return info.Env().Undefined();
    });
  }

  Napi::Value Abort(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      LiveStore().Abort(ArgObjectId(info, 0, "id"));
      return info.Env().Undefined();
    });
  }

  Napi::Value Put(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      Store& store = LiveStore();
      auto id = ArgObjectId(info, 0, "id");
      auto bytes = ArgBytes(info, 1, "data");
      store.Put(id, bytes.data, bytes.size);
      return info.Env().Undefined();
    });
  }

  Napi::Value Scratch(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] { return Live().ScratchArray(info.Env()); });
  }

  Napi::Value SegmentBufferValue(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] { return Live().SegmentArray(info.Env()); });
  }

  Napi::Value Delete(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      LiveStore().Delete(ArgObjectId(info, 0, "id"));
      return info.Env().Undefined();
    });
  }

  Napi::Value Reclaim(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      auto r = LiveStore().Reclaim();
      Napi::Object out = Napi::Object::New(info.Env());
      Set(out, "clients", static_cast<double>(r.clients));
      Set(out, "pins", static_cast<double>(r.pins));
      Set(out, "objects", static_cast<double>(r.objects));
      return out;
    });
  }

  // Cancels this handle's waits and releases its pins (StoreHandle::Close). Views already handed
  // out, and gets still finishing on the libuv pool, keep the mapping alive.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&] {
      if (handle_) handle_->Close();
      return info.Env().Undefined();
    });
  }

  Napi::Value Layout(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      Store& store = LiveStore();
      auto l = store.layout();
      Napi::Object out = Napi::Object::New(info.Env());
      Set(out, "segmentSize", static_cast<double>(store.mapped_size()));
      Set(out, "tableOffset", static_cast<double>(l.table_offset));
      Set(out, "tableBytes", static_cast<double>(l.table_bytes));
      Set(out, "dataOffset", static_cast<double>(l.data_offset));
      Set(out, "dataBytes", static_cast<double>(l.data_bytes));
      Set(out, "client", static_cast<double>(l.client));
      Derived::AddLayout(out, l);
      return out;
    });
  }
};

// open(name, lockTimeoutMs) and unlink(name), the module functions both stores' glue exports.
template <typename Store>
Napi::Value OpenStore(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&] {
    std::string name = ArgString(info, 0, "name");
    return NewStoreObject(info.Env(), Store::Open(name, ArgLockTimeout(info, 1)));
  });
}

template <typename Store>
Napi::Value UnlinkStore(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&] {
    Store::Unlink(ArgString(info, 0, "name"));
    return info.Env().Undefined();
  });
}

}  // namespace miniray::napi
