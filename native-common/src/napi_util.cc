#include "miniray/napi_util.h"

#include <cmath>
#include <iterator>

namespace miniray::napi {

namespace {

struct AddonData {
  Napi::FunctionReference error_class;
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
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    Bad(std::string(name) + " must be between " + std::to_string(min) + " and " +
        std::to_string(max) + ", got " + std::to_string(static_cast<long long>(d)));
  }
  return static_cast<int64_t>(d);
}

uint32_t ArgLockTimeout(const Napi::CallbackInfo& info, size_t i) {
  return static_cast<uint32_t>(ArgU64(info, i, "lockTimeoutMs", 3'600'000));
}

ObjectId ArgObjectId(const Napi::CallbackInfo& info, size_t i, const char* name) {
  // On every get and release: read the 40 characters into a stack buffer, no std::string.
  // UTF-16 rather than latin1, which would silently fold characters above U+00FF into hex digits.
  if (info.Length() > i && info[i].IsString()) {
    char16_t wide[2 * ObjectId::kSize + 2];
    size_t length = 0;
    napi_status status =
        napi_get_value_string_utf16(info.Env(), info[i], wide, std::size(wide), &length);
    if (status == napi_ok && length == 2 * ObjectId::kSize) {
      char narrow[2 * ObjectId::kSize];
      bool ascii = true;
      for (size_t k = 0; k < length; ++k) {
        ascii = ascii && wide[k] < 0x80;
        narrow[k] = static_cast<char>(wide[k]);
      }
      if (ascii) return ObjectId::FromHex(narrow, length);
    }
  }
  return ObjectId::FromHex(ArgString(info, i, name));
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

SegmentBuffer::SegmentBuffer(Napi::Env env, uint8_t* base, size_t size,
                             std::shared_ptr<void> owner)
    : size_(size) {
  auto* hint = new std::shared_ptr<void>(std::move(owner));
  Napi::ArrayBuffer ab;
  try {
    ab = Napi::ArrayBuffer::New(
        env, base, size,
        [](Napi::Env, void*, std::shared_ptr<void>* keep) { delete keep; }, hint);
  } catch (const Napi::Error& e) {
    delete hint;
    throw MakeError(env, ErrorCode::kSystem,
                    std::string("this runtime refuses external ArrayBuffers (Electron or a V8 "
                                "sandbox build?): Mini-Ray needs zero-copy views, so it will not "
                                "silently copy instead: ") +
                        e.Message());
  }
  ref_ = Napi::Persistent(ab);
}

Napi::Uint8Array SegmentBuffer::View(Napi::Env env, uint64_t offset, uint64_t length) const {
  if (offset > size_ || length > size_ - offset) {
    throw Error(ErrorCode::kSegmentCorrupt, "object [" + std::to_string(offset) + ", +" +
                                                std::to_string(length) +
                                                ") lies outside the mapped segment");
  }
  return Napi::Uint8Array::New(env, length, ref_.Value(), offset);
}

void LocationScratch::Bind(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[0].As<Napi::TypedArray>().ElementLength() < 2) {
    Bad("bindScratch needs a Float64Array of length 2");
  }
  auto array = info[0].As<Napi::Float64Array>();
  ref_ = Napi::Persistent(array);
  slots_ = array.Data();
}

void LocationScratch::Write(uint64_t offset, uint64_t size, size_t mapped) {
  if (slots_ == nullptr) Bad("bindScratch was not called");
  if (offset > mapped || size > mapped - offset) {
    throw Error(ErrorCode::kSegmentCorrupt, "object [" + std::to_string(offset) + ", +" +
                                                std::to_string(size) +
                                                ") lies outside the mapped segment");
  }
  slots_[0] = static_cast<double>(offset);
  slots_[1] = static_cast<double>(size);
}

}  // namespace miniray::napi
