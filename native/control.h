// control.h — progress reporting and cancellation shared with JavaScript through a SharedArrayBuffer.
//
// ctl layout: bytes 0..7 an int64 progress counter (bytes processed so far, read from JS with
// Atomics on a BigInt64Array), bytes 8..11 an int32 cancel flag (nonzero = stop). Kernels work in
// blocks of about 1 MiB of whole records; after each block they add its bytes to the counter and
// check the flag.
#pragma once

#include <napi.h>

#include <cstdint>

#include "args.h"

namespace bigproc {

constexpr uint64_t kProgressBlockBytes = 1u << 20;

class Control {
 public:
  Control() = default;
  Control(int64_t* progress, int32_t* cancel) : progress_(progress), cancel_(cancel) {}

  void Add(uint64_t bytes) const {
    if (progress_ != nullptr && bytes != 0) __atomic_fetch_add(progress_, static_cast<int64_t>(bytes), __ATOMIC_SEQ_CST);
  }
  bool Cancelled() const { return cancel_ != nullptr && __atomic_load_n(cancel_, __ATOMIC_SEQ_CST) != 0; }

  /** Whole records per progress block (about 1 MiB, at least one record). */
  static uint64_t BlockRecords(uint64_t recordSize) {
    uint64_t n = kProgressBlockBytes / recordSize;
    return n == 0 ? 1 : n;
  }

 private:
  int64_t* progress_ = nullptr;
  int32_t* cancel_ = nullptr;
};

/**
 * Read ctl: a SharedArrayBuffer (or an ArrayBuffer / typed array over one) of at least 12 bytes.
 * undefined or null mean "no progress, no cancel".
 */
inline Control ToControl(Napi::Value v, const std::string& name) {
  Napi::Env env = v.Env();
  if (v.IsUndefined() || v.IsNull()) return Control();
  const char* what = "SharedArrayBuffer of at least 12 bytes";
  uint8_t* data = nullptr;
  size_t length = 0;
  if (v.IsTypedArray() || v.IsDataView() || v.IsArrayBuffer()) {
    if (v.IsArrayBuffer()) {
      Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
      data = static_cast<uint8_t*>(ab.Data());
      length = ab.ByteLength();
    } else if (v.IsTypedArray()) {
      Napi::TypedArray ta = v.As<Napi::TypedArray>();
      void* p = nullptr;
      napi_status st = napi_get_typedarray_info(env, ta, nullptr, &length, &p, nullptr, nullptr);
      NAPI_THROW_IF_FAILED(env, st, Control());
      length *= ta.ElementSize();
      data = static_cast<uint8_t*>(p);
    } else {
      Napi::DataView dv = v.As<Napi::DataView>();
      data = static_cast<uint8_t*>(dv.Data());
      length = dv.ByteLength();
    }
  } else if (v.IsObject()) {
    // Node-API (v8) has no accessor for SharedArrayBuffer memory: view it through a Uint8Array.
    Napi::Value ctor = env.Global().Get("SharedArrayBuffer");
    if (!ctor.IsFunction() || !v.As<Napi::Object>().InstanceOf(ctor.As<Napi::Function>())) {
      ThrowExpected(env, name, what, v);
    }
    Napi::Function u8 = env.Global().Get("Uint8Array").As<Napi::Function>();
    Napi::Value view = u8.New({v});
    void* p = nullptr;
    napi_status st = napi_get_typedarray_info(env, view, nullptr, &length, &p, nullptr, nullptr);
    NAPI_THROW_IF_FAILED(env, st, Control());
    data = static_cast<uint8_t*>(p);
  } else {
    ThrowExpected(env, name, what, v);
  }
  if (length < 12 || data == nullptr) ThrowExpected(env, name, what, v);
  if ((reinterpret_cast<uintptr_t>(data) & 7) != 0) ThrowExpected(env, name, "8-byte aligned " + std::string(what), v);
  return Control(reinterpret_cast<int64_t*>(data), reinterpret_cast<int32_t*>(data + 8));
}

}  // namespace bigproc
