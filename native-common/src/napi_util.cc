#include "miniray/napi_util.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <unordered_map>

namespace miniray::napi {

namespace {

// What keeps a mapping alive while its ArrayBuffer lives, and how much external memory was reported
// for it. Held in the registry below, never in memory the runtime's finalizer frees itself.
struct Keep {
  std::shared_ptr<void> owner;
  int64_t reported = 0;
};

// Everything this addon keeps per JavaScript environment (see napi_util.h).
struct AddonData {
  Napi::FunctionReference error_class;
  Napi::FunctionReference store_class;
  uint64_t max_view_bytes = 0;  // 0: not asked yet
  // The owners of this environment's segment ArrayBuffers, by the key passed to their finalizer.
  // The runtime may run a finalizer on the failure path of the call that registered it (Node 20
  // does, for a buffer larger than it allows): a key in a map, erased by whoever comes first, is
  // safe either way, where a heap pointer deleted by both would be a double free.
  uint64_t next_key = 1;
  std::unordered_map<uint64_t, Keep> keeps;
  // The store NewStoreObject is handing to its wrapper's constructor, and its type (napi_util.h).
  std::shared_ptr<void> parked;
  const void* parked_type = nullptr;
};

AddonData* Data(Napi::Env env) {
  auto* data = env.GetInstanceData<AddonData>();
  if (data == nullptr) {
    data = new AddonData();
    env.SetInstanceData<AddonData>(data);  // deleted by node-addon-api when the env goes away
  }
  return data;
}

[[noreturn]] void Bad(const std::string& message) {
  throw Error(ErrorCode::kInvalidArgument, message);
}

const char* TypeName(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_object: return "an object";
    case napi_function: return "a function";
    case napi_external: return "an external";
    case napi_bigint: return "a bigint";
  }
  return "an unknown value";
}

}  // namespace

void SetStoreClass(Napi::Env env, Napi::Function ctor) { Data(env)->store_class = Napi::Persistent(ctor); }

Napi::Function StoreClass(Napi::Env env) {
  AddonData* data = Data(env);
  if (data->store_class.IsEmpty()) throw Error(ErrorCode::kSystem, "the addon did not register its store class");
  return data->store_class.Value();
}

namespace detail {

void ParkStore(Napi::Env env, std::shared_ptr<void> store, const void* type) {
  AddonData* data = Data(env);
  data->parked = std::move(store);
  data->parked_type = type;
}

std::shared_ptr<void> UnparkStore(Napi::Env env, const void* type) {
  AddonData* data = Data(env);
  if (!data->parked || data->parked_type != type) return nullptr;
  data->parked_type = nullptr;
  return std::move(data->parked);
}

void ClearParkedStore(Napi::Env env) noexcept {
  void* raw = nullptr;  // not env.GetInstanceData(), which may throw: this runs in a destructor
  if (napi_get_instance_data(env, &raw) != napi_ok || raw == nullptr) return;
  auto* data = static_cast<AddonData*>(raw);
  data->parked.reset();
  data->parked_type = nullptr;
}

}  // namespace detail

uint64_t MaxViewBytes(Napi::Env env) {
  AddonData* data = Data(env);
  if (data->max_view_bytes == 0) {
    // process.getBuiltinModule('buffer').constants.MAX_LENGTH (Node 20.16 and later); the value of
    // Node 20 on 64-bit machines if the runtime does not say.
    uint64_t max = uint64_t{1} << 32;
    Napi::Value process = env.Global().Get("process");
    if (process.IsObject()) {
      Napi::Value get = process.As<Napi::Object>().Get("getBuiltinModule");
      if (get.IsFunction()) {
        Napi::Value buffer = get.As<Napi::Function>().Call(process, {Napi::String::New(env, "buffer")});
        if (buffer.IsObject()) {
          Napi::Value constants = buffer.As<Napi::Object>().Get("constants");
          if (constants.IsObject()) {
            Napi::Value length = constants.As<Napi::Object>().Get("MAX_LENGTH");
            if (length.IsNumber() && length.As<Napi::Number>().DoubleValue() >= 1) {
              max = static_cast<uint64_t>(std::min(length.As<Napi::Number>().DoubleValue(), 9.0e15));
            }
          }
        }
      }
    }
    data->max_view_bytes = max;
  }
  return data->max_view_bytes;
}

