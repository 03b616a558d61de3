// The lock under every store call, for `npm run bench` (course infrastructure: students do not edit
// this file). A target of its own because the robust mutex is given only from phase 2 on (a
// phase-1 release has no native_given library, and so no bench_lock; the bench then skips the row).
//
//   lockUnlock()   locks and unlocks native-common's RobustMutex, the lock of every segment from
//                  phase 2 on, kept in a MAP_SHARED page as in a segment's header (uncontended).
//   idLockUnlock(id)  reads an id as every glue does (ArgObjectId), then the same lock and unlock:
//                  a store's contains(id) without its lookup, the reference the lookup step is
//                  measured against.
#include <napi.h>
#include <sys/mman.h>

#include <new>

#include "miniray/napi_util.h"
#include "miniray/robust_mutex.h"

namespace {

// One mutex in a shared page, made on first use and never unmapped (the bench runs on the main
// thread only).
miniray::RobustMutex* mutex = nullptr;

void LockAndUnlock() {
  if (mutex == nullptr) {
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) throw miniray::Error(miniray::ErrorCode::kSystem, "mmap of the mutex page failed");
    mutex = new (p) miniray::RobustMutex();
    mutex->Init();
  }
  mutex->Lock(5000);
  mutex->Unlock();
}

Napi::Value LockUnlock(const Napi::CallbackInfo& info) {
  return miniray::napi::Guard(info.Env(), [&]() -> Napi::Value {
    LockAndUnlock();
    return info.Env().Undefined();
  });
}

Napi::Value IdLockUnlock(const Napi::CallbackInfo& info) {
  return miniray::napi::Guard(info.Env(), [&]() -> Napi::Value {
    const miniray::ObjectId id = miniray::napi::ArgObjectId(info, 0, "id");
    LockAndUnlock();
    return Napi::Boolean::New(info.Env(), id.bytes[0] != 0xff || id.bytes[1] != 0xff);
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("lockUnlock", Napi::Function::New(env, LockUnlock));
  exports.Set("idLockUnlock", Napi::Function::New(env, IdLockUnlock));
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
