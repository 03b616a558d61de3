// The crash-point suite's trial runner, compiled into the phase2_crash target only.
//
//   trial(name, script, crashAt, crashLog, timeoutMs) -> { outcome, signal, error }
//
// forks; the child opens store `name` (a client of its own, with its own pid) and runs `script`, a
// list of operations, with MINIRAY_CRASH_AT=crashAt armed, so that it dies at that crash point.
// The parent reports how the child ended. Then the suite checks what the death left behind.
#include <napi.h>

#include <cstring>
#include <string>
#include <vector>

#include "miniray/crash_trial.h"
#include "miniray/napi_util.h"
#include "object_store.h"

namespace {

using miniray::Error;
using miniray::ErrorCode;
using miniray::ObjectId;
using miniray::phase2::ObjectStore;

struct Step {
  std::string op;  // create | seal | put | abort | delete | get | release | close | reclaim
  ObjectId id{};
  uint64_t size = 0;
  std::vector<uint8_t> data;
};

std::vector<Step> ParseScript(const Napi::Value& value) {
  if (!value.IsArray()) throw Error(ErrorCode::kInvalidArgument, "script must be an array of steps");
  Napi::Array steps = value.As<Napi::Array>();
  std::vector<Step> out;
  for (uint32_t i = 0; i < steps.Length(); ++i) {
    Napi::Value v = steps.Get(i);
    if (!v.IsObject()) throw Error(ErrorCode::kInvalidArgument, "a step must be an object");
    Napi::Object o = v.As<Napi::Object>();
    Step s;
    s.op = o.Get("op").As<Napi::String>().Utf8Value();
    if (o.Has("id")) s.id = ObjectId::FromHex(o.Get("id").As<Napi::String>().Utf8Value());
    if (o.Has("size")) s.size = static_cast<uint64_t>(o.Get("size").As<Napi::Number>().Int64Value());
    if (o.Has("data")) {
      Napi::Uint8Array data = o.Get("data").As<Napi::Uint8Array>();
      s.data.assign(data.Data(), data.Data() + data.ByteLength());
      s.size = s.data.size();
    }
    out.push_back(std::move(s));
  }
  return out;
}

void RunScript(const std::string& name, const std::vector<Step>& steps) {
  auto store = ObjectStore::Open(name, 2000);
  for (const Step& s : steps) {
    if (s.op == "create") {
      auto loc = store->CreateObject(s.id, s.size);
      if (!s.data.empty()) std::memcpy(store->base() + loc.offset, s.data.data(), s.data.size());
    } else if (s.op == "seal") {
      store->Seal(s.id);
    } else if (s.op == "put") {
      store->Put(s.id, s.data.data(), s.data.size());
    } else if (s.op == "abort") {
      store->Abort(s.id);
    } else if (s.op == "delete") {
      store->Delete(s.id);
    } else if (s.op == "get") {
      auto r = store->Get(s.id, 0);
      if (r.status != miniray::phase2::GetStatus::kSealed) {
        throw Error(ErrorCode::kObjectNotFound, "get in a trial found no sealed object");
      }
    } else if (s.op == "release") {
      store->Release(s.id);
    } else if (s.op == "close") {
      store->Close();
    } else if (s.op == "reclaim") {
      store->Reclaim();
    } else {
      throw Error(ErrorCode::kInvalidArgument, "unknown step " + s.op);
    }
  }
  // The child leaves without close(), as a process that exits does: its client record stays
  // open with a dead owner, for the next process to reclaim.
  store.release();
}

Napi::Value Trial(const Napi::CallbackInfo& info) {
  return miniray::napi::Guard(info.Env(), [&]() -> Napi::Value {
    const std::string name = miniray::napi::ArgString(info, 0, "name");
    const std::vector<Step> steps = ParseScript(info[1]);
    const std::string crash_at = miniray::napi::ArgString(info, 2, "crashAt");
    const std::string crash_log = miniray::napi::ArgString(info, 3, "crashLog");
    const int64_t timeout = miniray::napi::ArgI64(info, 4, "timeoutMs", 1, 600'000);
    const miniray::TrialOutcome r =
        miniray::RunCrashTrial(crash_at, crash_log, timeout, [&] { RunScript(name, steps); });
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    const char* kind = r.kind == miniray::TrialOutcome::Kind::kCompleted ? "completed"
                       : r.kind == miniray::TrialOutcome::Kind::kKilled  ? "killed"
                       : r.kind == miniray::TrialOutcome::Kind::kFailed  ? "failed"
                                                                         : "timeout";
    out.Set("outcome", Napi::String::New(env, kind));
    out.Set("signal", Napi::Number::New(env, r.signal));
    out.Set("error", Napi::String::New(env, r.error));
    return out;
  });
}

}  // namespace

void RegisterCrashTrials(Napi::Env env, Napi::Object exports) {
  exports.Set("trial", Napi::Function::New(env, Trial));
}