void CheckViewable(Napi::Env env, uint64_t bytes, const std::string& what) {
  uint64_t max = MaxViewBytes(env);
  if (bytes > max) {
    Bad(what + " would need views of " + std::to_string(bytes) + " bytes, but this runtime's largest " +
        "ArrayBuffer is " + std::to_string(max) + " bytes (buffer.constants.MAX_LENGTH): use a smaller capacity");
  }
}

void InitErrors(Napi::Env env, Napi::Object exports) {
  Data(env);
  exports.Set("setErrorClass", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
                if (info.Length() < 1 || !info[0].IsFunction()) {
                  throw Napi::TypeError::New(info.Env(), "setErrorClass expects a constructor");
                }
                Data(info.Env())->error_class = Napi::Persistent(info[0].As<Napi::Function>());
              }));
}

Napi::Error MakeError(Napi::Env env, ErrorCode code, const std::string& message) {
  AddonData* data = Data(env);
  if (!data->error_class.IsEmpty()) {
    Napi::Object obj = data->error_class.New(
        {Napi::String::New(env, CodeName(code)), Napi::String::New(env, message)});
    return Napi::Error(env, obj);
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, CodeName(code)));
  return err;
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) {
    Bad(std::string(name) + " must be a string, got " +
        (info.Length() <= i ? "nothing" : TypeName(info[i])));
  }
  return info[i].As<Napi::String>().Utf8Value();
}

uint64_t ArgU64(const Napi::CallbackInfo& info, size_t i, const char* name, uint64_t max) {
  int64_t v = ArgI64(info, i, name, 0, max > INT64_MAX ? INT64_MAX : static_cast<int64_t>(max));
  return static_cast<uint64_t>(v);
}

int64_t ArgI64(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min,
               int64_t max) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Bad(std::string(name) + " must be a number, got " +
        (info.Length() <= i ? "nothing" : TypeName(info[i])));
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d)) {
    Bad(std::string(name) + " must be an integer, got " + std::to_string(d));
  }
  // Every int64_t lies in [-2^63, 2^63); a double outside it cannot be converted (undefined
  // behaviour, e.g. 2^63 == (double)INT64_MAX), so it is refused as a double first.
  constexpr double kTwo63 = 9223372036854775808.0;
  int64_t v = d >= -kTwo63 && d < kTwo63 ? static_cast<int64_t>(d) : 0;
  if (d < -kTwo63 || d >= kTwo63 || v < min || v > max) {
    Bad(std::string(name) + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
        ", got " + Napi::Number::New(info.Env(), d).ToString().Utf8Value());
  }
  return v;
}

uint32_t ArgLockTimeout(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<uint32_t>(ArgU64(info, i, "lockTimeoutMs", 3'600'000));
}

int64_t ArgTimeoutMs(const Napi::CallbackInfo& info, size_t i) {
  constexpr int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;
  return ArgI64(info, i, "timeoutMs", -1, kMaxTimeoutMs);
}

Error NotReturned(const ObjectId& id, bool missing, int64_t timeout_ms) {
  if (missing) {
    return Error(ErrorCode::kObjectNotFound,
                 "object " + id.Hex() + " is not in the store" +
                     (timeout_ms == 0 ? "" : " (waited " + std::to_string(timeout_ms) + " ms)"));
  }
  return Error(ErrorCode::kTimeout, "object " + id.Hex() + " was not sealed within " +
                                        std::to_string(timeout_ms) + " ms");
}

namespace {

// The message for an id that is neither form; `what` describes the value given.
[[noreturn]] void BadId(const char* name, const std::string& what) {
  Bad(std::string(name) + " must be an object id: 20 bytes in a Uint8Array or 40 hex digits, got " + what);
}

// 20 bytes in a Uint8Array: true and `id` set; false when `value` is not a typed array at all.
// The fast path of every id argument: one N-API call, no string made unless it fails.
bool IdFromBytes(napi_env env, napi_value value, const char* name, ObjectId& id) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_uint8_array || length != ObjectId::kSize || data == nullptr) {
    BadId(name, "a typed array of " + std::to_string(length) + " elements" +
                    (data == nullptr && length == 0 ? " (detached?)" : ""));
  }
  std::memcpy(id.bytes, data, ObjectId::kSize);
  return true;
}

