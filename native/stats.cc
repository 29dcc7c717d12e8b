// stats.cc — exact statistics kernels.
//
// Integers: Σx in __int128 and Σx² in a 192-bit accumulator. For ≤32-bit types a block's values are
// first gathered into a contiguous column, then reduced in 64-bit lanes (vectorised): the 64-bit
// square of a 32-bit magnitude is summed as its low and high 32-bit halves, so no lane overflows.
// Floats: every finite double is ±m·2^(e'−1075) with e' = max(e, 1), so Σx and Σx² are accumulated
// exactly in per-exponent buckets (signed mantissas in int64, squared mantissas in u128), flushed to
// wider accumulators before they can overflow, and assembled into big two's-complement integers:
// S with Σx = S·2^-1074 and Q with Σx² = Q·2^-2148.
//
// Fast paths (same exact results):
// - Small integer fields that fit together in one 8-byte window of the record share one read of it. When
//   each lies in one 32-bit half of the window in host order (little-endian hosts), one fused pass reduces
//   them all (FusedWindowPass: u = x + 2^(bits−1) for signed types, 32-bit lanes, products as 16-bit
//   halves); where AVX-512F runs, the first such window rides along the first f64 field's guessed loop
//   (WindowSide), filling that loop's wait on memory. Otherwise the first field's pass reads the records'
//   8-byte words (and keeps them as a column), the others read the column.
// - A float block is first gathered as a column of double bit patterns; one vector pass finds
//   min/max, ±0, specials and the exponent range of its nonzero values. If there are no NaN/±Inf
//   and the range is at most kMaxShift, every mantissa is aligned to the block's lowest exponent lo
//   (m' = m·2^(e'−lo) < 2^58) and the block adds Σ±m' (exact, in split 64-bit lanes) to bucket lo
//   and Σm'² (< 2^127, u128) to Q at 2(lo−1). Other blocks take the per-exponent bucket path.
// - Before that, an unswapped f64 block is tried in one pass straight over the records, aligned to the
//   previous block's lo (scan, Σ±m' and, two rounds behind in scalar multiplies, Σm'² in one loop, no
//   column gathered): it counts only if the block has no NaN/±Inf and its exponents lie in
//   [lo, lo + kMaxShift]. A 64-bit integer block tries its delta pass the same way. Reading the records in
//   the computing loop lets the loads overlap the arithmetic.
#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "args.h"
#include "bignum.h"
#include "control.h"
#include "cpu.h"
#include "kernel.h"
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
  /** Σx² += v (v a 192-bit two's-complement value hi·2^128 + lo; the sum is kept mod 2^192). */
  void AddSq192(u128 lo, uint64_t hi) {
    AddSq(lo);
    sqHi += hi;
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
constexpr int kMaxShift = 5;  // fast float path: m' = m·2^d < 2^58, Σm'² over a block < 2^127
static_assert(kBlock <= 2048, "fast-path bounds (16-bit halves, 2^58·2^11, 2^116·2^11) assume ≤ 2048 records");

struct FloatAcc {
  // hot buckets, slot = e' * kSets + (i % kSets)
  int64_t b[kExponents * kSets];
  u128 q[kExponents * kSets];
  i128 bsum[kExponents];  // b flushed here every block (≤ 512 adds per slot per block)
  BigNum<68> Q;           // q flushed here every < 2^22 records
  int blo, bhi;           // exponents touched in b since the last b flush (this block)
  int lo, hi;             // exponents touched in q since the last q flush
  int glo, ghi;           // exponents touched in bsum
  int guessLo;            // the fast path's last aligned exponent (0: none yet), tried first on the next block
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

/**
 * Σx, Σx², min, max of n values of a ≤32-bit integer type, value(i) giving the i-th (n ≤ kBlock,
 * vectorised): a column (ReduceSmall) or fields pulled out of 8-byte windows (WindowFieldBlock).
 */
template <typename T, class Value>
BP_INLINE void ReduceValues(size_t n, Value value, IntAcc* acc) {
  static_assert(sizeof(T) <= 4, "small integer types only");
  T mn = value(0), mx = mn;
  if constexpr (sizeof(T) <= 2) {
    // 32-bit lanes: |Σx| < 2^16·2^11; x² < 2^32 is summed as its 16-bit halves (each Σ < 2^27).
    int32_t s = 0;
    uint32_t q0 = 0, q1 = 0;
    for (size_t i = 0; i < n; i++) {
      const T x = value(i);
      const int32_t xi = x;
      const uint32_t ux = static_cast<uint32_t>(xi);
      const uint32_t sq = ux * ux;  // x² mod 2^32 = x² (x² < 2^32)
      s += xi;
      if constexpr (sizeof(T) == 1) {
        q0 += sq;  // < 2^14 or 2^16 each
      } else {
        q0 += sq & 0xffffu;
        q1 += sq >> 16;
      }
      mn = x < mn ? x : mn;
      mx = x > mx ? x : mx;
    }
    acc->sum += s;
    acc->AddSq((static_cast<u128>(q1) << 16) + q0);
  } else {
    // 64-bit lanes: the 64-bit square of a 32-bit value is summed as its 32-bit halves.
    int64_t s = 0;
    uint64_t q0 = 0, q1 = 0;
    for (size_t i = 0; i < n; i++) {
      const T x = value(i);
      uint64_t sq;
      if constexpr (std::is_signed_v<T>) {
        sq = static_cast<uint64_t>(static_cast<int64_t>(x) * static_cast<int64_t>(x));  // ≤ 2^62
      } else {
        sq = static_cast<uint64_t>(x) * static_cast<uint64_t>(x);
      }
      s += x;
      q0 += static_cast<uint32_t>(sq);
      q1 += sq >> 32;
      mn = x < mn ? x : mn;
      mx = x > mx ? x : mx;
    }
    acc->sum += s;
    acc->AddSq((static_cast<u128>(q1) << 32) + q0);
  }
  acc->MinMax(mn, mx);
}

/** Σx, Σx², min, max of a contiguous column of a ≤32-bit integer type. */
template <typename T>
BP_INLINE void ReduceSmall(const T* __restrict col, size_t n, IntAcc* acc) {
  ReduceValues<T>(n, [col](size_t i) { return col[i]; }, acc);
}

template <typename T, bool Swap>
BP_INLINE void SmallIntBlock(const uint8_t* p, size_t n, size_t rs, T* __restrict col, IntAcc* acc) {
  for (size_t i = 0; i < n; i++) col[i] = Load<T, Swap>(p + i * rs);
  ReduceSmall<T>(col, n, acc);
}

/** Field bytes [k, k+sizeof(T)) of the 8-byte window w as a T. */
template <typename T, bool Swap>
BP_INLINE T WindowValue(uint64_t w, unsigned shift) {
  using U = typename UintOfSize<sizeof(T)>::type;
  U u = static_cast<U>(w >> shift);
  if constexpr (Swap && sizeof(T) > 1) u = Bswap(u);
  T v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

/**
 * Field bytes [k, k+sizeof(T)) of each gathered 8-byte window, reduced as ReduceSmall does, in the same
 * pass that extracts them (no column stored and read back).
 */
template <typename T, bool Swap, bool Gather>
BP_INLINE void WindowFieldBlock(const uint8_t* src, size_t rs, uint64_t* __restrict w, size_t n, unsigned k, IntAcc* acc) {
  // Gather: the first field of a window reads the records' words itself and leaves them in w for the others.
  auto word = [&](size_t i) {
    if constexpr (Gather) {
      uint64_t v;
      std::memcpy(&v, src + i * rs, 8);
      w[i] = v;
      return v;
    } else {
      return w[i];
    }
  };
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  const unsigned shift = 8u * (8u - k - static_cast<unsigned>(sizeof(T)));
#else
  const unsigned shift = 8u * k;
#endif
  ReduceValues<T>(n, [&](size_t i) { return WindowValue<T, Swap>(word(i), shift); }, acc);
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

/**
 * Fast path for a 64-bit integer block gathered into col, when its values span less than 2^32: each x
 * is x0 + d with x0 = col[0] and |d| < 2^32, so Σd fits 64-bit lanes and d² (one 32×32 multiply) is
 * summed as its 32-bit halves; the block then adds Σx = n·x0 + Σd and Σx² = n·x0² + 2·x0·Σd + Σd²
 * (192-bit, once per block). Returns false, having changed nothing, when the span is wider.
 */
template <typename T, class Values = const T* __restrict>
BP_INLINE bool WideIntDelta(Values col, size_t n, IntAcc* acc) {
  using U = std::make_unsigned_t<T>;
  const T x0 = col[0];
  T mn = x0, mx = x0;
  uint64_t s = 0;  // Σd mod 2^64 (exact when the block qualifies: |Σd| < 2^43)
  // d² = a²·2^32 + ab·2^17 + b² with |d| = a·2^16 + b: three 32-bit products, each summed as its 16-bit halves
  // in 32-bit lanes (< 2^27 for n ≤ 2048). A 64-bit square would cost GCC three multiplies per lane here.
  uint32_t aa0 = 0, aa1 = 0, ab0 = 0, ab1 = 0, bb0 = 0, bb1 = 0;
  for (size_t i = 0; i < n; i++) {
    const T x = col[i];
    const int64_t d = static_cast<int64_t>(static_cast<uint64_t>(static_cast<U>(x) - static_cast<U>(x0)));
    const uint64_t neg = static_cast<uint64_t>(d >> 63);
    const uint32_t ad = static_cast<uint32_t>((static_cast<uint64_t>(d) ^ neg) - neg);  // |d| when < 2^32
    const uint32_t a = ad >> 16, b = ad & 0xffffu;
    const uint32_t pa = a * a, pab = a * b, pb = b * b;
    s += static_cast<uint64_t>(d);
    aa0 += pa & 0xffffu;
    aa1 += pa >> 16;
    ab0 += pab & 0xffffu;
    ab1 += pab >> 16;
    bb0 += pb & 0xffffu;
    bb1 += pb >> 16;
    mn = x < mn ? x : mn;
    mx = x > mx ? x : mx;
  }
  if (static_cast<U>(static_cast<U>(mx) - static_cast<U>(mn)) >> 32 != 0) return false;
  const i128 sx0 = static_cast<i128>(x0);
  const i128 sd = static_cast<int64_t>(s);
  acc->sum += static_cast<i128>(n) * sx0 + sd;
  const u128 a0 = Magnitude(x0);
  const u128 sq0 = a0 * a0;  // x0² < 2^128
  // n·x0² as 192 bits: (n·lo64) + (n·hi64)·2^64
  const u128 pLo = static_cast<u128>(static_cast<uint64_t>(sq0)) * n;
  const u128 pHi = static_cast<u128>(static_cast<uint64_t>(sq0 >> 64)) * n;
  acc->AddSq192(pLo + (pHi << 64), static_cast<uint64_t>(pHi >> 64) + ((pLo + (pHi << 64)) < pLo ? 1 : 0));
  const i128 cross = 2 * sx0 * sd;  // |2·x0·Σd| < 2^65·2^43
  acc->AddSq192(static_cast<u128>(cross), cross < 0 ? ~uint64_t{0} : 0);
  const u128 sa = (static_cast<u128>(aa1) << 16) + aa0, sab = (static_cast<u128>(ab1) << 16) + ab0;
  acc->AddSq((sa << 32) + (sab << 17) + (static_cast<u128>(bb1) << 16) + bb0);
  acc->MinMax(mn, mx);
  return true;
}

/** Host-order values of type T read straight from the records. */
template <typename T>
struct StridedValues {
  const uint8_t* p;
  size_t rs;
  BP_INLINE T operator[](size_t i) const { return Load<T, false>(p + i * rs); }
};

template <typename T, bool Swap>
BP_INLINE void WideIntBlockFast(const uint8_t* p, size_t n, size_t rs, T* __restrict col, IntAcc* acc) {
  if constexpr (!Swap) {
    // read in the delta pass itself (no column stored and read back)
    if (WideIntDelta<T>(StridedValues<T>{p, rs}, n, acc)) return;
  }
  for (size_t i = 0; i < n; i++) col[i] = Load<T, Swap>(p + i * rs);
  if (!WideIntDelta<T>(col, n, acc)) WideIntBlock<T, Swap>(p, n, rs, acc);
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

// Generic vectors (lowered per clone: ymm in avx2/avx512f, pairs of xmm in the baseline clone).
typedef uint64_t V4U __attribute__((vector_size(32)));
typedef int64_t V4I __attribute__((vector_size(32)));
typedef double V4D __attribute__((vector_size(32)));

// (macros, not functions: a function returning a 32-byte vector draws -Wpsabi in the baseline clone)
#define BP_SPLAT_U(v) (V4U{uint64_t(v), uint64_t(v), uint64_t(v), uint64_t(v)})
#define BP_SPLAT_I(v) (V4I{int64_t(v), int64_t(v), int64_t(v), int64_t(v)})
// 8 lanes (zmm in the avx512f clone, where 64-bit min/max and shifts are single instructions)
typedef uint64_t V8U __attribute__((vector_size(64)));
typedef int64_t V8I __attribute__((vector_size(64)));
typedef double V8D __attribute__((vector_size(64)));
#define BP_SPLAT8_U(v) (V8U{uint64_t(v), uint64_t(v), uint64_t(v), uint64_t(v), uint64_t(v), uint64_t(v), uint64_t(v), uint64_t(v)})
#define BP_SPLAT8_I(v) (V8I{int64_t(v), int64_t(v), int64_t(v), int64_t(v), int64_t(v), int64_t(v), int64_t(v), int64_t(v)})

/** What pass 1 of the fast float path finds in a block. */
struct BlockScan {
  double mn, mx;
  int64_t lo, hi;  // lowest e' of the nonzero values (0x7ff: none), highest raw exponent
  bool negZero, posZero;
};

/** Pass 1: min/max (starting from mn, mx), ±0, specials (max raw exponent), lowest exponent e' of the nonzero values. */
BP_INLINE BlockScan ScanFloatBits(const uint64_t* __restrict col, size_t n, double mn, double mx) {
  const double inf = std::numeric_limits<double>::infinity();
  V4D vmn = {inf, inf, inf, inf}, vmx = {-inf, -inf, -inf, -inf};
  V4I vhi = BP_SPLAT_I(0), vlo = BP_SPLAT_I(0x7ff), vnz = BP_SPLAT_I(0), vpz = BP_SPLAT_I(0);
  const V4U kE = BP_SPLAT_U(0x7ff), kMag = BP_SPLAT_U(~kSign), kS = BP_SPLAT_U(kSign), kZero = BP_SPLAT_U(0);
  const V4I kOne = BP_SPLAT_I(1), kNone = BP_SPLAT_I(0x7ff);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    V4U b;
    std::memcpy(&b, col + i, sizeof b);
    V4D x;
    std::memcpy(&x, &b, sizeof x);
    vmn = x < vmn ? x : vmn;
    vmx = x > vmx ? x : vmx;
    const V4I e = (V4I)((b >> 52) & kE);
    const V4I ee = e | ((e == 0) & kOne);
    const V4I eNz = (b & kMag) != kZero ? ee : kNone;
    vlo = eNz < vlo ? eNz : vlo;
    vhi = e > vhi ? e : vhi;
    vnz |= (V4I)(b == kS);
    vpz |= (V4I)(b == kZero);
  }
  int64_t lo = 0x7ff, hi = 0;
  bool negZero = false, posZero = false;
  for (int k = 0; k < 4; k++) {
    mn = vmn[k] < mn ? vmn[k] : mn;
    mx = vmx[k] > mx ? vmx[k] : mx;
    lo = vlo[k] < lo ? vlo[k] : lo;
    hi = vhi[k] > hi ? vhi[k] : hi;
    negZero |= vnz[k] != 0;
    posZero |= vpz[k] != 0;
  }
  for (size_t j = i; j < n; j++) {
    const uint64_t b = col[j];
    const double x = DoubleOf(b);
    mn = x < mn ? x : mn;
    mx = x > mx ? x : mx;
    const int64_t e = static_cast<int64_t>((b >> 52) & 0x7ff);
    const int64_t ee = e == 0 ? 1 : e;
    if ((b & ~kSign) != 0) lo = ee < lo ? ee : lo;
    hi = e > hi ? e : hi;
    negZero |= b == kSign;
    posZero |= b == 0;
  }
  return BlockScan{mn, mx, lo, hi, negZero, posZero};
}

/**
 * Passes 2 and 3: m' = m << (e' − lo) into mcol, *s = Σ±m' and *q = Σm'² (exact: m' < 2^58, n ≤ 2^11).
 * Σ±m' is taken as Σ(±m' + 2^58) split in 32-bit halves, so no lane overflows.
 */
BP_INLINE void AlignedSums(const uint64_t* __restrict col, size_t n, int64_t lo, uint64_t* __restrict mcol, i128* s, u128* q) {
  const V4U kE = BP_SPLAT_U(0x7ff), kZero = BP_SPLAT_U(0);
  size_t i;
  const V4U vLo = BP_SPLAT_U(static_cast<uint64_t>(lo));
  const V4U kF = BP_SPLAT_U(kFrac), kH = BP_SPLAT_U(kHidden), k1 = BP_SPLAT_U(1), k63 = BP_SPLAT_U(63);
  const V4U kBias = BP_SPLAT_U(uint64_t{1} << 58), kLow = BP_SPLAT_U(0xffffffffu);
  V4U slo = BP_SPLAT_U(0), shi = BP_SPLAT_U(0);
  for (i = 0; i + 4 <= n; i += 4) {
    V4U b;
    std::memcpy(&b, col + i, sizeof b);
    const V4U e = (b >> 52) & kE;
    const V4U nz = (V4U)(e != kZero);
    const V4U m = (b & kF) | (nz & kH);
    const V4U ee = e | (~nz & k1);
    const V4U mp = m << ((ee - vLo) & k63);
    const V4U neg = (V4U)((V4I)b < (V4I)kZero);
    const V4U u = ((mp ^ neg) - neg) + kBias;
    slo += u & kLow;
    shi += u >> 32;
    std::memcpy(mcol + i, &mp, sizeof mp);
  }
  uint64_t sLo = 0, sHi = 0;
  for (int k = 0; k < 4; k++) {
    sLo += slo[k];
    sHi += shi[k];
  }
  for (size_t j = i; j < n; j++) {
    const uint64_t b = col[j];
    const uint64_t e = (b >> 52) & 0x7ff;
    const uint64_t m = (b & kFrac) | (e != 0 ? kHidden : 0);
    const uint64_t ee = e != 0 ? e : 1;
    const uint64_t mp = m << ((ee - static_cast<uint64_t>(lo)) & 63);
    const uint64_t neg = (b & kSign) ? ~uint64_t{0} : 0;
    const uint64_t u = ((mp ^ neg) - neg) + (uint64_t{1} << 58);
    sLo += u & 0xffffffffu;
    sHi += u >> 32;
    mcol[j] = mp;
  }
  // pass 3: Σm'² (each < 2^116, n ≤ 2^11)
  u128 q0 = 0, q1 = 0;
  for (i = 0; i + 2 <= n; i += 2) {
    q0 += static_cast<u128>(mcol[i]) * mcol[i];
    q1 += static_cast<u128>(mcol[i + 1]) * mcol[i + 1];
  }
  if (i < n) q0 += static_cast<u128>(mcol[i]) * mcol[i];
  *s = (static_cast<i128>(sHi) << 32) + static_cast<i128>(sLo) - (static_cast<i128>(n) << 58);
  *q = q0 + q1;
}

/** Pass 3: Σm'² over mcol (each < 2^116, n ≤ 2^11). */
BP_INLINE u128 SumSquares(const uint64_t* __restrict mcol, size_t n) {
  u128 q0 = 0, q1 = 0;
  size_t i;
  for (i = 0; i + 2 <= n; i += 2) {
    q0 += static_cast<u128>(mcol[i]) * mcol[i];
    q1 += static_cast<u128>(mcol[i + 1]) * mcol[i + 1];
  }
  if (i < n) q0 += static_cast<u128>(mcol[i]) * mcol[i];
  return q0 + q1;
}

/** What the guessed one-pass loop finds in a block. */
struct GuessScan {
  double mn, mx;  // of this block alone
  uint64_t dmax;  // max over the nonzero values of (e' − g) mod 2^64: ≤ kMaxShift iff they all lie in [g, g + kMaxShift]
  i128 s;         // Σ±m' (exact when dmax ≤ kMaxShift)
  u128 q;         // Σm'² (exact when dmax ≤ kMaxShift: m'² < 2^116, n ≤ 2^11)
};

/**
 * Passes 1 and 2 at once, aligned to a guessed exponent g (the previous block's): min/max and
 * Σ±m' (m' = m·2^(e'−g), stored in mcol) in one vector loop. Usable only when dmax ≤ kMaxShift (then every
 * m' < 2^58, so Σ±m' over 32 values per lane fits an int64: lanes are summed into s every 256 records) and g
 * leaves room above it for NaN/±Inf (raw exponent 0x7ff) to show as dmax > kMaxShift; the caller checks both.
 * ±0 is not tracked here: it only matters to a block whose min or max is 0 (FloatBlockGuessed rescans those).
 */
/** Generic vectors of L 64-bit lanes: 8 where AVX-512F runs (zmm), else 4 (GCC lowers 8 lanes badly in AVX2). */
template <int L>
struct Lanes {
  typedef uint64_t U __attribute__((vector_size(8 * L)));
  typedef int64_t I __attribute__((vector_size(8 * L)));
  typedef double D __attribute__((vector_size(8 * L)));
};

template <int L, class Bits, class Side>
BP_INLINE GuessScan ScanAlignGuess(Bits col, size_t n, int64_t g, uint64_t* __restrict mcol, Side& side) {
  using VU = typename Lanes<L>::U;
  using VI = typename Lanes<L>::I;
  using VD = typename Lanes<L>::D;
  const double inf = std::numeric_limits<double>::infinity();
  const VU kZero = {}, kE = kZero + 0x7ff, kMag = kZero + ~kSign, vG = kZero + static_cast<uint64_t>(g);
  const VU kF = kZero + kFrac, kH = kZero + kHidden, k1 = kZero + 1, k63 = kZero + 63;
  const VD vinf = VD{} + inf;
  VD vmn = vinf, vmx = -vinf;
  VU vd = kZero;
  GuessScan r{inf, -inf, 0, 0, 0};
  // Σm'² of the values two rounds back, in scalar 64×64→128 multiplies: they run on the integer units beside
  // the vector work (and two rounds back, the values are out of the store buffer).
  u128 q0 = 0, q1 = 0;
  size_t i = 0, j = 0;
  while (i + 8 <= n) {
    const size_t end = std::min(n & ~size_t{7}, i + 32 * L);
    VU sum = kZero;  // Σ±m' mod 2^64 per lane, exact for ≤ 32 values per lane
    for (; i < end; i += 8) {
      side.Step(i);
      auto round = [&](size_t h) {
        VU b;
        if constexpr (L == 8) {
          b = VU{col[h], col[h + 1], col[h + 2], col[h + 3], col[h + 4], col[h + 5], col[h + 6], col[h + 7]};
        } else {
          b = VU{col[h], col[h + 1], col[h + 2], col[h + 3]};
        }
        VD x;
        std::memcpy(&x, &b, sizeof x);
        vmn = x < vmn ? x : vmn;
        vmx = x > vmx ? x : vmx;
        const VU e = (b >> 52) & kE;
        const VU nz = (VU)(e != kZero);
        const VU d = (e | (~nz & k1)) - vG;
        const VU dNz = (VU)((b & kMag) != kZero) & d;
        vd = dNz > vd ? dNz : vd;
        const VU mp = ((b & kF) | (nz & kH)) << (d & k63);
        const VU neg = (VU)((VI)b < (VI)kZero);
        sum += (mp ^ neg) - neg;
        std::memcpy(mcol + h, &mp, sizeof mp);
      };
      round(i);
      if constexpr (L == 4) round(i + 4);
      if (i >= 16) {
        for (int k = 0; k < 8; k += 2) {
          q0 += static_cast<u128>(mcol[j + k]) * mcol[j + k];
          q1 += static_cast<u128>(mcol[j + k + 1]) * mcol[j + k + 1];
        }
        j += 8;
      }
    }
    for (int k = 0; k < L; k++) r.s += static_cast<int64_t>(sum[k]);
  }
  for (int k = 0; k < L; k++) {
    r.mn = vmn[k] < r.mn ? vmn[k] : r.mn;
    r.mx = vmx[k] > r.mx ? vmx[k] : r.mx;
    r.dmax = vd[k] > r.dmax ? vd[k] : r.dmax;
  }
  for (; i < n; i++) {
    side.Tail(i);
    const uint64_t b = col[i];
    const double x = DoubleOf(b);
    r.mn = x < r.mn ? x : r.mn;
    r.mx = x > r.mx ? x : r.mx;
    const uint64_t e = (b >> 52) & 0x7ff;
    const uint64_t d = (e != 0 ? e : 1) - static_cast<uint64_t>(g);
    if ((b & ~kSign) != 0) r.dmax = d > r.dmax ? d : r.dmax;
    const uint64_t mp = ((b & kFrac) | (e != 0 ? kHidden : 0)) << (d & 63);
    r.s += (b & kSign) ? -static_cast<i128>(mp) : static_cast<i128>(mp);
    mcol[i] = mp;
  }
  r.q = q0 + q1 + SumSquares(mcol + j, n - j);
  return r;
}

/** Bit patterns from a gathered column. */
struct ColumnBits {
  const uint64_t* __restrict col;
  BP_INLINE uint64_t operator[](size_t i) const { return col[i]; }
};

/** Bit patterns of host-order f64 values read straight from the records. */
struct StridedBits {
  const uint8_t* p;
  size_t rs;
  BP_INLINE uint64_t operator[](size_t i) const {
    uint64_t b;
    std::memcpy(&b, p + i * rs, 8);
    return b;
  }
};


/** Adds a block aligned to exponent l (s = Σ±m', q = Σm'²) and its scan to the accumulator. */
BP_INLINE void AddAlignedBlock(const BlockScan& b, int l, i128 s, u128 q, FloatAcc* __restrict a) {
  a->bsum[l] += s;
  if (l < a->glo) a->glo = l;
  if (l > a->ghi) a->ghi = l;
  if (q != 0) a->Q.AddShifted(q, 2u * static_cast<unsigned>(l - 1));
  a->mn = b.mn;
  a->mx = b.mx;
  a->negZero |= b.negZero;
  a->posZero |= b.posZero;
  a->guessLo = l;
}

/**
 * The fast path in one pass over col when the previous block's exponent still fits this one (the usual
 * case: a field's magnitudes drift slowly). Returns false, having changed nothing, otherwise.
 */
/** No side work in the guessed loop. */
struct NoSide {
  BP_INLINE void Step(size_t) {}
  BP_INLINE void Tail(size_t) {}
};

/** side's work is done iff *sideRan (whether or not the block fits the guess). */
template <int L, class Bits, class Side>
BP_INLINE bool FloatBlockGuessed(Bits col, size_t n, uint64_t* __restrict mcol, FloatAcc* __restrict a, Side& side,
                                 bool* sideRan) {
  const int64_t g = a->guessLo;
  if (g < 1 || g > 0x7ff - 1 - kMaxShift) return false;
  const GuessScan r = ScanAlignGuess<L>(col, n, g, mcol, side);
  *sideRan = true;
  if (r.dmax > static_cast<uint64_t>(kMaxShift)) return false;
  BlockScan b{r.mn < a->mn ? r.mn : a->mn, r.mx > a->mx ? r.mx : a->mx, g, g, false, false};
  if (r.mn == 0 || r.mx == 0) {
    for (size_t i = 0; i < n; i++) {
      b.negZero |= col[i] == kSign;
      b.posZero |= col[i] == 0;
    }
  }
  AddAlignedBlock(b, static_cast<int>(g), r.s, r.q, a);
  return true;
}

/**
 * Fast float block on gathered bit patterns (see the top of the file). Returns false, having
 * changed nothing, when the block holds NaN/±Inf or its nonzero exponents span more than kMaxShift.
 */
BP_INLINE bool FloatBlockAligned(const uint64_t* __restrict col, size_t n, uint64_t* __restrict mcol, FloatAcc* __restrict a) {
  BlockScan b = ScanFloatBits(col, n, a->mn, a->mx);
  if (b.hi == 0x7ff) return false;  // NaN or ±Inf
  if (b.lo == 0x7ff) b.lo = 1;      // only zeros: every m' is 0
  if (b.hi - b.lo > kMaxShift) return false;
  i128 s;
  u128 q;
  AlignedSums(col, n, b.lo, mcol, &s, &q);
  AddAlignedBlock(b, static_cast<int>(b.lo), s, q, a);
  return true;
}
#undef BP_SPLAT_U
#undef BP_SPLAT_I
#undef BP_SPLAT8_U
#undef BP_SPLAT8_I

template <typename T, bool Swap>
BP_INLINE void GatherFloatBits(const uint8_t* p, size_t n, size_t rs, uint64_t* __restrict col) {
  for (size_t i = 0; i < n; i++) col[i] = BitsOf(static_cast<double>(Load<T, Swap>(p + i * rs)));
}

/**
 * A ≤32-bit field of a window on the fused pass, read from one 32-bit half of the window word:
 * u = ((half >> shift) & mask) ^ flip = x + flip (flip = 2^(bits−1) for a signed type, else 0), so u ≥ 0
 * and every sum below is of unsigned values; FusedToAcc takes flip back out.
 */
struct FusedMember {
  uint32_t field;
  uint32_t half, shift, mask, flip;
};

/** One member's block sums of u: Σu, Σu², min, max. */
struct FusedSums {
  uint64_t s;
  u128 q;
  uint32_t mn, mx;
};

/**
 * Every member of a window in one pass over the records' window words (little-endian hosts): NW 32-bit
 * members first, then NN members of ≤ 16 bits, all in 32-bit lanes (no widening, no 64-bit multiply). Every
 * product is < 2^32 and summed as its 16-bit halves, so with n ≤ 2048 every 32-bit sum stays < 2^27.
 */
template <int NW, int NN>
BP_INLINE void FusedWindowPass(const uint8_t* src, size_t rs, size_t n, const FusedMember* mb, FusedSums* out) {
  constexpr int W = NW > 0 ? NW : 1, N = NN > 0 ? NN : 1;
  uint32_t wHalf[W], wFlip[W], ws0[W], ws1[W], wMn[W], wMx[W];
  uint32_t wAA0[W], wAA1[W], wAB0[W], wAB1[W], wBB0[W], wBB1[W];
  uint32_t nHalf[N], nShift[N], nMask[N], nFlip[N], ns[N], nq0[N], nq1[N], nMn[N], nMx[N];
  for (int j = 0; j < NW; j++) {
    wHalf[j] = mb[j].half;
    wFlip[j] = mb[j].flip;
    ws0[j] = ws1[j] = 0;
    wAA0[j] = wAA1[j] = wAB0[j] = wAB1[j] = wBB0[j] = wBB1[j] = 0;
    wMn[j] = ~uint32_t{0};
    wMx[j] = 0;
  }
  for (int j = 0; j < NN; j++) {
    const FusedMember& m = mb[NW + j];
    nHalf[j] = m.half;
    nShift[j] = m.shift;
    nMask[j] = m.mask;
    nFlip[j] = m.flip;
    ns[j] = nq0[j] = nq1[j] = 0;
    nMn[j] = ~uint32_t{0};
    nMx[j] = 0;
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t x;
    std::memcpy(&x, src + i * rs, 8);
    const uint32_t lo = static_cast<uint32_t>(x), hi = static_cast<uint32_t>(x >> 32);
    for (int j = 0; j < NW; j++) {
      const uint32_t u = (wHalf[j] ? hi : lo) ^ wFlip[j];
      const uint32_t a = u >> 16, b = u & 0xffffu;  // u² = a²·2^32 + ab·2^17 + b², each product < 2^32
      const uint32_t aa = a * a, ab = a * b, bb = b * b;
      ws0[j] += b;
      ws1[j] += a;
      wAA0[j] += aa & 0xffffu;
      wAA1[j] += aa >> 16;
      wAB0[j] += ab & 0xffffu;
      wAB1[j] += ab >> 16;
      wBB0[j] += bb & 0xffffu;
      wBB1[j] += bb >> 16;
      wMn[j] = u < wMn[j] ? u : wMn[j];
      wMx[j] = u > wMx[j] ? u : wMx[j];
    }
    for (int j = 0; j < NN; j++) {
      const uint32_t u = (((nHalf[j] ? hi : lo) >> nShift[j]) & nMask[j]) ^ nFlip[j];
      const uint32_t sq = u * u;  // u < 2^16
      ns[j] += u;
      nq0[j] += sq & 0xffffu;
      nq1[j] += sq >> 16;
      nMn[j] = u < nMn[j] ? u : nMn[j];
      nMx[j] = u > nMx[j] ? u : nMx[j];
    }
  }
  for (int j = 0; j < NW; j++) {
    const u128 aa = (static_cast<u128>(wAA1[j]) << 16) + wAA0[j], ab = (static_cast<u128>(wAB1[j]) << 16) + wAB0[j];
    const u128 bb = (static_cast<u128>(wBB1[j]) << 16) + wBB0[j];
    out[j] = FusedSums{(static_cast<uint64_t>(ws1[j]) << 16) + ws0[j], (aa << 32) + (ab << 17) + bb, wMn[j], wMx[j]};
  }
  for (int j = 0; j < NN; j++) {
    out[NW + j] = FusedSums{ns[j], (static_cast<u128>(nq1[j]) << 16) + nq0[j], nMn[j], nMx[j]};
  }
}

typedef uint32_t V8W __attribute__((vector_size(32)));
#define BP_SPLAT8_W(v) (V8W{uint32_t(v), uint32_t(v), uint32_t(v), uint32_t(v), uint32_t(v), uint32_t(v), uint32_t(v), uint32_t(v)})

/**
 * FusedWindowPass as side work of the guessed f64 loop, 8 records a step: that loop waits on the records'
 * first touch, and this op-bound work fills the wait. Same values and bounds as FusedWindowPass.
 */
template <int NW, int NN>
struct WindowSide {
  static constexpr int W = NW > 0 ? NW : 1, N = NN > 0 ? NN : 1;
  const uint8_t* src;
  size_t rs;
  uint64_t wShift[W], nShift[N];  // 32·half (+ shift): the member's bits at the bottom of the 64-bit word
  V8W wFlip[W], nMask[N], nFlip[N];
  V8W ws0[W], ws1[W], wAA0[W], wAA1[W], wAB0[W], wAB1[W], wBB0[W], wBB1[W], wMn[W], wMx[W];
  V8W ns[N], nq0[N], nq1[N], nMn[N], nMx[N];

  WindowSide(const uint8_t* s, size_t r, const FusedMember* mb) : src(s), rs(r) {
    const V8W zero = BP_SPLAT8_W(0), ones = BP_SPLAT8_W(~uint32_t{0});
    for (int j = 0; j < NW; j++) {
      wShift[j] = 32u * mb[j].half;
      wFlip[j] = BP_SPLAT8_W(mb[j].flip);
      ws0[j] = ws1[j] = wAA0[j] = wAA1[j] = wAB0[j] = wAB1[j] = wBB0[j] = wBB1[j] = wMx[j] = zero;
      wMn[j] = ones;
    }
    for (int j = 0; j < NN; j++) {
      const FusedMember& m = mb[NW + j];
      nShift[j] = 32u * m.half + m.shift;
      nMask[j] = BP_SPLAT8_W(m.mask);
      nFlip[j] = BP_SPLAT8_W(m.flip);
      ns[j] = nq0[j] = nq1[j] = nMx[j] = zero;
      nMn[j] = ones;
    }
  }
  BP_INLINE uint64_t Word(size_t i) const {
    uint64_t x;
    std::memcpy(&x, src + i * rs, 8);
    return x;
  }
  BP_INLINE void Step(size_t i) {
    const V8U w = {Word(i), Word(i + 1), Word(i + 2), Word(i + 3), Word(i + 4), Word(i + 5), Word(i + 6), Word(i + 7)};
    const V8W kLow = BP_SPLAT8_W(0xffffu);
    for (int j = 0; j < NW; j++) {
      const V8W u = __builtin_convertvector(w >> wShift[j], V8W) ^ wFlip[j];
      const V8W a = u >> 16, b = u & kLow;
      const V8W aa = a * a, ab = a * b, bb = b * b;
      ws0[j] += b;
      ws1[j] += a;
      wAA0[j] += aa & kLow;
      wAA1[j] += aa >> 16;
      wAB0[j] += ab & kLow;
      wAB1[j] += ab >> 16;
      wBB0[j] += bb & kLow;
      wBB1[j] += bb >> 16;
      wMn[j] = u < wMn[j] ? u : wMn[j];
      wMx[j] = u > wMx[j] ? u : wMx[j];
    }
    for (int j = 0; j < NN; j++) {
      const V8W u = (__builtin_convertvector(w >> nShift[j], V8W) & nMask[j]) ^ nFlip[j];
      const V8W sq = u * u;
      ns[j] += u;
      nq0[j] += sq & kLow;
      nq1[j] += sq >> 16;
      nMn[j] = u < nMn[j] ? u : nMn[j];
      nMx[j] = u > nMx[j] ? u : nMx[j];
    }
  }
  /** One record into lane 0. */
  BP_INLINE void Tail(size_t i) {
    const uint64_t w = Word(i);
    for (int j = 0; j < NW; j++) {
      const uint32_t u = static_cast<uint32_t>(w >> wShift[j]) ^ wFlip[j][0];
      const uint32_t a = u >> 16, b = u & 0xffffu, aa = a * a, ab = a * b, bb = b * b;
      ws0[j][0] += b;
      ws1[j][0] += a;
      wAA0[j][0] += aa & 0xffffu;
      wAA1[j][0] += aa >> 16;
      wAB0[j][0] += ab & 0xffffu;
      wAB1[j][0] += ab >> 16;
      wBB0[j][0] += bb & 0xffffu;
      wBB1[j][0] += bb >> 16;
      wMn[j][0] = u < wMn[j][0] ? u : wMn[j][0];
      wMx[j][0] = u > wMx[j][0] ? u : wMx[j][0];
    }
    for (int j = 0; j < NN; j++) {
      const uint32_t u = (static_cast<uint32_t>(w >> nShift[j]) & nMask[j][0]) ^ nFlip[j][0];
      const uint32_t sq = u * u;
      ns[j][0] += u;
      nq0[j][0] += sq & 0xffffu;
      nq1[j][0] += sq >> 16;
      nMn[j][0] = u < nMn[j][0] ? u : nMn[j][0];
      nMx[j][0] = u > nMx[j][0] ? u : nMx[j][0];
    }
  }
  static BP_INLINE u128 Sum(const V8W& v) {
    uint64_t t = 0;
    for (int k = 0; k < 8; k++) t += v[k];
    return t;
  }
  static BP_INLINE uint32_t Min(const V8W& v) {
    uint32_t t = v[0];
    for (int k = 1; k < 8; k++) t = v[k] < t ? v[k] : t;
    return t;
  }
  static BP_INLINE uint32_t Max(const V8W& v) {
    uint32_t t = v[0];
    for (int k = 1; k < 8; k++) t = v[k] > t ? v[k] : t;
    return t;
  }
  void Finish(FusedSums* out) const {
    for (int j = 0; j < NW; j++) {
      const u128 aa = (Sum(wAA1[j]) << 16) + Sum(wAA0[j]), ab = (Sum(wAB1[j]) << 16) + Sum(wAB0[j]);
      const u128 bb = (Sum(wBB1[j]) << 16) + Sum(wBB0[j]);
      const uint64_t su = static_cast<uint64_t>((Sum(ws1[j]) << 16) + Sum(ws0[j]));
      out[j] = FusedSums{su, (aa << 32) + (ab << 17) + bb, Min(wMn[j]), Max(wMx[j])};
    }
    for (int j = 0; j < NN; j++) {
      out[NW + j] = FusedSums{static_cast<uint64_t>(Sum(ns[j])), (Sum(nq1[j]) << 16) + Sum(nq0[j]), Min(nMn[j]), Max(nMx[j])};
    }
  }
};
#undef BP_SPLAT8_W

/** A window whose fused pass rides along the guessed f64 loop; done is set when it did. */
struct SideWindow {
  const uint8_t* src;
  int nw, nn;
  const FusedMember* mb;
  FusedSums* out;
  bool done;
};

template <int L, int NW, int NN>
BP_INLINE bool GuessedWithWindow(const uint8_t* p, size_t n, size_t rs, uint64_t* mcol, FloatAcc* acc, SideWindow* win) {
  WindowSide<NW, NN> side(win->src, rs, win->mb);
  const bool ok = FloatBlockGuessed<L>(StridedBits{p, rs}, n, mcol, acc, side, &win->done);
  if (win->done) side.Finish(win->out);
  return ok;
}

/** The guessed f64 block, with win's fused pass inside its loop when win is given and a clone covers its mix. */
template <int L>
BP_INLINE bool GuessedF64(const uint8_t* p, size_t n, size_t rs, uint64_t* mcol, FloatAcc* acc, SideWindow* win) {
  // Only beside the 8-lane loop: WindowSide's 8-lane words, like that loop, are slow in the avx2 clone
  // (measured: f64 + window 130 ms per 20 M records against 52 for the two passes apart).
  if (L == 8 && win != nullptr) {
#define BP_SIDE(A, B) return GuessedWithWindow<L, A, B>(p, n, rs, mcol, acc, win)
    switch (win->nw * 8 + win->nn) {
      case 2 * 8 + 0: BP_SIDE(2, 0);
      case 1 * 8 + 1: BP_SIDE(1, 1);
      case 1 * 8 + 2: BP_SIDE(1, 2);
      case 1 * 8 + 3: BP_SIDE(1, 3);
      case 1 * 8 + 4: BP_SIDE(1, 4);
      case 0 * 8 + 2: BP_SIDE(0, 2);
      case 0 * 8 + 3: BP_SIDE(0, 3);
      case 0 * 8 + 4: BP_SIDE(0, 4);
      case 0 * 8 + 5: BP_SIDE(0, 5);
      case 0 * 8 + 6: BP_SIDE(0, 6);
      default: break;
    }
#undef BP_SIDE
  }
  NoSide none;
  bool ran = false;
  return FloatBlockGuessed<L>(StridedBits{p, rs}, n, mcol, acc, none, &ran);
}

// ----- runtime-dispatched wrappers ------------------------------------------------------------------

BP_CLONES void StatsIntBlock(const uint8_t* p, size_t n, size_t rs, NumType type, bool swap, void* col, IntAcc* acc) {
#define BP_SMALL(T, S) SmallIntBlock<T, S>(p, n, rs, static_cast<T*>(col), acc)
#define BP_WIDE(T, S) WideIntBlockFast<T, S>(p, n, rs, static_cast<T*>(col), acc)
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

/** A float field's block; win (or null): a window whose fused pass may ride along (win->done says if it did). */
template <int L>
BP_INLINE void FloatBlockT(const uint8_t* p, size_t n, size_t rs, NumType type, bool swap, uint64_t* col,
                               uint64_t* mcol, FloatAcc* acc, SideWindow* win) {
  // Usually one pass straight over the records (no column stored and read back: the loads overlap the
  // arithmetic); the first block of a scan, and a block the previous exponent does not fit, take the
  // gathered two-pass path below, which also sets the exponent tried on the next block.
  if (type == NumType::F64 && !swap && GuessedF64<L>(p, n, rs, mcol, acc, win)) return;
  if (type == NumType::F32) {
    if (swap) GatherFloatBits<float, true>(p, n, rs, col); else GatherFloatBits<float, false>(p, n, rs, col);
  } else {
    if (swap) GatherFloatBits<double, true>(p, n, rs, col); else GatherFloatBits<double, false>(p, n, rs, col);
  }
  if (!FloatBlockAligned(col, n, mcol, acc)) {
    FloatBlock<double, false>(reinterpret_cast<const uint8_t*>(col), n, sizeof(uint64_t), acc);
  }
}

// Two entry points, each with one width of the guessed loop inlined: 8 lanes only where they are zmm registers
// (GCC lowers 8-lane generic vectors badly in the avx2 clone: 8× slower there), 4 elsewhere.
BP_CLONES void StatsFloatBlock8(const uint8_t* p, size_t n, size_t rs, NumType type, bool swap, uint64_t* col,
                                uint64_t* mcol, FloatAcc* acc, SideWindow* win) {
  FloatBlockT<8>(p, n, rs, type, swap, col, mcol, acc, win);
}
BP_CLONES void StatsFloatBlock4(const uint8_t* p, size_t n, size_t rs, NumType type, bool swap, uint64_t* col,
                                uint64_t* mcol, FloatAcc* acc, SideWindow* win) {
  FloatBlockT<4>(p, n, rs, type, swap, col, mcol, acc, win);
}

template <typename T, bool Swap>
BP_INLINE void WindowField(const uint8_t* src, size_t rs, uint64_t* w, size_t n, unsigned k, IntAcc* acc) {
  if (src != nullptr) {
    WindowFieldBlock<T, Swap, true>(src, rs, w, n, k, acc);
  } else {
    WindowFieldBlock<T, Swap, false>(nullptr, 0, w, n, k, acc);
  }
}

/** One field of a window; with src (the records' window bytes, stride rs) it also gathers the words into w. */
BP_CLONES void StatsWindowField(const uint8_t* src, size_t rs, uint64_t* w, size_t n, unsigned k, NumType type, bool swap,
                                IntAcc* acc) {
#define BP_WIN(T, S) WindowField<T, S>(src, rs, w, n, k, acc)
  switch (type) {
    case NumType::I8: BP_WIN(int8_t, false); break;
    case NumType::U8: BP_WIN(uint8_t, false); break;
    case NumType::I16: if (swap) BP_WIN(int16_t, true); else BP_WIN(int16_t, false); break;
    case NumType::U16: if (swap) BP_WIN(uint16_t, true); else BP_WIN(uint16_t, false); break;
    case NumType::I32: if (swap) BP_WIN(int32_t, true); else BP_WIN(int32_t, false); break;
    case NumType::U32: if (swap) BP_WIN(uint32_t, true); else BP_WIN(uint32_t, false); break;
    default: break;
  }
#undef BP_WIN
}

/** The fused pass for nw 32-bit and nn narrow members (mb: the wide ones first); false if no clone covers the mix. */
BP_CLONES bool StatsWindowFused(const uint8_t* src, size_t rs, size_t n, int nw, int nn, const FusedMember* mb, FusedSums* out) {
#define BP_FUSED(A, B) FusedWindowPass<A, B>(src, rs, n, mb, out); return true
  switch (nw * 8 + nn) {
    case 2 * 8 + 0: BP_FUSED(2, 0);
    case 1 * 8 + 1: BP_FUSED(1, 1);
    case 1 * 8 + 2: BP_FUSED(1, 2);
    case 1 * 8 + 3: BP_FUSED(1, 3);
    case 1 * 8 + 4: BP_FUSED(1, 4);
    case 0 * 8 + 2: BP_FUSED(0, 2);
    case 0 * 8 + 3: BP_FUSED(0, 3);
    case 0 * 8 + 4: BP_FUSED(0, 4);
    case 0 * 8 + 5: BP_FUSED(0, 5);
    case 0 * 8 + 6: BP_FUSED(0, 6);
    default: return false;
  }
#undef BP_FUSED
}

/** A member's block sums of u = x + h into its field's accumulator: Σx = Σu − n·h, Σx² = Σu² − 2h·Σu + n·h². */
void FusedToAcc(const FusedSums& b, uint32_t h, size_t n, IntAcc* acc) {
  const i128 hh = h, nn = static_cast<i128>(n), su = static_cast<i128>(b.s);
  acc->sum += su - nn * hh;
  acc->AddSq(static_cast<u128>(static_cast<i128>(b.q) - 2 * hh * su + nn * hh * hh));  // < 2^75: no i128 overflow
  acc->MinMax(static_cast<i128>(b.mn) - hh, static_cast<i128>(b.mx) - hh);
}

// ----- the three phases ------------------------------------------------------------------------------

struct StatsArgs {
  Span span;
  Control ctl;
  std::vector<FieldRef> fields;
};

/** Per field: the exact accumulators (ints[f] for integer fields, floats[f] for float ones). */
struct StatsOut {
  std::vector<IntAcc> ints;
  std::vector<std::unique_ptr<FloatAcc, FloatAccDeleter>> floats;
};

/** Small integer fields that fit together in an 8-byte window (inside the record) share one strided gather. */
struct Window {
  struct Member {
    uint32_t field;
    unsigned byte;  // offset inside the window
  };
  uint32_t start;
  std::vector<Member> members;
  // The fused pass (FusedWindowPass), when every member fits it: the wide members first.
  std::vector<FusedMember> fused;
  int fusedWide = 0;
};

/** stats(mapping, byteOffset, records, recordSize, fields[], ctl) */
StatsArgs ParseStats(const Napi::CallbackInfo& info) {
  StatsArgs a;
  a.span = ToSpan(info);
  Napi::Array list = ToArray(info[4], "fields");
  a.ctl = ToControl(info[5], "ctl");
  const uint32_t nf = list.Length();
  a.fields.resize(nf);
  for (uint32_t i = 0; i < nf; i++) a.fields[i] = ToFieldRef(list.Get(i), "fields[" + std::to_string(i) + "]", a.span.recordSize);
  return a;
}

/**
 * Sets w.fused when one fused pass covers the window: a little-endian host, every member in host byte order
 * (or one byte) and inside one 32-bit half of the window, and a mix of sizes StatsWindowFused has a clone for.
 */
void PlanFused(const std::vector<FieldRef>& fields, Window* w) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::vector<FusedMember> wide, narrow;
  for (const Window::Member& mb : w->members) {
    const FieldRef& fr = fields[mb.field];
    const unsigned size = TypeSize(fr.type), bits = 8 * size;
    if ((fr.swap && size > 1) || (mb.byte % 4) + size > 4) return;
    const uint32_t mask = bits == 32 ? ~uint32_t{0} : (uint32_t{1} << bits) - 1;
    const uint32_t flip = IsSignedType(fr.type) ? uint32_t{1} << (bits - 1) : 0;
    (size == 4 ? wide : narrow).push_back({mb.field, mb.byte / 4, 8 * (mb.byte % 4), mask, flip});
  }
  const int nw = static_cast<int>(wide.size()), nn = static_cast<int>(narrow.size());
  const bool covered = (nw == 2 && nn == 0) || (nw == 1 && nn >= 1 && nn <= 4) || (nw == 0 && nn >= 2 && nn <= 6);
  if (!covered) return;
  w->fused = wide;
  w->fused.insert(w->fused.end(), narrow.begin(), narrow.end());
  w->fusedWide = nw;
#else
  (void)fields;
  (void)w;
#endif
}

/** Group the small integer fields into shared windows; every other integer field goes to singles. */
void PlanWindows(const std::vector<FieldRef>& fields, uint64_t recordSize, std::vector<Window>* windows,
                 std::vector<uint32_t>* singles) {
  std::vector<uint32_t> small;
  for (uint32_t f = 0; f < fields.size(); f++) {
    if (IsFloatType(fields[f].type)) continue;
    if (TypeSize(fields[f].type) <= 4 && recordSize >= 8) small.push_back(f); else singles->push_back(f);
  }
  std::stable_sort(small.begin(), small.end(), [&](uint32_t x, uint32_t y) { return fields[x].offset < fields[y].offset; });
  for (size_t i = 0; i < small.size();) {
    const uint64_t first = fields[small[i]].offset;
    size_t j = i;
    while (j < small.size() && fields[small[j]].offset + TypeSize(fields[small[j]].type) <= first + 8) j++;
    if (j - i < 2) {
      singles->push_back(small[i]);
      i++;
      continue;
    }
    Window w;
    w.start = static_cast<uint32_t>(first + 8 <= recordSize ? first : recordSize - 8);
    for (size_t k = i; k < j; k++) w.members.push_back({small[k], static_cast<unsigned>(fields[small[k]].offset - w.start)});
    PlanFused(fields, &w);
    windows->push_back(std::move(w));
    i = j;
  }
}

/** Reusable per-thread buffers of a stats scan. */
struct StatsScratch {
  std::vector<uint64_t> column = std::vector<uint64_t>(kBlock), column2 = std::vector<uint64_t>(kBlock);
  std::vector<uint64_t> words = std::vector<uint64_t>(kBlock);
};

/**
 * The f64 blocks' body: 8 lanes where they are zmm registers (AVX-512F; in 4 they compile far better
 * for AVX2 and below). BIGPROC_STATS_LANES=4 takes the 4-lane body anyway, so the tests check it here.
 */
bool WideFloatBlocks() {
#if defined(__x86_64__) && BP_HAVE_CLONES
  static const bool cpu = __builtin_cpu_supports("avx512f");  // a flag libgcc set at start-up
#else
  static const bool cpu = false;
#endif
  const char* want = std::getenv("BIGPROC_STATS_LANES");
  return cpu && !(want != nullptr && std::strcmp(want, "4") == 0);
}

struct StatsPlan {
  bool wide = WideFloatBlocks();  // read once per call
  std::vector<Window> windows;
  std::vector<uint32_t> singles;  // int fields read on their own
  int sideWindow = -1;            // the window that rides along the first f64 field's loop (-1: none)
};

void FloatBlockDone(FloatAcc* acc, size_t m) {
  acc->FlushB();
  acc->sinceQFlush += m;
  if (acc->sinceQFlush >= kQFlushEvery) acc->FlushQ();
}

/** One block of m records at p: every field's accumulators. */
void StatsBlock(const StatsArgs& a, const StatsPlan& plan, const uint8_t* p, size_t m, StatsScratch& x, StatsOut* out) {
  const size_t rs = static_cast<size_t>(a.span.recordSize);
  // The first fused window rides along the first f64 field's guessed loop (see WindowSide).
  FusedSums sideSums[8];
  SideWindow side{nullptr, 0, 0, nullptr, sideSums, false};
  const Window* sideWin = plan.sideWindow >= 0 ? &plan.windows[static_cast<size_t>(plan.sideWindow)] : nullptr;
  if (sideWin != nullptr) {
    const int nw = sideWin->fusedWide;
    side = SideWindow{p + sideWin->start, nw, static_cast<int>(sideWin->fused.size()) - nw, sideWin->fused.data(), sideSums, false};
  }
  bool sideOffered = false;
  for (uint32_t f = 0; f < a.fields.size(); f++) {
    const FieldRef& fr = a.fields[f];
    if (!IsFloatType(fr.type)) continue;
    FloatAcc* acc = out->floats[f].get();
    SideWindow* win = sideWin != nullptr && !sideOffered && fr.type == NumType::F64 ? &side : nullptr;
    sideOffered |= win != nullptr;
    (plan.wide ? StatsFloatBlock8 : StatsFloatBlock4)(p + fr.offset, m, rs, fr.type, fr.swap, x.column.data(), x.column2.data(), acc, win);
    FloatBlockDone(acc, m);
  }
  if (side.done) {
    for (size_t j = 0; j < sideWin->fused.size(); j++) FusedToAcc(sideSums[j], sideWin->fused[j].flip, m, &out->ints[sideWin->fused[j].field]);
  }
  for (uint32_t f : plan.singles) {
    const FieldRef& fr = a.fields[f];
    StatsIntBlock(p + fr.offset, m, rs, fr.type, fr.swap, x.column.data(), &out->ints[f]);
  }
  for (const Window& w : plan.windows) {
    if (side.done && &w == sideWin) continue;
    if (!w.fused.empty()) {
      FusedSums sums[8];
      const int nw = w.fusedWide, nn = static_cast<int>(w.fused.size()) - nw;
      if (StatsWindowFused(p + w.start, rs, m, nw, nn, w.fused.data(), sums)) {
        for (size_t j = 0; j < w.fused.size(); j++) FusedToAcc(sums[j], w.fused[j].flip, m, &out->ints[w.fused[j].field]);
        continue;
      }
    }
    const uint8_t* src = p + w.start;  // read by the first member, which leaves the words in x.words
    for (const Window::Member& mb : w.members) {
      const FieldRef& fr = a.fields[mb.field];
      StatsWindowField(src, rs, x.words.data(), m, mb.byte, fr.type, fr.swap, &out->ints[mb.field]);
      src = nullptr;
    }
  }
}

/** The exact accumulators of every field over the span. No N-API. */
Outcome ComputeStats(const StatsArgs& a, StatsOut* out) {
  const uint32_t nf = static_cast<uint32_t>(a.fields.size());
  out->ints.assign(nf, IntAcc());
  out->floats.resize(nf);
  for (uint32_t i = 0; i < nf; i++) {
    if (!IsFloatType(a.fields[i].type)) continue;
    FloatAcc* acc = static_cast<FloatAcc*>(std::calloc(1, sizeof(FloatAcc)));
    if (acc == nullptr) throw std::runtime_error("out of memory");
    acc->Init();
    out->floats[i].reset(acc);
  }
  StatsPlan plan;
  PlanWindows(a.fields, a.span.recordSize, &plan.windows, &plan.singles);
  for (size_t w = 0; w < plan.windows.size() && plan.sideWindow < 0; w++) {
    if (!plan.windows[w].fused.empty()) plan.sideWindow = static_cast<int>(w);
  }
  StatsScratch scratch;
  if (a.ctl.Cancelled()) return Outcome::Cancelled;
  const Span& span = a.span;
  auto body = [&](uint64_t start, uint64_t n) {
    for (uint64_t s = 0; s < n; s += kBlock) {
      const size_t m = static_cast<size_t>(n - s < kBlock ? n - s : kBlock);
      StatsBlock(a, plan, span.Record(start + s), m, scratch, out);
    }
    return true;
  };
  return ScanBlocks(span, a.ctl, body);
}

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

/** → per-field partials (src/ops/stats.ts: StatsIntPartial | StatsFloatPartial). */
Napi::Value ConvertStats(Napi::Env env, const StatsArgs& a, StatsOut& out) {
  const uint32_t nf = static_cast<uint32_t>(a.fields.size());
  Napi::Array list = Napi::Array::New(env, nf);
  for (uint32_t f = 0; f < nf; f++) {
    if (IsFloatType(a.fields[f].type)) {
      list.Set(f, FloatResult(env, *out.floats[f], a.span.records));
    } else {
      list.Set(f, IntResult(env, out.ints[f], a.span.records));
    }
  }
  return list;
}

/** stats(mapping, byteOffset, records, recordSize, fields[], ctl) → per-field partials, or null if cancelled. */
Napi::Value Stats(const Napi::CallbackInfo& info) {
  const StatsArgs args = ParseStats(info);
  StatsOut out;
  if (!Settle(info.Env(), ComputeStats(args, &out))) return info.Env().Null();
  return ConvertStats(info.Env(), args, out);
}

}  // namespace

BIGPROC_EXPORT("stats", Stats);

}  // namespace bigproc
