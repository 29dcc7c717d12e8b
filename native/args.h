// args.h — small typed helpers that read JS arguments and options objects (sharp-style) and throw
// Napi::TypeError with uniform messages: `Expected <what> for <name> but received <value>`.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "load.h"

namespace bigproc {

/** Render a received value the way the TypeScript side does (src/errors.ts show()). */
inline std::string Describe(Napi::Value v) {
  Napi::Env env = v.Env();
  if (v.IsUndefined()) return "nothing";
  if (v.IsBigInt()) return v.ToString().Utf8Value();
  try {
    Napi::Object json = env.Global().Get("JSON").As<Napi::Object>();
    Napi::Value s = json.Get("stringify").As<Napi::Function>().Call(json, {v});
    if (s.IsString()) return s.As<Napi::String>().Utf8Value();
  } catch (const Napi::Error&) {
    // e.g. an object holding a bigint: fall back to String(v)
  }
  try {
    return v.ToString().Utf8Value();
  } catch (const Napi::Error&) {
    return "a value";
  }
}

[[noreturn]] inline void ThrowExpected(Napi::Env env, const std::string& name, const std::string& what,
                                       Napi::Value received) {
  throw Napi::TypeError::New(env, "Expected " + what + " for " + name + " but received " + Describe(received));
}

[[noreturn]] inline void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

constexpr double kMaxSafeInteger = 9007199254740991.0;

/** A JS number that is a safe integer ≥ 0 (or ≥ 1 when positive). */
inline uint64_t ToIndex(Napi::Value v, const std::string& name, bool positive = false) {
  const char* what = positive ? "positive integer" : "non-negative integer";
  if (!v.IsNumber()) ThrowExpected(v.Env(), name, what, v);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= (positive ? 1.0 : 0.0)) || d > kMaxSafeInteger || std::trunc(d) != d) ThrowExpected(v.Env(), name, what, v);
  return static_cast<uint64_t>(d);
}

inline double ToFiniteNumber(Napi::Value v, const std::string& name) {
  if (!v.IsNumber()) ThrowExpected(v.Env(), name, "finite number", v);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) ThrowExpected(v.Env(), name, "finite number", v);
  return d;
}

inline double ToNumber(Napi::Value v, const std::string& name) {
  if (!v.IsNumber()) ThrowExpected(v.Env(), name, "number", v);
  return v.As<Napi::Number>().DoubleValue();
}

inline bool ToBool(Napi::Value v, const std::string& name) {
  if (!v.IsBoolean()) ThrowExpected(v.Env(), name, "boolean", v);
  return v.As<Napi::Boolean>().Value();
}

inline Napi::Object ToObject(Napi::Value v, const std::string& name) {
  if (!v.IsObject() || v.IsArray() || v.IsFunction()) ThrowExpected(v.Env(), name, "object", v);
  return v.As<Napi::Object>();
}

inline Napi::Array ToArray(Napi::Value v, const std::string& name) {
  if (!v.IsArray()) ThrowExpected(v.Env(), name, "array", v);
  return v.As<Napi::Array>();
}

inline std::string ToString(Napi::Value v, const std::string& name) {
  if (!v.IsString()) ThrowExpected(v.Env(), name, "string", v);
  return v.As<Napi::String>().Utf8Value();
}

/** Optional boolean property: default when absent/undefined. */
inline bool OptBool(Napi::Object o, const char* key, const std::string& name, bool dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  return ToBool(v, name + "." + key);
}

inline NumType ToNumType(Napi::Value v, const std::string& name) {
  const char* what = "one of i8, u8, i16, u16, i32, u32, i64, u64, f32, f64";
  if (!v.IsString()) ThrowExpected(v.Env(), name, what, v);
  std::string s = v.As<Napi::String>().Utf8Value();
  for (int i = 0; i < kNumTypes; i++) {
    if (s == TypeName(static_cast<NumType>(i))) return static_cast<NumType>(i);
  }
  ThrowExpected(v.Env(), name, what, v);
}

/** Integer range of a numeric integer type, as int64 (signed) or uint64 (unsigned). */
inline void IntRange(NumType t, int64_t* smin, int64_t* smax, uint64_t* umax) {
  switch (t) {
    case NumType::I8: *smin = INT8_MIN; *smax = INT8_MAX; break;
    case NumType::I16: *smin = INT16_MIN; *smax = INT16_MAX; break;
    case NumType::I32: *smin = INT32_MIN; *smax = INT32_MAX; break;
    case NumType::I64: *smin = INT64_MIN; *smax = INT64_MAX; break;
    case NumType::U8: *umax = UINT8_MAX; break;
    case NumType::U16: *umax = UINT16_MAX; break;
    case NumType::U32: *umax = UINT32_MAX; break;
    case NumType::U64: *umax = UINT64_MAX; break;
    default: break;
  }
}

/**
 * An integer value for a field of type t (a bigint, or a safe-integer number), checked against the
 * type's range, returned as its 64-bit two's-complement bit pattern.
 */
inline uint64_t ToIntOfType(Napi::Value v, NumType t, const std::string& name) {
  Napi::Env env = v.Env();
  std::string what = std::string("bigint within the range of ") + TypeName(t);
  int64_t smin = 0, smax = 0;
  uint64_t umax = 0;
  IntRange(t, &smin, &smax, &umax);
  bool isSigned = IsSignedType(t);
  if (v.IsBigInt()) {
    bool lossless = false;
    if (isSigned) {
      int64_t x = v.As<Napi::BigInt>().Int64Value(&lossless);
      if (!lossless || x < smin || x > smax) ThrowExpected(env, name, what, v);
      return static_cast<uint64_t>(x);
    }
    uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless || x > umax) ThrowExpected(env, name, what, v);
    return x;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(std::fabs(d) <= kMaxSafeInteger) || std::trunc(d) != d) ThrowExpected(env, name, what, v);
    if (isSigned) {
      int64_t x = static_cast<int64_t>(d);
      if (x < smin || x > smax) ThrowExpected(env, name, what, v);
      return static_cast<uint64_t>(x);
    }
    if (d < 0 || static_cast<uint64_t>(d) > umax) ThrowExpected(env, name, what, v);
    return static_cast<uint64_t>(d);
  }
  ThrowExpected(env, name, what, v);
}

/** Any bigint (or safe-integer number), reduced modulo 2^64. */
inline uint64_t ToWrappedU64(Napi::Value v, const std::string& name) {
  if (v.IsBigInt()) {
    bool lossless = false;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::fabs(d) <= kMaxSafeInteger && std::trunc(d) == d) return static_cast<uint64_t>(static_cast<int64_t>(d));
  }
  ThrowExpected(v.Env(), name, "bigint", v);
}

/** A record field `{offset, type, bigEndian}` read from an options object. */
struct FieldRef {
  uint32_t offset = 0;
  NumType type = NumType::U8;
  bool swap = false;
};

inline FieldRef ToFieldRef(Napi::Value v, const std::string& name, uint64_t recordSize) {
  Napi::Object o = ToObject(v, name);
  FieldRef f;
  f.type = ToNumType(o.Get("type"), name + ".type");
  uint64_t off = ToIndex(o.Get("offset"), name + ".offset");
  if (off + TypeSize(f.type) > recordSize) {
    ThrowExpected(v.Env(), name + ".offset",
                  "offset + " + std::to_string(TypeSize(f.type)) + " <= recordSize (" + std::to_string(recordSize) + ")",
                  o.Get("offset"));
  }
  f.offset = static_cast<uint32_t>(off);
  f.swap = NeedsSwap(OptBool(o, "bigEndian", name, false));
  return f;
}

}  // namespace bigproc