ObjectId IdFromHex(napi_env env, napi_value value, const char* name) {
  // Read the 40 characters into a stack buffer, no std::string. UTF-16 rather than latin1, which
  // would silently fold characters above U+00FF into hex digits.
  napi_valuetype kind;
  if (napi_typeof(env, value, &kind) != napi_ok || kind != napi_string) BadId(name, TypeName(Napi::Value(env, value)));
  char16_t wide[2 * ObjectId::kSize + 2];
  size_t length = 0;
  napi_status status = napi_get_value_string_utf16(env, value, wide, std::size(wide), &length);
  if (status == napi_ok && length == 2 * ObjectId::kSize) {
    char narrow[2 * ObjectId::kSize];
    bool ascii = true;
    for (size_t k = 0; k < length; ++k) {
      ascii = ascii && wide[k] < 0x80;
      narrow[k] = static_cast<char>(wide[k]);
    }
    if (ascii) return ObjectId::FromHex(narrow, length);
  }
  return ObjectId::FromHex(Napi::Value(env, value).As<Napi::String>().Utf8Value());
}

ObjectId IdOf(napi_env env, napi_value value, const char* name) {
  ObjectId id;
  if (IdFromBytes(env, value, name, id)) return id;
  return IdFromHex(env, value, name);
}

}  // namespace

ObjectId ValueObjectId(Napi::Env env, napi_value value, const std::string& name) {
  return IdOf(env, value, name.c_str());
}

ObjectId ArgObjectId(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i) Bad(std::string(name) + " must be an object id, got nothing");
  return IdOf(info.Env(), info[i], name);
}

ByteSpan ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsTypedArray()) {
    if (info.Length() > i && info[i].IsDataView()) {
      Napi::DataView dv = info[i].As<Napi::DataView>();
      return {static_cast<const uint8_t*>(dv.Data()), dv.ByteLength()};
    }
    Bad(std::string(name) + " must be a Buffer or Uint8Array, got " +
        (info.Length() <= i ? "nothing" : TypeName(info[i])));
  }
  Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
  const uint8_t* base = static_cast<const uint8_t*>(ta.ArrayBuffer().Data());
  return {base == nullptr ? nullptr : base + ta.ByteOffset(), ta.ByteLength()};
}

PromiseWorker::PromiseWorker(Napi::Env env, const char* resource_name)
    : Napi::AsyncWorker(env, resource_name), deferred_(Napi::Promise::Deferred::New(env)) {}

Napi::Promise PromiseWorker::Start() {
  Napi::Promise promise = deferred_.Promise();
  Queue();
  return promise;
}

void PromiseWorker::Execute() {
  try {
    Run();
  } catch (const Error& e) {
    error_.emplace(e);
  } catch (const std::bad_alloc&) {
    error_.emplace(ErrorCode::kSystem, "out of memory");
  } catch (const std::exception& e) {
    error_.emplace(ErrorCode::kSystem, e.what());
  }
}

void PromiseWorker::Settle(Napi::Env env) {
  try {
    if (error_.has_value()) throw *error_;
    deferred_.Resolve(Result(env));
  } catch (const Error& e) {
    deferred_.Reject(MakeError(env, e.code(), e.what()).Value());
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  }
}

// Replaces node-addon-api's completion, whose error path builds a Napi::Error (which can abort in
// an environment being torn down) and rethrows into the runtime.
void PromiseWorker::OnWorkComplete(Napi::Env env, napi_status status) {
  if (status != napi_cancelled) {
    try {
      Napi::HandleScope scope(env);
      Settle(env);
    } catch (...) {
      // The environment is gone (see napi_util.h): there is nobody left to tell.
    }
  }
  Destroy();
}

namespace {

[[noreturn]] void OutsideRegion(uint64_t offset, uint64_t length, const Region& region) {
  throw Error(ErrorCode::kSegmentCorrupt,
              "object [" + std::to_string(offset) + ", +" + std::to_string(length) + ") lies outside the region [" +
                  std::to_string(region.offset) + ", +" + std::to_string(region.length) + ") JavaScript may see");
}

// An external ArrayBuffer's finalizer: drops the owner of its memory (for a segment, the last owner
// unmaps) and the external memory reported for it. Node runs it on the environment's thread once the
// buffer's backing store is gone (also when the environment is torn down), so no JavaScript view of
// the memory is left by then.
void ReleaseExternal(napi_env env, void* /*data*/, void* hint) {
  void* raw = nullptr;
  if (napi_get_instance_data(env, &raw) != napi_ok || raw == nullptr) return;  // gone with the env
  auto* data = static_cast<AddonData*>(raw);
  auto it = data->keeps.find(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(hint)));
  if (it == data->keeps.end()) return;
  int64_t reported = it->second.reported;
  data->keeps.erase(it);
  int64_t ignored = 0;
  if (reported != 0) napi_adjust_external_memory(env, -reported, &ignored);
}

