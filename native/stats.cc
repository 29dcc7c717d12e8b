// stats.cc — exact statistics kernels.
//
// Integers: Σx in __int128 and Σx² in a 192-bit accumulator. For ≤32-bit types a block's values are
// first gathered into a contiguous column, then reduced in 64-bit lanes (vectorised): the 64-bit
// square of a 32-bit magnitude is summed as its low and high 32-bit halves, so no lane overflows.
// Floats: every finite double is ±m·2^(e'−1075) with e' = max(e, 1), so Σx and Σx² are accumulated
// exactly in per-exponent buckets (signed mantissas in int64, squared mantissas in u128), flushed to
// wider accumulators before they can overflow, and assembled into big two's-complement integers:
// S with Σx = S·2^-1074 and Q with Σx² = Q·2^-2148.
#include "stats.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "args.h"
#include "bignum.h"
#include "control.h"
#include "cpu.h"
#include "load.h"
#include "mapping.h"

namespace bigproc {

namespace {

constexpr size_t kBlock = 2048;  // records per inner block (the block stays in L1/L2)

struct IntAcc {
  i128 sum = 0;
  u128 sqLo = 0;  // Σx² = sqHi·2^128 + sqLo
  uint64_t sqHi = 0;
  i128 min = 0;
  i128 max = 0;
  bool any = false;

  void AddSq(u128 v) {
    sqLo += v;
    sqHi += sqLo < v ? 1 : 0;
  }
  void MinMax(i128 mn, i128 mx) {
    if (!any || mn < min) min = mn;
    if (!any || mx > max) max = mx;
    any = true;
  }
};

constexpr int kSets = 4;        // interleaved bucket sets (avoid store-forwarding chains)
constexpr int kExponents = 2048;
constexpr uint64_t kFrac = (uint64_t{1} << 52) - 1;
constexpr uint64_t kHidden = uint64_t{1} << 52;
constexpr uint64_t kSign = uint64_t{1} << 63;
constexpr uint64_t kQFlushEvery = (uint64_t{1} << 22) - 2 * kBlock;

struct FloatAcc {
  // hot buckets, slot = e' * kSets + (i % kSets)
  int64_t b[kExponents * kSets];
  u128 q[kExponents * kSets];
  i128 bsum[kExponents];  // b flushed here every block (≤ 512 adds per slot per block)
  BigNum<68> Q;           // q flushed here every < 2^22 records
  int blo, bhi;           // exponents touched in b since the last b flush (this block)
  int lo, hi;             // exponents touched in q since the last q flush
  int glo, ghi;           // exponents touched in bsum
  uint64_t sinceQFlush;
  uint64_t nan, posinf, neginf;
  double mn, mx;
  bool negZero, posZero;

  void Init() {
    blo = lo = glo = kExponents;
    bhi = hi = ghi = -1;
    mn = std::numeric_limits<double>::infinity();
    mx = -std::numeric_limits<double>::infinity();
  }

  void FlushB() {
    for (int e = blo; e <= bhi; e++) {
      i128 s = 0;
      for (int k = 0; k < kSets; k++) {
        s += b[e * kSets + k];
        b[e * kSets + k] = 0;
      }
      bsum[e] += s;
    }
    if (blo < glo) glo = blo;
    if (bhi > ghi) ghi = bhi;
    if (blo < lo) lo = blo;
    if (bhi > hi) hi = bhi;
    blo = kExponents;
    bhi = -1;
  }

