// minmax.cc — count, NaN count, min and max of numeric fields (src/ops/minmax.ts).
//
// Every value is mapped to its order-preserving 64-bit key: unsigned integers as they are, signed ones
// with the sign bit flipped, floats (f32 widened exactly to double) with the sign bit flipped for
// positives and every bit flipped for negatives — so unsigned key order is value order with
// −Inf < … < −0 < +0 < … < +Inf, exactly stats' min/max (−0 below +0). NaN has no place in that order:
// it is counted and given key UINT64_MAX for the min and 0 for the max, which no other value has
// (−Inf's key is 0x000f…f, +Inf's 0xfff0…0), so neither can win. A block of a float field is gathered
// into columns of keys, then reduced with vector code (per clone: AVX-512F, AVX2, baseline); a block of
// an integer field is gathered and reduced in its own width (more lanes), and only its min and max
// become keys.
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "args.h"
#include "control.h"
#include "cpu.h"
#include "kernel.h"
#include "load.h"
#include "mapping.h"

namespace bigproc {

namespace {

constexpr size_t kBlock = 2048;  // records per gather → reduce round (the columns stay in L1/L2)
constexpr uint64_t kSign = uint64_t{1} << 63;
constexpr uint64_t kExpMask = uint64_t{0x7ff} << 52;

struct MinMaxAcc {
  uint64_t minKey = ~uint64_t{0};
  uint64_t maxKey = 0;
  uint64_t nan = 0;
};

/** The order-preserving key of one value; NaN sets *isNan (its key is then meaningless). */
template <typename T>
BP_INLINE uint64_t KeyOf(T v, bool* isNan) {
  if constexpr (std::is_floating_point_v<T>) {
    const uint64_t b = BitsOf(static_cast<double>(v));
    *isNan = (b & ~kSign) > kExpMask;
    return (b & kSign) != 0 ? ~b : b | kSign;
  } else if constexpr (std::is_signed_v<T>) {
    *isNan = false;
    return static_cast<uint64_t>(static_cast<int64_t>(v)) ^ kSign;
  } else {
    *isNan = false;
    return static_cast<uint64_t>(v);
  }
}

/** Float fields: gather n keys into lo/hi columns, a value's key in both, a NaN's as UINT64_MAX in lo and 0 in hi. */
template <typename T, bool Swap>
BP_INLINE uint64_t GatherKeys(const uint8_t* p, size_t n, size_t rs, uint64_t* lo, uint64_t* hi) {
  uint64_t nan = 0;
  for (size_t i = 0; i < n; i++, p += rs) {
    bool isNan;
    const uint64_t k = KeyOf<T>(Load<T, Swap>(p), &isNan);
    lo[i] = isNan ? ~uint64_t{0} : k;
    hi[i] = isNan ? 0 : k;
    nan += isNan ? 1 : 0;
  }
  return nan;
}

/**
 * Integer fields: gather n values into a column of their own width and reduce it there (8-bit types in
 * 32 lanes of a ymm, not 4 keys), then fold the block's min and max into acc as keys.
 */
template <typename T, bool Swap>
BP_INLINE void GatherReduceInts(const uint8_t* p, size_t n, size_t rs, void* scratch, uint64_t* minKey,
                                uint64_t* maxKey) {
  T* __restrict col = static_cast<T*>(scratch);
  for (size_t i = 0; i < n; i++, p += rs) col[i] = Load<T, Swap>(p);
  T mn = std::numeric_limits<T>::max(), mx = std::numeric_limits<T>::lowest();
  for (size_t i = 0; i < n; i++) {
    mn = col[i] < mn ? col[i] : mn;
    mx = col[i] > mx ? col[i] : mx;
  }
  bool unused;
  if (n == 0) return;
  const uint64_t kmn = KeyOf<T>(mn, &unused), kmx = KeyOf<T>(mx, &unused);
  *minKey = kmn < *minKey ? kmn : *minKey;
  *maxKey = kmx > *maxKey ? kmx : *maxKey;
}

/** A block of a float field: its keys into lo/hi (reduced by MinMaxReduce); returns its NaN count. */
BP_CLONES uint64_t MinMaxGather(const uint8_t* p, size_t n, size_t rs, NumType type, bool swap, uint64_t* lo,
                                uint64_t* hi) {
  if (type == NumType::F64) return swap ? GatherKeys<double, true>(p, n, rs, lo, hi) : GatherKeys<double, false>(p, n, rs, lo, hi);
  return swap ? GatherKeys<float, true>(p, n, rs, lo, hi) : GatherKeys<float, false>(p, n, rs, lo, hi);
}

/** A block of an integer field, gathered into scratch (kBlock × 8 bytes) and folded into acc. */
BP_CLONES void MinMaxInts(const uint8_t* p, size_t n, size_t rs, NumType type, bool swap, void* scratch,
                          uint64_t* minKey, uint64_t* maxKey) {
#define BP_CALL(T, S)                                                          \
  if constexpr (!std::is_floating_point_v<T>) GatherReduceInts<T, S>(p, n, rs, scratch, minKey, maxKey)
  BP_TYPE_SWITCH(type, swap, BP_CALL)
#undef BP_CALL
}

/** min of lo[0..n) and max of hi[0..n) folded into acc (vectorised: 8 independent lanes each). */
BP_CLONES void MinMaxReduce(const uint64_t* __restrict lo, const uint64_t* __restrict hi, size_t n, MinMaxAcc* acc) {
  uint64_t mn[8], mx[8];
  for (int k = 0; k < 8; k++) {
    mn[k] = acc->minKey;
    mx[k] = acc->maxKey;
  }
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; k++) {
      mn[k] = lo[i + k] < mn[k] ? lo[i + k] : mn[k];
      mx[k] = hi[i + k] > mx[k] ? hi[i + k] : mx[k];
    }
  }
  for (; i < n; i++) {
    mn[0] = lo[i] < mn[0] ? lo[i] : mn[0];
    mx[0] = hi[i] > mx[0] ? hi[i] : mx[0];
  }
  for (int k = 0; k < 8; k++) {
    acc->minKey = mn[k] < acc->minKey ? mn[k] : acc->minKey;
    acc->maxKey = mx[k] > acc->maxKey ? mx[k] : acc->maxKey;
  }
}