// An ArrayBuffer over `length` bytes at `base` that keeps `owner` until it is collected; with
// `report`, its size counts as external memory for V8. Made once per address: V8 aborts when one
// address is wrapped by two live external buffers.
Napi::ArrayBuffer ExternalBuffer(Napi::Env env, void* base, size_t length, std::shared_ptr<void> owner, bool report,
                                 const char* what) {
  AddonData* data = Data(env);
  const uint64_t key = data->next_key++;
  data->keeps.emplace(key, Keep{std::move(owner), 0});
  napi_value value = nullptr;
  napi_status status = napi_create_external_arraybuffer(env, base, length, ReleaseExternal,
                                                        reinterpret_cast<void*>(static_cast<uintptr_t>(key)), &value);
  if (status != napi_ok) {
    data->keeps.erase(key);  // whether or not the runtime already ran the finalizer
    std::string why = Napi::Error::New(env).Message();
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    throw Error(ErrorCode::kSystem,
                status == napi_no_external_buffers_allowed
                    ? std::string("this runtime refuses external ArrayBuffers (Electron or a V8 sandbox build?): "
                                  "Mini-Ray needs zero-copy views, so it will not silently copy instead")
                    : "cannot make an ArrayBuffer of " + std::to_string(length) + " bytes over " + what + ": " + why);
  }
  if (report) {
    data->keeps[key].reported = static_cast<int64_t>(length);
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(length));
  }
  return Napi::ArrayBuffer(env, value);
}

}  // namespace

SegmentBuffer::SegmentBuffer(Napi::Env env, uint8_t* base, size_t mapped, Region region, std::shared_ptr<void> owner)
    : base_(base), region_(region), owner_(std::move(owner)) {
  if (region.offset > mapped || region.length > mapped - region.offset || region.length == 0) {
    OutsideRegion(region.offset, region.length, Region{0, mapped});
  }
  CheckViewable(env, region.length, "this segment");
}

Napi::ArrayBuffer SegmentBuffer::Buffer(Napi::Env env) {
  if (!ref_.IsEmpty()) return ref_.Value();
  ref_ = Napi::Persistent(ExternalBuffer(env, base_ + region_.offset, region_.length, owner_, true, "the segment"));
  owner_.reset();  // the ArrayBuffer keeps the mapping alive from now on
  return ref_.Value();
}

uint64_t SegmentBuffer::BufferOffset(uint64_t offset, uint64_t length) const {
  if (offset < region_.offset || offset - region_.offset > region_.length ||
      length > region_.length - (offset - region_.offset)) {
    OutsideRegion(offset, length, region_);
  }
  return offset - region_.offset;
}

Napi::Uint8Array SegmentBuffer::View(Napi::Env env, uint64_t offset, uint64_t length) {
  uint64_t at = BufferOffset(offset, length);
  return Napi::Uint8Array::New(env, length, Buffer(env), at);
}

LocationScratch::LocationScratch() : memory_(new double[2]{0, 0}), slots_(memory_.get()) {}

Napi::Float64Array LocationScratch::Array(Napi::Env env) {
  if (ref_.IsEmpty()) {
    Napi::ArrayBuffer buffer = ExternalBuffer(env, slots_, 2 * sizeof(double), memory_, false, "the location slots");
    ref_ = Napi::Persistent(Napi::Float64Array::New(env, 2, buffer, 0));
  }
  return ref_.Value();
}

namespace detail {

void KeepWhileReachable(Napi::Env env, Napi::Function fn, std::shared_ptr<void>* share) {
  napi_status status = napi_add_finalizer(
      env, fn, share, [](napi_env, void* data, void*) { delete static_cast<std::shared_ptr<void>*>(data); }, nullptr,
      nullptr);
  if (status != napi_ok) {
    delete share;
    throw Error(ErrorCode::kSystem, "cannot tie a method to its store (napi_add_finalizer failed)");
  }
}

}  // namespace detail

}  // namespace miniray::napi