  void FlushQ() {
    for (int e = lo; e <= hi; e++) {
      for (int k = 0; k < kSets; k++) {
        u128 v = q[e * kSets + k];
        if (v != 0) {
          Q.AddShifted(v, 2u * static_cast<unsigned>(e - 1));
          q[e * kSets + k] = 0;
        }
      }
    }
    lo = kExponents;
    hi = -1;
    sinceQFlush = 0;
  }
};

// FloatAcc is an aggregate of plain data (an implicit-lifetime type): calloc gives a zeroed one
// whose large bucket arrays are fresh pages, touched only where exponents occur.
struct FloatAccDeleter {
  void operator()(FloatAcc* p) const { std::free(p); }
};

/** |x| as an unsigned integer of the same width (exact, also for the most negative value). */
template <typename T, typename U = std::make_unsigned_t<T>>
BP_INLINE U Magnitude(T x) {
  if constexpr (std::is_signed_v<T>) {
    return x < 0 ? static_cast<U>(U{0} - static_cast<U>(x)) : static_cast<U>(x);
  } else {
    return x;
  }
}

// ----- kernels (inlined into every clone) -------------------------------------------------------

template <typename T, bool Swap>
BP_INLINE void SmallIntBlock(const uint8_t* p, size_t n, size_t rs, T* __restrict col, IntAcc* acc) {
  for (size_t i = 0; i < n; i++) col[i] = Load<T, Swap>(p + i * rs);
  int64_t s = 0;
  uint64_t q0 = 0, q1 = 0;
  T mn = col[0], mx = col[0];
  for (size_t i = 0; i < n; i++) {
    T x = col[i];
    s += x;
    uint32_t ax = Magnitude(x);
    if constexpr (sizeof(T) <= 2) {
      q0 += ax * ax;  // < 2^32
    } else {
      const uint64_t sq = static_cast<uint64_t>(ax) * ax;  // < 2^64; halves summed apart
      q0 += static_cast<uint32_t>(sq);
      q1 += sq >> 32;
    }
    mn = x < mn ? x : mn;
    mx = x > mx ? x : mx;
  }
  acc->sum += s;
  acc->AddSq((static_cast<u128>(q1) << 32) + q0);
  acc->MinMax(mn, mx);
}

template <typename T, bool Swap>
BP_INLINE void WideIntBlock(const uint8_t* p, size_t n, size_t rs, IntAcc* acc) {
  i128 s = 0;
  u128 qlo = 0;
  uint64_t qhi = 0;
  T mn = Load<T, Swap>(p), mx = mn;
  for (size_t i = 0; i < n; i++) {
    T x = Load<T, Swap>(p + i * rs);
    s += x;
    uint64_t ax = Magnitude(x);
    u128 sq = static_cast<u128>(ax) * ax;
    qlo += sq;
    qhi += qlo < sq ? 1 : 0;
    mn = x < mn ? x : mn;
    mx = x > mx ? x : mx;
  }
  acc->sum += s;
  acc->AddSq(qlo);
  acc->sqHi += qhi;
  acc->MinMax(mn, mx);
}

template <typename T, bool Swap>
BP_INLINE void FloatBlock(const uint8_t* p, size_t n, size_t rs, FloatAcc* __restrict a) {
  int lo = a->blo, hi = a->bhi;
  double mn = a->mn, mx = a->mx;
  uint64_t nan = 0, pinf = 0, ninf = 0;
  bool negZero = false, posZero = false;
  int64_t* __restrict b = a->b;
  u128* __restrict q = a->q;
  for (size_t i = 0; i < n; i++) {
    double x = static_cast<double>(Load<T, Swap>(p + i * rs));
    uint64_t bits = BitsOf(x);
    int e = static_cast<int>((bits >> 52) & 0x7ff);
    if (__builtin_expect(e == 0x7ff, 0)) {
      if (bits & kFrac) {
        nan++;
      } else {
        if (bits & kSign) ninf++; else pinf++;
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
      }
      continue;
    }
    uint64_t m = bits & kFrac;
    int ee = e;
    if (e != 0) m |= kHidden; else ee = 1;
    int64_t sm = (bits & kSign) ? -static_cast<int64_t>(m) : static_cast<int64_t>(m);
    size_t slot = static_cast<size_t>(ee) * kSets + (i & (kSets - 1));
    b[slot] += sm;
    q[slot] += static_cast<u128>(m) * m;
    lo = ee < lo ? ee : lo;
    hi = ee > hi ? ee : hi;
    mn = x < mn ? x : mn;
    mx = x > mx ? x : mx;
    negZero |= bits == kSign;
    posZero |= bits == 0;
  }
  a->blo = lo;
  a->bhi = hi;
  a->mn = mn;
  a->mx = mx;
  a->nan += nan;
  a->posinf += pinf;
  a->neginf += ninf;
  a->negZero |= negZero;
  a->posZero |= posZero;
}

// ----- runtime-dispatched wrappers ------------------------------------------------------------------

BP_CLONES void StatsIntBlock(const uint8_t* p, size_t n, size_t rs, NumType type, bool swap, void* col, IntAcc* acc) {
#define BP_SMALL(T, S) SmallIntBlock<T, S>(p, n, rs, static_cast<T*>(col), acc)
#define BP_WIDE(T, S) WideIntBlock<T, S>(p, n, rs, acc)
  switch (type) {
    case NumType::I8: BP_SMALL(int8_t, false); break;
    case NumType::U8: BP_SMALL(uint8_t, false); break;
    case NumType::I16: if (swap) BP_SMALL(int16_t, true); else BP_SMALL(int16_t, false); break;
    case NumType::U16: if (swap) BP_SMALL(uint16_t, true); else BP_SMALL(uint16_t, false); break;
    case NumType::I32: if (swap) BP_SMALL(int32_t, true); else BP_SMALL(int32_t, false); break;
    case NumType::U32: if (swap) BP_SMALL(uint32_t, true); else BP_SMALL(uint32_t, false); break;
    case NumType::I64: if (swap) BP_WIDE(int64_t, true); else BP_WIDE(int64_t, false); break;
    case NumType::U64: if (swap) BP_WIDE(uint64_t, true); else BP_WIDE(uint64_t, false); break;
    default: break;
  }
#undef BP_SMALL
#undef BP_WIDE
}

BP_CLONES void StatsFloatBlock(const uint8_t* p, size_t n, size_t rs, NumType type, bool swap, FloatAcc* acc) {
  if (type == NumType::F32) {
    if (swap) FloatBlock<float, true>(p, n, rs, acc); else FloatBlock<float, false>(p, n, rs, acc);
  } else {
    if (swap) FloatBlock<double, true>(p, n, rs, acc); else FloatBlock<double, false>(p, n, rs, acc);
  }
}

// ----- results --------------------------------------------------------------------------------------

Napi::Value IntResult(Napi::Env env, const IntAcc& a, uint64_t records) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("count", Napi::Number::New(env, static_cast<double>(records)));
  o.Set("sum", BigIntFromI128(env, a.sum));
  BigNum<3> sq;
  sq.AddShifted(a.sqLo, 0);
  sq.w[2] = a.sqHi;
  o.Set("sumsq", sq.ToBigInt(env, false));
  if (a.any) {
    o.Set("min", BigIntFromI128(env, a.min));
    o.Set("max", BigIntFromI128(env, a.max));
  } else {
    o.Set("min", env.Null());
    o.Set("max", env.Null());
  }
  return o;
}

Napi::Value FloatResult(Napi::Env env, FloatAcc& a, uint64_t records) {
  a.FlushB();
  a.FlushQ();
  BigNum<36> S;
  for (int e = a.glo; e <= a.ghi; e++) {
    if (a.bsum[e] != 0) S.AddSignedShifted(a.bsum[e], static_cast<unsigned>(e - 1));
  }
  uint64_t count = records - a.nan;
  Napi::Object o = Napi::Object::New(env);
  o.Set("count", Napi::Number::New(env, static_cast<double>(count)));
  o.Set("nan", Napi::Number::New(env, static_cast<double>(a.nan)));
  o.Set("posinf", Napi::Number::New(env, static_cast<double>(a.posinf)));
  o.Set("neginf", Napi::Number::New(env, static_cast<double>(a.neginf)));
  o.Set("sum", S.ToBigInt(env, true));
  o.Set("sumsq", a.Q.ToBigInt(env, false));
  if (count == 0) {
    o.Set("min", env.Null());
    o.Set("max", env.Null());
  } else {
    double mn = a.mn, mx = a.mx;
    if (mn == 0) mn = a.negZero ? -0.0 : 0.0;
    if (mx == 0) mx = a.posZero ? 0.0 : -0.0;
    o.Set("min", Napi::Number::New(env, mn));
    o.Set("max", Napi::Number::New(env, mx));
  }
  return o;
}

}  // namespace

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Span span = ToSpan(info);
  Napi::Array list = ToArray(info[4], "fields");
  Control ctl = ToControl(info[5], "ctl");

  const uint32_t nf = list.Length();
  std::vector<FieldRef> fields(nf);
  for (uint32_t i = 0; i < nf; i++) fields[i] = ToFieldRef(list.Get(i), "fields[" + std::to_string(i) + "]", span.recordSize);

  std::vector<IntAcc> ints(nf);
  std::vector<std::unique_ptr<FloatAcc, FloatAccDeleter>> floats(nf);
  for (uint32_t i = 0; i < nf; i++) {
    if (!IsFloatType(fields[i].type)) continue;
    FloatAcc* a = static_cast<FloatAcc*>(std::calloc(1, sizeof(FloatAcc)));
    if (a == nullptr) throw Napi::Error::New(env, "out of memory");
    a->Init();
    floats[i].reset(a);
  }
  std::vector<uint64_t> column(kBlock);

  if (ctl.Cancelled()) return env.Null();
  bool cancelled = false;
  auto body = [&] {
    const size_t rs = static_cast<size_t>(span.recordSize);
    const uint64_t perProgress = Control::BlockRecords(span.recordSize);
    for (uint64_t start = 0; start < span.records; start += perProgress) {
      uint64_t n = span.records - start < perProgress ? span.records - start : perProgress;
      for (uint64_t s = 0; s < n; s += kBlock) {
        size_t m = static_cast<size_t>(n - s < kBlock ? n - s : kBlock);
        const uint8_t* p = span.Record(start + s);
        for (uint32_t f = 0; f < nf; f++) {
          const FieldRef& fr = fields[f];
          if (IsFloatType(fr.type)) {
            FloatAcc* a = floats[f].get();
            StatsFloatBlock(p + fr.offset, m, rs, fr.type, fr.swap, a);
            a->FlushB();
            a->sinceQFlush += m;
            if (a->sinceQFlush >= kQFlushEvery) a->FlushQ();
          } else {
            StatsIntBlock(p + fr.offset, m, rs, fr.type, fr.swap, column.data(), &ints[f]);
          }
        }
      }
      ctl.Add(n * span.recordSize);
      if (ctl.Cancelled()) {
        cancelled = true;
        return;
      }
    }
  };
  Guarded(env, body);
  if (cancelled) return env.Null();

  Napi::Array out = Napi::Array::New(env, nf);
  for (uint32_t f = 0; f < nf; f++) {
    if (IsFloatType(fields[f].type)) {
      out.Set(f, FloatResult(env, *floats[f], span.records));
    } else {
      out.Set(f, IntResult(env, ints[f], span.records));
    }
  }
  return out;
}

}  // namespace bigproc