struct MinMaxArgs {
  Span span;
  Control ctl;
  std::vector<FieldRef> fields;
};

/** minmax(mapping, byteOffset, records, recordSize, fields[], ctl) */
MinMaxArgs ParseMinMax(const Napi::CallbackInfo& info) {
  MinMaxArgs a;
  a.span = ToSpan(info);
  Napi::Array list = ToArray(info[4], "fields");
  a.ctl = ToControl(info[5], "ctl");
  const uint32_t nf = list.Length();
  a.fields.resize(nf);
  for (uint32_t i = 0; i < nf; i++) {
    a.fields[i] = ToFieldRef(list.Get(i), "fields[" + std::to_string(i) + "]", a.span.recordSize);
  }
  return a;
}

/** Every field's accumulator over the span. No N-API. */
Outcome ComputeMinMax(const MinMaxArgs& a, std::vector<MinMaxAcc>* out) {
  out->assign(a.fields.size(), MinMaxAcc());
  if (a.ctl.Cancelled()) return Outcome::Cancelled;
  std::vector<uint64_t> lo(kBlock), hi(kBlock);
  const size_t rs = static_cast<size_t>(a.span.recordSize);
  auto body = [&](uint64_t start, uint64_t n) {
    for (uint64_t s = 0; s < n; s += kBlock) {
      const size_t m = static_cast<size_t>(n - s < kBlock ? n - s : kBlock);
      const uint8_t* p = a.span.Record(start + s);
      for (size_t f = 0; f < a.fields.size(); f++) {
        const FieldRef& fr = a.fields[f];
        MinMaxAcc& acc = (*out)[f];
        if (IsFloatType(fr.type)) {
          acc.nan += MinMaxGather(p + fr.offset, m, rs, fr.type, fr.swap, lo.data(), hi.data());
          MinMaxReduce(lo.data(), hi.data(), m, &acc);
        } else {
          MinMaxInts(p + fr.offset, m, rs, fr.type, fr.swap, lo.data(), &acc.minKey, &acc.maxKey);
        }
      }
    }
    return true;
  };
  return ScanBlocks(a.span, a.ctl, body);
}

/** A key back to its value: a BigInt for integer types, a Number for floats. */
Napi::Value ValueOfKey(Napi::Env env, NumType type, uint64_t key) {
  if (IsFloatType(type)) return Napi::Number::New(env, DoubleOf((key & kSign) != 0 ? key ^ kSign : ~key));
  if (IsSignedType(type)) return Napi::BigInt::New(env, static_cast<int64_t>(key ^ kSign));
  return Napi::BigInt::New(env, key);
}

/** → per-field partials {count, nan, min, max} (src/ops/minmax.ts MinMaxAcc). */
Napi::Value ConvertMinMax(Napi::Env env, const MinMaxArgs& a, const std::vector<MinMaxAcc>& out) {
  Napi::Array list = Napi::Array::New(env, a.fields.size());
  for (uint32_t f = 0; f < a.fields.size(); f++) {
    const MinMaxAcc& acc = out[f];
    const uint64_t count = a.span.records - acc.nan;
    Napi::Object o = Napi::Object::New(env);
    o.Set("count", Napi::Number::New(env, static_cast<double>(count)));
    o.Set("nan", Napi::Number::New(env, static_cast<double>(acc.nan)));
    o.Set("min", count == 0 ? env.Null() : ValueOfKey(env, a.fields[f].type, acc.minKey));
    o.Set("max", count == 0 ? env.Null() : ValueOfKey(env, a.fields[f].type, acc.maxKey));
    list.Set(f, o);
  }
  return list;
}

/** minmax(mapping, byteOffset, records, recordSize, fields[], ctl) → per-field partials, or null if cancelled. */
Napi::Value MinMax(const Napi::CallbackInfo& info) {
  const MinMaxArgs args = ParseMinMax(info);
  std::vector<MinMaxAcc> out;
  if (!Settle(info.Env(), ComputeMinMax(args, &out))) return info.Env().Null();
  return ConvertMinMax(info.Env(), args, out);
}

}  // namespace

BIGPROC_EXPORT("minmax", MinMax);

}  // namespace bigproc
