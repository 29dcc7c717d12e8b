// groupby.cc — hash aggregation kernel.
//
// Keys: every record's key fields become one canonical key of W bytes (each key field in order;
// integers big-endian with the sign bit flipped, so bytewise order is numeric order; bytes<N> as
// stored). W <= 2 indexes a direct table, W <= 8 keys are 64-bit words in an open-addressing table
// (Fibonacci hashing, hashed a block at a time, linear probing, load <= 1/2), longer keys are byte
// strings in an open-addressing table of (hash, group). Past maxGroups distinct keys the kernel stops
// and reports an overflow instead of growing without bound.
//
// Per block of records: (1) the block's canonical keys are gathered and looked up into group ids
// (with --where, non-matching records get no id; a single 1- or 2-byte integer key without --where
// is read, looked up in the direct table and counted in one pass), (2) each aggregated field is
// scanned once and its values added to their group's accumulator. Every accumulator is exact, so the result does not
// depend on record order or chunking:
// - integers: Σx in __int128, Σx² in 192 bits, min, max (as stats.cc);
// - floats (f32 widened): count of NaN / ±Inf, min / max with the sign of zero, and Σx, Σx² exactly
//   as stats does (S with Σx = S·2^-1074, Q with Σx² = Q·2^-2148), accumulated per group in a
//   sliding window: ±m·2^(e'−base) in an i128 and m²·2^2(e'−base) in 256 bits for exponents
//   e' in [base, base + 60], flushed every 8192 adds, or when a value falls outside the window, into
//   big integers (BigNum, as stats.cc uses) allocated only for groups that need them.
//   Fast path (same integers S and Q): with at most 512 groups, a block whose values hold no NaN,
//   ±Inf or ±0 and span at most 6 exponents is summed per group in 64-bit halves at the block's
//   lowest exponent and added to each touched group's big integers once per block; a group's
//   min/max is compared per value only when the block's range leaves some group's [min, max].
//   Fused path (same integers S): one 1- or 2-byte integer key and one f64 field summed without Σx²
//   (count, mean, sum, min, max), no --where: phases (1) and (2) in one pass per block (see "fused path").
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <memory>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "args.h"
#include "bignum.h"
#include "control.h"
#include "cpu.h"
#include "kernel.h"
#include "load.h"
#include "mapping.h"
#include "predicate.h"

namespace bigproc {

namespace {

constexpr size_t kBlock = 2048;
static_assert(kBlock <= kPredBlock, "a block is evaluated by the predicate in one call");
constexpr uint32_t kSkip = 0xffffffffu;
// Memory safety, not policy (src/ops/groupby caps --max-groups): group ids, ids + 1 and kSkip fit in uint32.
constexpr uint64_t kMaxGroups = 0xfffffffeu;

constexpr uint64_t kFrac = (uint64_t{1} << 52) - 1;
constexpr uint64_t kHidden = uint64_t{1} << 52;
constexpr uint64_t kSign = uint64_t{1} << 63;
constexpr int kMaxD = 60;            // window: m·2^d < 2^113
constexpr int kMargin = 20;          // a new window starts 20 exponents below the value that opens it
constexpr uint32_t kFlushAdds = 8192;  // 2^13 · 2^113 < 2^127; 2^13 · 2^226 < 2^256

BP_INLINE uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t HashBytes(const uint8_t* p, size_t w) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ w;
  size_t j = 0;
  for (; j + 8 <= w; j += 8) {
    uint64_t v;
    std::memcpy(&v, p + j, 8);
    h = Mix(h ^ v) + 0x9E3779B97F4A7C15ULL;
  }
  if (j < w) {
    uint64_t v = 0;
    std::memcpy(&v, p + j, w - j);
    h = Mix(h ^ v ^ (static_cast<uint64_t>(w - j) << 56));
  }
  return Mix(h);
}

struct IntG {
  i128 sum = 0;
  u128 sqLo = 0;
  uint64_t sqHi = 0;
  i128 mn = static_cast<i128>(1) << 100;
  i128 mx = -(static_cast<i128>(1) << 100);
};

struct FloatG {
  i128 s = 0;         // Σ ±m·2^(e'−base) since the last flush
  BigNum<4> q;        // Σ m²·2^(2(e'−base)) since the last flush
  int32_t base = -1;  // window start (e' units); -1: none yet
  uint32_t adds = 0;
  uint32_t big = 0;  // 1-based index into the big accumulators; 0: none
  uint64_t nan = 0, posinf = 0, neginf = 0;
  double mn = std::numeric_limits<double>::infinity();
  double mx = -std::numeric_limits<double>::infinity();
  bool negZero = false, posZero = false;
};

struct BigPair {
  BigNum<36> S;  // Σx = S·2^-1074
  BigNum<68> Q;  // Σx² = Q·2^-2148
};

/** Add the window of a (s at base, q at 2·base) into S and Q. */
void AddWindow(const FloatG& a, BigNum<36>& S, BigNum<68>& Q) {
  const unsigned shift = static_cast<unsigned>(a.base - 1);
  if (a.s != 0) S.AddSignedShifted(a.s, shift);
  const u128 lo = (static_cast<u128>(a.q.w[1]) << 64) | a.q.w[0];
  const u128 hi = (static_cast<u128>(a.q.w[3]) << 64) | a.q.w[2];
  if (lo != 0) Q.AddShifted(lo, 2 * shift);
  if (hi != 0) Q.AddShifted(hi, 2 * shift + 128);
}

BP_INLINE bool WindowEmpty(const FloatG& a) {
  return a.s == 0 && (a.q.w[0] | a.q.w[1] | a.q.w[2] | a.q.w[3]) == 0;
}

void Flush(FloatG& a, std::vector<BigPair>& bigs) {
  if (!WindowEmpty(a)) {
    if (a.big == 0) {
      bigs.emplace_back();
      a.big = static_cast<uint32_t>(bigs.size());
    }
    BigPair& b = bigs[a.big - 1];
    AddWindow(a, b.S, b.Q);
    a.s = 0;
    a.q = BigNum<4>();
  }
  a.adds = 0;
}

// ----- per-field passes (gid[i] is the group of record i, kSkip for records left out) -------------

template <typename T, bool Swap>
BP_INLINE void IntPass(const uint8_t* p, size_t n, size_t rs, const uint32_t* gid, IntG* acc, bool sq) {
  for (size_t i = 0; i < n; i++) {
    const uint32_t g = gid[i];
    if (g == kSkip) continue;
    const T x = Load<T, Swap>(p + i * rs);
    IntG& a = acc[g];
    a.sum += x;
    const i128 xi = x;
    if (xi < a.mn) a.mn = xi;
    if (xi > a.mx) a.mx = xi;
    if (sq) {
      uint64_t ax;
      if constexpr (std::is_signed_v<T>) {
        ax = x < 0 ? uint64_t{0} - static_cast<uint64_t>(static_cast<int64_t>(x)) : static_cast<uint64_t>(x);
      } else {
        ax = static_cast<uint64_t>(x);
      }
      const u128 s2 = static_cast<u128>(ax) * ax;
      a.sqLo += s2;
      a.sqHi += a.sqLo < s2 ? 1 : 0;
    }
  }
}

template <typename T, bool Swap>
BP_INLINE void FloatPass(const uint8_t* p, size_t n, size_t rs, const uint32_t* gid, FloatG* acc, bool doSum, bool doSq,
                         std::vector<BigPair>& bigs) {
  for (size_t i = 0; i < n; i++) {
    const uint32_t g = gid[i];
    if (g == kSkip) continue;
    const double x = static_cast<double>(Load<T, Swap>(p + i * rs));
    const uint64_t bits = BitsOf(x);
    const int e = static_cast<int>((bits >> 52) & 0x7ff);
    FloatG& a = acc[g];
    if (__builtin_expect(e == 0x7ff, 0)) {
      if (bits & kFrac) {
        a.nan++;
        continue;
      }
      if (bits & kSign) a.neginf++; else a.posinf++;
      a.mn = x < a.mn ? x : a.mn;
      a.mx = x > a.mx ? x : a.mx;
      continue;
    }
    // branches rather than selects: after the first values they are rarely taken, and a store of an
    // unchanged value still costs a read-modify-write of the group's line
    if (x < a.mn) a.mn = x;
    if (x > a.mx) a.mx = x;
    if (__builtin_expect((bits << 1) == 0, 0)) {
      if (bits == 0) a.posZero = true; else a.negZero = true;
    }
    if (!doSum) continue;
    uint64_t m = bits & kFrac;
    int ee = e;
    if (e != 0) m |= kHidden; else ee = 1;
    if (m == 0) continue;
    int d = ee - a.base;
    if (a.base < 0 || d < 0 || d > kMaxD) {
      if (a.base >= 0) Flush(a, bigs);
      a.base = ee - kMargin > 1 ? ee - kMargin : 1;
      d = ee - a.base;
    }
    const u128 sh = static_cast<u128>(m) << d;
    if (bits & kSign) a.s -= static_cast<i128>(sh); else a.s += static_cast<i128>(sh);
    if (doSq) a.q.AddShifted(static_cast<u128>(m) * m, 2u * static_cast<unsigned>(d));
    if (++a.adds == kFlushAdds) Flush(a, bigs);
  }
}

/** One group's sums over the current block on the aligned float path (see FloatPassAligned). */
struct alignas(16) BlockSums {
  uint64_t lo = 0;  // Σ low 32 bits of (±m' + 2^58)             (< 2^43)
  uint64_t hi = 0;  // Σ high bits of (±m' + 2^58) (< 2^38) + 2^40 per value: the count sits above bit 40
};
constexpr unsigned kCountBit = 40;

constexpr int kMaxShift = 5;             // aligned path: m' = m·2^d < 2^58
constexpr size_t kAlignedMaxGroups = 512;  // its per-block sweep over every group stays cheap

typedef int64_t V4I __attribute__((vector_size(32)));
typedef double V4D __attribute__((vector_size(32)));

/** A block's min, max, highest and lowest raw exponent, and whether it holds a ±0. */
struct BlockRange {
  double mn, mx;
  int64_t hiE, loE;
  bool zero;
};

/** One vector pass over a block of double bit patterns (see BlockRange). */
BP_INLINE BlockRange ScanBlock(const uint64_t* __restrict col, size_t n) {
  const double inf = std::numeric_limits<double>::infinity();
  V4D vmn = {inf, inf, inf, inf}, vmx = {-inf, -inf, -inf, -inf};
  const V4I kE = {0x7ff, 0x7ff, 0x7ff, 0x7ff}, kMag = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX}, k0 = {0, 0, 0, 0};
  V4I vhi = k0, vlo = kE, vz = k0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    V4I b;
    std::memcpy(&b, col + i, sizeof b);
    V4D x;
    std::memcpy(&x, &b, sizeof x);
    vmn = x < vmn ? x : vmn;
    vmx = x > vmx ? x : vmx;
    const V4I e = (b >> 52) & kE;
    vhi = e > vhi ? e : vhi;
    vlo = e < vlo ? e : vlo;
    vz |= (V4I)((b & kMag) == k0);
  }
  BlockRange r{inf, -inf, 0, 0x7ff, false};
  for (int k = 0; k < 4; k++) {
    r.mn = vmn[k] < r.mn ? vmn[k] : r.mn;
    r.mx = vmx[k] > r.mx ? vmx[k] : r.mx;
    r.hiE = vhi[k] > r.hiE ? vhi[k] : r.hiE;
    r.loE = vlo[k] < r.loE ? vlo[k] : r.loE;
    r.zero |= vz[k] != 0;
  }
  for (; i < n; i++) {
    const double x = DoubleOf(col[i]);
    const int64_t e = static_cast<int64_t>((col[i] >> 52) & 0x7ff);
    r.mn = x < r.mn ? x : r.mn;
    r.mx = x > r.mx ? x : r.mx;
    r.hiE = e > r.hiE ? e : r.hiE;
    r.loE = e < r.loE ? e : r.loE;
    r.zero |= (col[i] << 1) == 0;
  }
  return r;
}

/**
 * A block of float values with no NaN/±Inf/±0 whose exponents e' span at most kMaxShift: every
 * mantissa is aligned to the block's lowest exponent lo (m' = m·2^(e'−lo) < 2^58) and summed per
 * group in 64-bit halves; each touched group then adds its Σ±m' at lo and Σm'² at 2·lo to its big
 * accumulators once per block, not per value (exact: the same integers S and Q). Returns false,
 * having changed nothing, when the block does not qualify.
 */
template <typename T, bool Swap>
BP_INLINE bool FloatPassAligned(const uint8_t* p, size_t n, size_t rs, const uint32_t* gid, FloatG* acc, bool doSq,
                                std::vector<BigPair>& bigs, uint64_t* __restrict col, std::vector<BlockSums>& sums, std::vector<u128>& squares,
                                size_t groups) {
  for (size_t i = 0; i < n; i++) col[i] = BitsOf(static_cast<double>(Load<T, Swap>(p + i * rs)));
  BlockRange r = ScanBlock(col, n);
  if (r.hiE == 0x7ff || r.zero) return false;
  const uint64_t lo = r.loE == 0 ? 1 : static_cast<uint64_t>(r.loE);  // subnormals: e' = 1
  if (static_cast<uint64_t>(r.hiE) > lo + kMaxShift) return false;
  const double bmn = r.mn, bmx = r.mx;
  // When the block's range lies inside every group's [min, max] so far, no group's min/max moves.
  bool minMax = false;
  for (size_t g = 0; g < groups && !minMax; g++) minMax = bmn < acc[g].mn || bmx > acc[g].mx;
  BlockSums* __restrict bs = sums.data();
  u128* __restrict qs = squares.data();
  for (size_t i = 0; i < n; i++) {
    const uint32_t g = gid[i];
    if (g == kSkip) continue;
    const uint64_t b = col[i];
    const uint64_t e = (b >> 52) & 0x7ff;
    const uint64_t m = (b & kFrac) | (e != 0 ? kHidden : 0);
    const uint64_t mp = m << ((e != 0 ? e : 1) - lo);
    const uint64_t neg = (b & kSign) ? ~uint64_t{0} : 0;
    const uint64_t u = ((mp ^ neg) - neg) + (uint64_t{1} << 58);
    BlockSums& t = bs[g];
    t.lo += u & 0xffffffffu;
    t.hi += (u >> 32) + (uint64_t{1} << kCountBit);
    if (doSq) qs[g] += static_cast<u128>(mp) * mp;
    if (!minMax) continue;
    const double x = DoubleOf(b);
    FloatG& a = acc[g];
    if (x < a.mn) a.mn = x;
    if (x > a.mx) a.mx = x;
  }
  const unsigned shift = static_cast<unsigned>(lo - 1);
  for (size_t g = 0; g < groups; g++) {
    BlockSums& t = bs[g];
    const uint64_t count = t.hi >> kCountBit;
    if (count == 0) continue;
    const uint64_t hi = t.hi & ((uint64_t{1} << kCountBit) - 1);
    const i128 sum = (static_cast<i128>(hi) << 32) + static_cast<i128>(t.lo) - (static_cast<i128>(count) << 58);
    FloatG& a = acc[g];
    if (a.big == 0) {
      bigs.emplace_back();
      a.big = static_cast<uint32_t>(bigs.size());
    }
    BigPair& big = bigs[a.big - 1];
    if (sum != 0) big.S.AddSignedShifted(sum, shift);
    if (doSq && qs[g] != 0) big.Q.AddShifted(qs[g], 2 * shift);
    if (doSq) qs[g] = 0;
    t = BlockSums();
  }
  return true;
}

struct AggField {
  FieldRef f;
  bool sum = true;
  bool sq = true;
  uint32_t slot = 0;  // index into the int or the float accumulators
};

void RunIntPass(const AggField& af, const uint8_t* p, size_t n, size_t rs, const uint32_t* gid, IntG* acc) {
  const FieldRef& fr = af.f;
#define BP_CALL(T, S) IntPass<T, S>(p + fr.offset, n, rs, gid, acc, af.sq)
  switch (fr.type) {
    case NumType::I8: BP_CALL(int8_t, false); break;
    case NumType::U8: BP_CALL(uint8_t, false); break;
    case NumType::I16: if (fr.swap) BP_CALL(int16_t, true); else BP_CALL(int16_t, false); break;
    case NumType::U16: if (fr.swap) BP_CALL(uint16_t, true); else BP_CALL(uint16_t, false); break;
    case NumType::I32: if (fr.swap) BP_CALL(int32_t, true); else BP_CALL(int32_t, false); break;
    case NumType::U32: if (fr.swap) BP_CALL(uint32_t, true); else BP_CALL(uint32_t, false); break;
    case NumType::I64: if (fr.swap) BP_CALL(int64_t, true); else BP_CALL(int64_t, false); break;
    case NumType::U64: if (fr.swap) BP_CALL(uint64_t, true); else BP_CALL(uint64_t, false); break;
    default: break;
  }
#undef BP_CALL
}

/** Scratch for the aligned float path: a column of bit patterns and per-group block sums. */
struct AlignedScratch {
  std::vector<uint64_t> col = std::vector<uint64_t>(kBlock);
  std::vector<BlockSums> sums;
  std::vector<u128> squares;  // Σm'² per group (< 2^116 each, ≤ 2^11 of them)
};

BP_CLONES void RunFloatPass(const AggField& af, const uint8_t* p, size_t n, size_t rs, const uint32_t* gid, FloatG* acc,
                            std::vector<BigPair>& bigs, size_t groups, AlignedScratch& scratch) {
  const FieldRef& fr = af.f;
  if (af.sum && groups <= kAlignedMaxGroups) {
    if (scratch.sums.size() < groups) scratch.sums.resize(groups);
    if (af.sq && scratch.squares.size() < groups) scratch.squares.resize(groups);
    bool done;
#define BP_FAST(T, S) done = FloatPassAligned<T, S>(p + fr.offset, n, rs, gid, acc, af.sq, bigs, scratch.col.data(), scratch.sums, scratch.squares, groups)
    if (fr.type == NumType::F32) {
      if (fr.swap) BP_FAST(float, true); else BP_FAST(float, false);
    } else {
      if (fr.swap) BP_FAST(double, true); else BP_FAST(double, false);
    }
#undef BP_FAST
    if (done) return;
  }
#define BP_CALL(T, S) FloatPass<T, S>(p + fr.offset, n, rs, gid, acc, af.sum, af.sq, bigs)
  if (fr.type == NumType::F32) {
    if (fr.swap) BP_CALL(float, true); else BP_CALL(float, false);
  } else {
    if (fr.swap) BP_CALL(double, true); else BP_CALL(double, false);
  }
#undef BP_CALL
}

// ----- keys --------------------------------------------------------------------------------------

/** One byte of the canonical key: record byte `src` xor `flip`. */
struct KeyByte {
  uint32_t src;
  uint8_t flip;
};

/** One integer key field's canonical value at p: its bits with the sign bit flipped. */
template <typename T, bool Swap>
BP_INLINE uint64_t CanonicalInt(const uint8_t* p) {
  using U = typename UintOfSize<sizeof(T)>::type;
  constexpr U flip = std::is_signed_v<T> ? static_cast<U>(U{1} << (8 * sizeof(T) - 1)) : U{0};
  const T v = Load<T, Swap>(p);
  U u;
  std::memcpy(&u, &v, sizeof u);
  return static_cast<U>(u ^ flip);
}

/** A single integer key field: its canonical value for each of n records. */
template <typename T, bool Swap>
BP_INLINE void GatherIntKey(const uint8_t* p, size_t n, size_t rs, uint64_t* __restrict out) {
  for (size_t i = 0; i < n; i++) out[i] = CanonicalInt<T, Swap>(p + i * rs);
}

void GatherSingleKey(NumType t, bool swap, const uint8_t* p, size_t n, size_t rs, uint64_t* out) {
#define BP_CALL(T, S) GatherIntKey<T, S>(p, n, rs, out)
  switch (t) {
    case NumType::I8: BP_CALL(int8_t, false); break;
    case NumType::U8: BP_CALL(uint8_t, false); break;
    case NumType::I16: if (swap) BP_CALL(int16_t, true); else BP_CALL(int16_t, false); break;
    case NumType::U16: if (swap) BP_CALL(uint16_t, true); else BP_CALL(uint16_t, false); break;
    case NumType::I32: if (swap) BP_CALL(int32_t, true); else BP_CALL(int32_t, false); break;
    case NumType::U32: if (swap) BP_CALL(uint32_t, true); else BP_CALL(uint32_t, false); break;
    case NumType::I64: if (swap) BP_CALL(int64_t, true); else BP_CALL(int64_t, false); break;
    case NumType::U64: if (swap) BP_CALL(uint64_t, true); else BP_CALL(uint64_t, false); break;
    default: break;
  }
#undef BP_CALL
}

void GatherKey64(const std::vector<KeyByte>& kb, const uint8_t* p, size_t n, size_t rs, uint64_t* out) {
  const size_t w = kb.size();
  for (size_t i = 0; i < n; i++, p += rs) {
    uint64_t k = 0;
    for (size_t j = 0; j < w; j++) k = (k << 8) | static_cast<uint8_t>(p[kb[j].src] ^ kb[j].flip);
    out[i] = k;
  }
}

void GatherKeyBytes(const std::vector<KeyByte>& kb, const uint8_t* p, size_t n, size_t rs, uint8_t* out) {
  const size_t w = kb.size();
  for (size_t i = 0; i < n; i++, p += rs, out += w) {
    for (size_t j = 0; j < w; j++) out[j] = static_cast<uint8_t>(p[kb[j].src] ^ kb[j].flip);
  }
}

enum class KeyMode { Direct, Hash64, Bytes };

/** Groups, their keys, counts and accumulators; lookups that create groups up to maxGroups. */
class GroupTable {
 public:
  GroupTable(KeyMode mode, size_t width, uint64_t maxGroups, size_t nInt, size_t nFloat)
      : mode_(mode), width_(width), maxGroups_(maxGroups), ints_(nInt), floats_(nFloat) {
    if (mode_ == KeyMode::Direct) {
      direct_.assign(size_t{1} << (8 * width_), 0);
    } else {
      Rehash(1024);
    }
  }

  size_t Size() const { return counts_.size(); }
  std::vector<uint64_t>& Counts() { return counts_; }
  std::vector<IntG>& Ints(size_t f) { return ints_[f]; }
  std::vector<FloatG>& Floats(size_t f) { return floats_[f]; }
  uint64_t Key64(uint32_t g) const { return key64_[g]; }
  const uint8_t* KeyBytes(uint32_t g) const { return keyBytes_.data() + static_cast<size_t>(g) * width_; }

  /** Group ids for a block of 64-bit keys; false when a new group would exceed maxGroups. */
  bool Lookup64(const uint64_t* keys, const uint8_t* mask, size_t n, uint32_t* gid) {
    if (mode_ == KeyMode::Direct) {
      uint32_t* direct = direct_.data();
      for (size_t i = 0; i < n; i++) {
        if (mask != nullptr && mask[i] == 0) {
          gid[i] = kSkip;
          continue;
        }
        const uint64_t k = keys[i];
        uint32_t g1 = direct[k];
        if (g1 == 0) {
          if (!NewGroup()) return false;
          key64_.push_back(k);
          g1 = static_cast<uint32_t>(counts_.size());
          direct[k] = g1;
        }
        gid[i] = g1 - 1;
        counts_[g1 - 1]++;
      }
      return true;
    }
    // hashes first (a loop without branches the CPU can run ahead on), then the probes
    for (size_t i = 0; i < n; i++) hs_[i] = Fib(keys[i]);
    for (size_t i = 0; i < n; i++) {
      if (mask != nullptr && mask[i] == 0) {
        gid[i] = kSkip;
        continue;
      }
      const uint64_t k = keys[i];
      uint32_t g;
      uint64_t h = hs_[i] >> shift_;
      for (;;) {
        Slot& s = slots_[h];
        if (s.key == k && s.g != 0) {
          g = s.g - 1;
          break;
        }
        if (s.g == 0) {
          if (!NewGroup()) return false;
          g = static_cast<uint32_t>(counts_.size() - 1);
          key64_.push_back(k);
          s.key = k;
          s.g = g + 1;
          if (counts_.size() * 2 > slots_.size()) Rehash(slots_.size() * 2);
          break;
        }
        h = (h + 1) & mask_;
      }
      gid[i] = g;
      counts_[g]++;
    }
    return true;
  }

  /**
   * Direct table, one 1- or 2-byte integer key, no --where: the key read straight from each record
   * (canonical: sign bit flipped), looked up and counted in one pass. False past maxGroups.
   */
  template <typename T, bool Swap>
  bool LookupDirect(const uint8_t* p, size_t n, size_t rs, uint32_t* __restrict gid) {
    uint32_t* direct = direct_.data();
    uint64_t* counts = counts_.data();
    for (size_t i = 0; i < n; i++) {
      const size_t k = CanonicalInt<T, Swap>(p + i * rs);
      uint32_t g1 = direct[k];
      if (__builtin_expect(g1 == 0, 0)) {
        if (!NewGroup()) return false;
        key64_.push_back(k);
        g1 = static_cast<uint32_t>(counts_.size());
        direct[k] = g1;
        counts = counts_.data();
      }
      gid[i] = g1 - 1;
      counts[g1 - 1]++;
    }
    return true;
  }

  /**
   * Direct table, one 1- or 2-byte integer key, count only, no --where: each record's key read and
   * counted in block counts indexed by the key itself (no group id, no direct-table load), then
   * added to the groups' counts (new keys get groups first, in record order). False past maxGroups.
   */
  template <typename T, bool Swap>
  bool CountDirect(const uint8_t* p, size_t n, size_t rs, uint32_t* __restrict byKey) {
    for (size_t i = 0; i < n; i++) byKey[CanonicalInt<T, Swap>(p + i * rs)]++;
    const size_t known = counts_.size();
    if (FlushCounts(byKey, 0, known) != n) {
      for (size_t i = 0; i < n; i++) {
        const uint64_t k = CanonicalInt<T, Swap>(p + i * rs);
        if (direct_[k] == 0 && !NewDirect(k)) return false;
      }
      FlushCounts(byKey, known, counts_.size());
    }
    return true;
  }

  /** Direct table: canonical key k's group id + 1; 0 while k has no group. */
  uint32_t DirectId(uint64_t k) const { return direct_[k]; }

  /** Direct table: a new group for canonical key k (which has none); false past maxGroups. */
  bool NewDirect(uint64_t k) {
    if (!NewGroup()) return false;
    key64_.push_back(k);
    direct_[k] = static_cast<uint32_t>(counts_.size());
    return true;
  }

  /** Group ids for a block of W-byte keys (keys[i·W ..]); false past maxGroups. */
  bool LookupBytes(const uint8_t* keys, const uint8_t* mask, size_t n, uint32_t* gid) {
    const size_t w = width_;
    for (size_t i = 0; i < n; i++) {
      if (mask != nullptr && mask[i] == 0) {
        gid[i] = kSkip;
        continue;
      }
      const uint8_t* k = keys + i * w;
      const uint64_t hash = HashBytes(k, w);
      uint64_t h = hash & mask_;
      uint32_t g;
      for (;;) {
        Slot& s = slots_[h];
        if (s.g == 0) {
          if (!NewGroup()) return false;
          g = static_cast<uint32_t>(counts_.size() - 1);
          keyBytes_.insert(keyBytes_.end(), k, k + w);
          hashes_.push_back(hash);
          s.key = hash;
          s.g = g + 1;
          if (counts_.size() * 2 > slots_.size()) Rehash(slots_.size() * 2);
          break;
        }
        if (s.key == hash && std::memcmp(KeyBytes(s.g - 1), k, w) == 0) {
          g = s.g - 1;
          break;
        }
        h = (h + 1) & mask_;
      }
      gid[i] = g;
      counts_[g]++;
    }
    return true;
  }

 private:
  struct Slot {
    uint64_t key;  // the key (Hash64) or its hash (Bytes)
    uint32_t g;    // group + 1; 0: empty
  };

  /** Groups [from, to) add their block counts (byKey[key]) and clear them; the sum of those counts. */
  uint64_t FlushCounts(uint32_t* byKey, size_t from, size_t to) {
    uint64_t total = 0;
    for (size_t g = from; g < to; g++) {
      uint32_t& c = byKey[key64_[g]];
      counts_[g] += c;
      total += c;
      c = 0;
    }
    return total;
  }

  bool NewGroup() {
    if (counts_.size() >= maxGroups_) return false;
    counts_.push_back(0);
    for (auto& v : ints_) v.emplace_back();
    for (auto& v : floats_) v.emplace_back();
    return true;
  }

  /** Fibonacci hashing: the top bits of k·2^64/φ (every bit of k reaches them). */
  static BP_INLINE uint64_t Fib(uint64_t k) { return k * 0x9E3779B97F4A7C15ULL; }

  void Rehash(size_t cap) {
    slots_.assign(cap, Slot{0, 0});
    mask_ = cap - 1;
    shift_ = static_cast<unsigned>(64 - __builtin_ctzll(cap));
    for (size_t g = 0; g < counts_.size(); g++) {
      const uint64_t key = mode_ == KeyMode::Bytes ? hashes_[g] : key64_[g];
      uint64_t h = mode_ == KeyMode::Bytes ? key & mask_ : Fib(key) >> shift_;
      while (slots_[h].g != 0) h = (h + 1) & mask_;
      slots_[h] = Slot{key, static_cast<uint32_t>(g + 1)};
    }
  }

  KeyMode mode_;
  size_t width_;
  uint64_t maxGroups_;
  std::vector<uint32_t> direct_;
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  unsigned shift_ = 64;
  std::vector<uint64_t> hs_ = std::vector<uint64_t>(kBlock);
  std::vector<uint64_t> key64_;
  std::vector<uint8_t> keyBytes_;
  std::vector<uint64_t> hashes_;
  std::vector<uint64_t> counts_;
  std::vector<std::vector<IntG>> ints_;
  std::vector<std::vector<FloatG>> floats_;
};

// ----- fused path: one 1- or 2-byte integer key, one f64 field summed without Σx², no --where -------
//
// `--key venue --agg 'count,mean(price)'`. Per block, ONE pass over the records reads each record's
// key and value together and adds m' = m·2^(e'−lo) (e' in the window [lo, lo + 10], guessed from
// earlier blocks) plus a count unit into a 128-bit block sum indexed by the canonical key and the
// sign: no group-id column, no per-record count, no gathered column of values, no direct-table load,
// and per value only an add and an add-with-carry into memory. m' comes from the FP unit: |x| times
// 2^(1075−lo), truncated to an integer, is m' exactly when e' ≥ lo (a double times a power of two is
// exact; m' < 2^63), and the loop is bound by its integer operations (one running sum instead of the
// scatter is no faster), so moving the mantissa and shift work to the FP side is what pays. The pass
// ORs every m' | (m' − 2^52) together: below 2^63 iff every m' lay in [2^52, 2^63), i.e. each value
// was finite (NaN and ±Inf convert to 2^63), nonzero, normal and inside the window. A block that was
// not is undone (its sums zeroed) and takes the general path. After a block each group adds its
// count, and its Σ±m' at lo to its open window (the same integers S).

constexpr size_t kFusedBlock = 8192;    // records per fused block: 4 × kBlock, −6% against kBlock (4096 and 16384 alike)
constexpr int kFusedSpan = 10;           // m' < 2^63, so a block's Σm' < 2^63 · kFusedBlock
constexpr unsigned kFusedCountBit = 94;  // a block's carries into the high word < kFusedBlock ≤ 2^(94−64)
static_assert(kFusedBlock <= (size_t{1} << 20), "fused path: a block's carries stay below 2^30, its Σm' below 2^113");
constexpr u128 kFusedUnit = static_cast<u128>(1) << kFusedCountBit;
constexpr uint64_t kFusedLowLo = 52;  // 2^(1075−lo) stays a finite double

/**
 * Block sums, Σm' + count·2^94 of one key's values of one sign: [2^(8·key width) + key] for the positive
 * values, [2^(8·key width) − 1 − key] for the negative ones (key xor the sign mask); zero between blocks.
 */
struct FusedState {
  struct Free {
    void operator()(u128* p) const { std::free(p); }
  };
  std::unique_ptr<u128[], Free> byKey;  // calloc: only the pages of keys that occur are touched
  uint64_t lo = 0;                      // the window's lowest exponent; 0: no guess yet
  uint32_t fails = 0, skip = 0;         // back-off after blocks that did not fit
};

/** |x|·scale truncated to an integer; 2^63 for NaN, ±Inf and anything at or past 2^63. */
BP_INLINE uint64_t ScaledMagnitude(uint64_t bits, double scale) {
  const double a = std::fabs(DoubleOf(bits)) * scale;
#if defined(__x86_64__)
  return static_cast<uint64_t>(_mm_cvttsd_si64(_mm_set_sd(a)));  // one instruction, 2^63 when out of range
#else
  return a < 9223372036854775808.0 ? static_cast<uint64_t>(a) : uint64_t{1} << 63;  // NaN compares false
#endif
}

/**
 * The fused pass over a block (see above) into byKey; the block's min and max. True when every value
 * fitted the window [lo, lo + 10] (lo ≥ kFusedLowLo); otherwise byKey holds garbage the caller must clear.
 */
template <typename K, bool KSwap, bool VSwap>
BP_CLONES __attribute__((noinline)) bool FusedSums(const uint8_t* key, const uint8_t* val, size_t n, size_t rs, uint64_t lo,
                                                   u128* __restrict byKey, double* bmn, double* bmx) {
  // its own function: inlined into the block driver, the loop ran out of registers and kept `off` in memory
  uint64_t off = 0;  // OR of every m' | (m' − 2^52): below 2^63 iff all fitted
  double mn = std::numeric_limits<double>::infinity(), mx = -mn;
  const ptrdiff_t keyAt = key - val;
  const uint8_t* end = val + n * rs;
  u128* mid = byKey + (size_t{1} << (8 * sizeof(K)));  // [mid + key]: positive values; [mid − 1 − key]: negative
  const double scale = DoubleOf((1075 + 1023 - lo) << 52);  // 2^(1075−lo)
  for (const uint8_t* r = val; r != end; r += rs) {
    const uint64_t b = Load<uint64_t, VSwap>(r);
    const uint64_t mp = ScaledMagnitude(b, scale);
    off |= mp | (mp - (uint64_t{1} << 52));
    const int64_t neg = static_cast<int64_t>(b) >> 63;
    mid[static_cast<int64_t>(CanonicalInt<K, KSwap>(r + keyAt)) ^ neg] += kFusedUnit | mp;
    const double x = DoubleOf(b);
    mn = x < mn ? x : mn;
    mx = x > mx ? x : mx;
  }
  *bmn = mn;
  *bmx = mx;
  return off < (uint64_t{1} << 63);
}

/** The window for the blocks after this one: centred on its finite nonzero values' exponents. */
uint64_t FusedGuess(const uint8_t* val, size_t n, size_t rs, bool swap, uint64_t lo) {
  uint64_t loE = 0x7ff, hiE = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t b;
    std::memcpy(&b, val + i * rs, 8);
    if (swap) b = Bswap(b);
    const uint64_t e = (b >> 52) & 0x7ff;
    if (e == 0 || e == 0x7ff) continue;
    loE = e < loE ? e : loE;
    hiE = e > hiE ? e : hiE;
  }
  if (hiE == 0) return lo == 0 ? kFusedLowLo : lo;
  const uint64_t mid = (loE + hiE) / 2;
  return mid > kFusedLowLo + kFusedSpan / 2 ? mid - kFusedSpan / 2 : kFusedLowLo;
}

/** Groups [from, to): each adds its block count and Σ±m' (at the window's lo) and clears its block sums; → their count. */
uint64_t FusedFlush(GroupTable& table, FloatG* acc, u128* mid, std::vector<BigPair>& bigs, uint64_t lo, size_t from,
                    size_t to) {
  uint64_t* counts = table.Counts().data();
  uint64_t total = 0;
  for (size_t g = from; g < to; g++) {
    const uint64_t k = table.Key64(static_cast<uint32_t>(g));
    u128& pos = mid[k];
    u128& neg = mid[-1 - static_cast<ptrdiff_t>(k)];
    const uint64_t count = static_cast<uint64_t>((pos >> kFusedCountBit) + (neg >> kFusedCountBit));
    if (count == 0) continue;
    const i128 sum = static_cast<i128>(pos & (kFusedUnit - 1)) - static_cast<i128>(neg & (kFusedUnit - 1));
    pos = neg = 0;
    counts[g] += count;
    total += count;
    // into the group's open window (FloatPass's), moved to lo first: an i128 add per block, not a
    // big-integer one; a block's |sum| < 2^63 · kFusedBlock counts as one of the window's adds (< 2^113)
    FloatG& a = acc[g];
    if (a.base != static_cast<int32_t>(lo)) {
      if (a.base >= 0) Flush(a, bigs);
      a.base = static_cast<int32_t>(lo);
    }
    a.s += sum;
    if (++a.adds == kFlushAdds) Flush(a, bigs);
  }
  return total;
}

/** Keys of the block with no group yet get one, in record order; false past maxGroups. */
template <typename K, bool KSwap>
BP_INLINE bool FusedNewKeys(GroupTable& table, const uint8_t* key, size_t n, size_t rs) {
  for (size_t i = 0; i < n; i++) {
    const uint64_t k = CanonicalInt<K, KSwap>(key + i * rs);
    if (table.DirectId(k) == 0 && !table.NewDirect(k)) return false;
  }
  return true;
}

/**
 * Each value that may move a group's min or max against its group's (only for blocks whose range
 * leaves some group's): a value inside every group's [min, max] moves none, so it needs no group.
 */
template <typename K, bool KSwap, bool VSwap>
BP_INLINE void FusedMinMax(const GroupTable& table, FloatG* acc, const uint8_t* key, const uint8_t* val, size_t n, size_t rs) {
  double hiMn = -std::numeric_limits<double>::infinity(), loMx = std::numeric_limits<double>::infinity();
  for (size_t g = 0; g < table.Size(); g++) {
    hiMn = acc[g].mn > hiMn ? acc[g].mn : hiMn;
    loMx = acc[g].mx < loMx ? acc[g].mx : loMx;
  }
  for (size_t i = 0; i < n; i++) {
    const double x = DoubleOf(Load<uint64_t, VSwap>(val + i * rs));
    if (x >= hiMn && x <= loMx) continue;
    FloatG& a = acc[table.DirectId(CanonicalInt<K, KSwap>(key + i * rs)) - 1];
    if (x < a.mn) a.mn = x;
    if (x > a.mx) a.mx = x;
  }
}

enum class Fused { Done, Overflow, NotFit };

/** One block on the fused path: Done, Overflow (a new key past maxGroups) or NotFit (nothing changed). */
template <typename K, bool KSwap, bool VSwap>
BP_INLINE Fused FusedBlock(FusedState& st, GroupTable& table, size_t slot, std::vector<BigPair>& bigs, const uint8_t* key,
                           const uint8_t* val, size_t n, size_t rs) {
  u128* byKey = st.byKey.get();
  u128* mid = byKey + (size_t{1} << (8 * sizeof(K)));
  double bmn, bmx;
  if (!FusedSums<K, KSwap, VSwap>(key, val, n, rs, st.lo, byKey, &bmn, &bmx)) {
    for (size_t i = 0; i < n; i++) {
      const uint64_t k = CanonicalInt<K, KSwap>(key + i * rs);
      mid[k] = mid[-1 - static_cast<ptrdiff_t>(k)] = 0;
    }
    return Fused::NotFit;
  }
  const size_t known = table.Size();
  if (FusedFlush(table, table.Floats(slot).data(), mid, bigs, st.lo, 0, known) != n) {
    if (!FusedNewKeys<K, KSwap>(table, key, n, rs)) return Fused::Overflow;
    FusedFlush(table, table.Floats(slot).data(), mid, bigs, st.lo, known, table.Size());
  }
  // new groups start at ±Inf, so a block that made one always takes the per-value pass
  FloatG* acc = table.Floats(slot).data();
  bool moves = false;
  for (size_t g = 0; g < table.Size() && !moves; g++) moves = bmn < acc[g].mn || bmx > acc[g].mx;
  if (moves) FusedMinMax<K, KSwap, VSwap>(table, acc, key, val, n, rs);
  return Fused::Done;
}

// ----- results ---------------------------------------------------------------------------------
//
// Columnar, so a partial of a million groups is a handful of typed arrays (cheap to build, to send
// between threads and to merge) rather than a million objects:
//   {n, keys: Uint8Array(n·W), counts: Float64Array(n), accs: [per field]}
//   int field:   {kind: 'int', sum: BigInt64Array(2n) (i128 as lo, hi words), sumsq: BigInt64Array(3n)
//                 (192-bit unsigned; empty without sq), min, max: BigInt64Array(n) (the value's 64 bits)}
//   float field: {kind: 'float', nan, posinf, neginf, min, max: Float64Array(n) (min/max NaN when the
//                 group has no non-NaN value), sum: bigint[], sumExp: Int32Array (Σx = sum·2^(sumExp−1074),
//                 sum odd or 0 with exp 0; empty without sum), sumsq: bigint[], sqExp: Int32Array
//                 (Σx² = sumsq·2^(sqExp−2148); empty without sq)}

/** A BigNum as m·2^e with m odd (or 0 and e = 0); returns m and sets *exp. */
template <int N>
Napi::Value Normalized(Napi::Env env, const BigNum<N>& b, bool isSigned, int32_t* exp) {
  uint64_t mag[N];
  int sign = 0;
  for (int i = 0; i < N; i++) mag[i] = b.w[i];
  if (isSigned && b.Negative()) {
    sign = 1;
    unsigned char carry = 1;
    for (int i = 0; i < N; i++) {
      uint64_t r;
      carry = __builtin_add_overflow(~mag[i], static_cast<uint64_t>(carry), &r);
      mag[i] = r;
    }
  }
  int lo = 0;
  while (lo < N && mag[lo] == 0) lo++;
  if (lo == N) {
    *exp = 0;
    return Napi::BigInt::New(env, static_cast<int64_t>(0));
  }
  const int tz = __builtin_ctzll(mag[lo]);
  *exp = lo * 64 + tz;
  uint64_t out[N];
  int cnt = N - lo;
  for (int i = 0; i < cnt; i++) {
    uint64_t cur = mag[lo + i] >> tz;
    if (tz != 0 && lo + i + 1 < N) cur |= mag[lo + i + 1] << (64 - tz);
    out[i] = cur;
  }
  while (cnt > 0 && out[cnt - 1] == 0) cnt--;
  return Napi::BigInt::New(env, sign, static_cast<size_t>(cnt), out);
}

Napi::Object IntColumns(Napi::Env env, const AggField& af, const std::vector<IntG>& acc, const std::vector<uint32_t>& order) {
  const size_t n = order.size();
  Napi::BigInt64Array sum = Napi::BigInt64Array::New(env, 2 * n);
  Napi::BigInt64Array sumsq = Napi::BigInt64Array::New(env, af.sq ? 3 * n : 0);
  Napi::BigInt64Array mn = Napi::BigInt64Array::New(env, n);
  Napi::BigInt64Array mx = Napi::BigInt64Array::New(env, n);
  int64_t* ps = sum.Data();
  int64_t* pq = sumsq.Data();
  int64_t* pmn = mn.Data();
  int64_t* pmx = mx.Data();
  for (size_t j = 0; j < n; j++) {
    const IntG& a = acc[order[j]];
    const u128 us = static_cast<u128>(a.sum);
    ps[2 * j] = static_cast<int64_t>(static_cast<uint64_t>(us));
    ps[2 * j + 1] = static_cast<int64_t>(static_cast<uint64_t>(us >> 64));
    if (af.sq) {
      pq[3 * j] = static_cast<int64_t>(static_cast<uint64_t>(a.sqLo));
      pq[3 * j + 1] = static_cast<int64_t>(static_cast<uint64_t>(a.sqLo >> 64));
      pq[3 * j + 2] = static_cast<int64_t>(a.sqHi);
    }
    // the low 64 bits: the value itself for every type (u64 read back unsigned)
    pmn[j] = static_cast<int64_t>(static_cast<uint64_t>(static_cast<u128>(a.mn)));
    pmx[j] = static_cast<int64_t>(static_cast<uint64_t>(static_cast<u128>(a.mx)));
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", "int");
  o.Set("sum", sum);
  o.Set("sumsq", sumsq);
  o.Set("min", mn);
  o.Set("max", mx);
  return o;
}

Napi::Object FloatColumns(Napi::Env env, const AggField& af, std::vector<FloatG>& acc, const std::vector<uint32_t>& order,
                          const std::vector<uint64_t>& counts, std::vector<BigPair>& bigs) {
  const size_t n = order.size();
  Napi::Float64Array nan = Napi::Float64Array::New(env, n);
  Napi::Float64Array pinf = Napi::Float64Array::New(env, n);
  Napi::Float64Array ninf = Napi::Float64Array::New(env, n);
  Napi::Float64Array mn = Napi::Float64Array::New(env, n);
  Napi::Float64Array mx = Napi::Float64Array::New(env, n);
  Napi::Array sum = Napi::Array::New(env, af.sum ? n : 0);
  Napi::Int32Array sumExp = Napi::Int32Array::New(env, af.sum ? n : 0);
  Napi::Array sumsq = Napi::Array::New(env, af.sq ? n : 0);
  Napi::Int32Array sqExp = Napi::Int32Array::New(env, af.sq ? n : 0);
  const double qnan = std::numeric_limits<double>::quiet_NaN();
  for (size_t j = 0; j < n; j++) {
    const uint32_t g = order[j];
    FloatG& a = acc[g];
    // the exact sums: the group's big accumulators (if it has any) plus its open window
    BigNum<36> S0;
    BigNum<68> Q0;
    const BigNum<36>* S = &S0;
    const BigNum<68>* Q = &Q0;
    if (a.big != 0) {
      Flush(a, bigs);
      S = &bigs[a.big - 1].S;
      Q = &bigs[a.big - 1].Q;
    } else if (!WindowEmpty(a)) {
      AddWindow(a, S0, Q0);
    }
    const uint64_t count = counts[g] - a.nan;
    nan[j] = static_cast<double>(a.nan);
    pinf[j] = static_cast<double>(a.posinf);
    ninf[j] = static_cast<double>(a.neginf);
    if (count == 0) {
      mn[j] = qnan;
      mx[j] = qnan;
    } else {
      double lo = a.mn, hi = a.mx;
      if (lo == 0) lo = a.negZero ? -0.0 : 0.0;
      if (hi == 0) hi = a.posZero ? 0.0 : -0.0;
      mn[j] = lo;
      mx[j] = hi;
    }
    int32_t e = 0;
    if (af.sum) {
      sum.Set(static_cast<uint32_t>(j), Normalized(env, *S, true, &e));
      sumExp[j] = e;
    }
    if (af.sq) {
      sumsq.Set(static_cast<uint32_t>(j), Normalized(env, *Q, false, &e));
      sqExp[j] = e;
    }
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", "float");
  o.Set("nan", nan);
  o.Set("posinf", pinf);
  o.Set("neginf", ninf);
  o.Set("min", mn);
  o.Set("max", mx);
  o.Set("sum", sum);
  o.Set("sumExp", sumExp);
  o.Set("sumsq", sumsq);
  o.Set("sqExp", sqExp);
  return o;
}


// ----- the three phases ------------------------------------------------------------------------

/** The canonical key: which record byte each key byte comes from, and the single-integer-key shortcut. */
struct KeySpec {
  std::vector<KeyByte> kb;
  size_t width = 0;
  KeyMode mode = KeyMode::Direct;
  bool singleInt = false;
  NumType singleType = NumType::U8;
  bool singleSwap = false;
  uint64_t singleOffset = 0;
};

struct GroupbyArgs {
  Span span;
  KeySpec key;
  std::vector<AggField> fields;
  size_t nInt = 0, nFloat = 0;
  uint64_t maxGroups = 0;
  Predicate pred;
  Control ctl;
};

struct GroupbyOut {
  std::unique_ptr<GroupTable> table;
  std::vector<BigPair> bigs;
  bool overflow = false;
  std::vector<uint32_t> order;  // group ids in canonical key order
};

/** One key field of spec.keys, appended to the canonical key. */
void ParseKeyField(Napi::Value v, const std::string& name, bool only, uint64_t recordSize, KeySpec* key) {
  Napi::Env env = v.Env();
  Napi::Object k = ToObject(v, name);
  const std::string kind = ToString(k.Get("kind"), name + ".kind");
  const uint64_t off = ToIndex(k.Get("offset"), name + ".offset");
  uint64_t size = ToIndex(k.Get("size"), name + ".size", true);
  const bool bigEndian = OptBool(k, "bigEndian", name, false);
  bool isSigned = false;
  if (kind == "int") {
    const NumType t = ToNumType(k.Get("type"), name + ".type");
    if (IsFloatType(t)) ThrowExpected(env, name + ".type", "an integer type", k.Get("type"));
    if (size != TypeSize(t)) ThrowExpected(env, name + ".size", "the width of " + std::string(TypeName(t)), k.Get("size"));
    isSigned = IsSignedType(t);
    if (only) {
      key->singleInt = true;
      key->singleType = t;
      key->singleSwap = NeedsSwap(bigEndian);
      key->singleOffset = off;
    }
  } else if (kind == "bytes") {
    if (size > 4096) ThrowExpected(env, name + ".size", "at most 4096", k.Get("size"));
  } else {
    ThrowExpected(env, name + ".kind", "\"int\" or \"bytes\"", k.Get("kind"));
  }
  if (off + size > recordSize) {
    ThrowExpected(env, name + ".offset", "offset + size <= recordSize (" + std::to_string(recordSize) + ")", k.Get("offset"));
  }
  for (uint64_t j = 0; j < size; j++) {
    const uint64_t src = kind == "int" && !bigEndian ? off + size - 1 - j : off + j;
    key->kb.push_back({static_cast<uint32_t>(src), static_cast<uint8_t>(j == 0 && isSigned ? 0x80 : 0)});
  }
}

/** groupby(mapping, byteOffset, records, recordSize, spec, program, ctl) */
void ParseGroupby(const Napi::CallbackInfo& info, GroupbyArgs* a) {
  Napi::Env env = info.Env();
  a->span = ToSpan(info);
  Napi::Object spec = ToObject(info[4], "spec");
  Napi::Array keyList = ToArray(spec.Get("keys"), "spec.keys");
  if (keyList.Length() == 0) ThrowExpected(env, "spec.keys", "at least one key field", keyList);
  for (uint32_t i = 0; i < keyList.Length(); i++) {
    ParseKeyField(keyList.Get(i), "spec.keys[" + std::to_string(i) + "]", keyList.Length() == 1, a->span.recordSize, &a->key);
  }
  a->key.width = a->key.kb.size();
  a->key.mode = a->key.width <= 2 ? KeyMode::Direct : a->key.width <= 8 ? KeyMode::Hash64 : KeyMode::Bytes;

  Napi::Array fieldList = ToArray(spec.Get("fields"), "spec.fields");
  a->fields.resize(fieldList.Length());
  for (uint32_t i = 0; i < fieldList.Length(); i++) {
    const std::string name = "spec.fields[" + std::to_string(i) + "]";
    AggField& af = a->fields[i];
    af.f = ToFieldRef(fieldList.Get(i), name, a->span.recordSize);
    Napi::Object o = fieldList.Get(i).As<Napi::Object>();
    af.sum = OptBool(o, "sum", name, true);
    af.sq = OptBool(o, "sq", name, true);
    af.slot = static_cast<uint32_t>(IsFloatType(af.f.type) ? a->nFloat++ : a->nInt++);
  }
  a->maxGroups = ToIndex(spec.Get("maxGroups"), "spec.maxGroups", true);
  if (a->maxGroups > kMaxGroups) {
    ThrowExpected(env, "spec.maxGroups", "integer between 1 and " + std::to_string(kMaxGroups), spec.Get("maxGroups"));
  }
  a->pred.Parse(info[5], a->span.recordSize, "program");
  a->ctl = ToControl(info[6], "ctl");
}

/** Whether a query takes the fused path: one 1- or 2-byte integer key, one f64 field summed without Σx², no --where. */
bool FusedApplies(const GroupbyArgs& a) {
  if (!a.key.singleInt || a.key.mode != KeyMode::Direct || a.pred.Active() || a.fields.size() != 1) return false;
  const AggField& af = a.fields[0];
  return af.f.type == NumType::F64 && af.sum && !af.sq;
}

/** FusedBlock for the key's type and both byte orders. */
BP_CLONES Fused RunFusedBlock(const KeySpec& k, bool vswap, FusedState& st, GroupTable& table, size_t slot,
                              std::vector<BigPair>& bigs, const uint8_t* key, const uint8_t* val, size_t n, size_t rs) {
#define BP_KEY(K, KS)                                                                  \
  return vswap ? FusedBlock<K, KS, true>(st, table, slot, bigs, key, val, n, rs) \
               : FusedBlock<K, KS, false>(st, table, slot, bigs, key, val, n, rs)
  switch (k.singleType) {
    case NumType::I8: BP_KEY(int8_t, false);
    case NumType::U8: BP_KEY(uint8_t, false);
    case NumType::I16: if (k.singleSwap) BP_KEY(int16_t, true); else BP_KEY(int16_t, false);
    case NumType::U16: if (k.singleSwap) BP_KEY(uint16_t, true); else BP_KEY(uint16_t, false);
    default: return Fused::NotFit;
  }
#undef BP_KEY
}

/**
 * A block of m records at p on the fused path, with its window guess and back-off: after a block that
 * did not fit, the window is re-centred on it and the next 1, 3, 7, … 63 blocks take the general path.
 */
Fused TryFused(const GroupbyArgs& a, FusedState& st, GroupTable& table, std::vector<BigPair>& bigs, const uint8_t* p,
               size_t m, size_t rs) {
  if (st.skip > 0) {
    st.skip--;
    return Fused::NotFit;
  }
  if (table.Size() > kAlignedMaxGroups) return Fused::NotFit;
  const AggField& af = a.fields[0];
  const uint8_t* val = p + af.f.offset;
  if (st.lo == 0) st.lo = FusedGuess(val, m, rs, af.f.swap, 0);
  const Fused r = RunFusedBlock(a.key, af.f.swap, st, table, af.slot, bigs, p + a.key.singleOffset, val, m, rs);
  if (r != Fused::NotFit) {
    st.fails = 0;
    return r;
  }
  st.lo = FusedGuess(val, m, rs, af.f.swap, st.lo);
  st.fails = st.fails < 6 ? st.fails + 1 : 6;
  st.skip = (1u << st.fails) - 1;
  return r;
}

/** The fused path's state for a query it applies to (byKey stays null otherwise, or if it cannot be allocated). */
void FusedInit(const GroupbyArgs& a, FusedState* st) {
  if (!FusedApplies(a)) return;
  st->byKey.reset(static_cast<u128*>(std::calloc(size_t{2} << (8 * a.key.width), sizeof(u128))));
}

/** Whether a query only counts by one 1- or 2-byte integer key, without --where (GroupTable::CountDirect). */
bool CountOnly(const GroupbyArgs& a) {
  return a.fields.empty() && a.key.singleInt && a.key.mode == KeyMode::Direct && !a.pred.Active();
}

/** GroupTable::CountDirect for the key's type; false past maxGroups. */
bool CountBlock(const KeySpec& key, GroupTable& table, const uint8_t* p, size_t m, size_t rs, uint32_t* byKey) {
  const uint8_t* k = p + key.singleOffset;
  switch (key.singleType) {
    case NumType::I8: return table.CountDirect<int8_t, false>(k, m, rs, byKey);
    case NumType::U8: return table.CountDirect<uint8_t, false>(k, m, rs, byKey);
    case NumType::I16:
      return key.singleSwap ? table.CountDirect<int16_t, true>(k, m, rs, byKey)
                            : table.CountDirect<int16_t, false>(k, m, rs, byKey);
    case NumType::U16:
      return key.singleSwap ? table.CountDirect<uint16_t, true>(k, m, rs, byKey)
                            : table.CountDirect<uint16_t, false>(k, m, rs, byKey);
    default: return false;
  }
}

/** Group ids for a block of m records at p; false when a new group would pass maxGroups. */
bool BlockGroups(const KeySpec& key, GroupTable& table, const uint8_t* p, size_t m, size_t rs, const uint8_t* mask,
                 uint64_t* k64, uint8_t* kbytes, uint32_t* gid) {
  if (key.mode == KeyMode::Bytes) {
    GatherKeyBytes(key.kb, p, m, rs, kbytes);
    return table.LookupBytes(kbytes, mask, m, gid);
  }
  if (key.singleInt && key.mode == KeyMode::Direct && mask == nullptr) {
    switch (key.singleType) {
      case NumType::I8: return table.LookupDirect<int8_t, false>(p + key.singleOffset, m, rs, gid);
      case NumType::U8: return table.LookupDirect<uint8_t, false>(p + key.singleOffset, m, rs, gid);
      case NumType::I16:
        return key.singleSwap ? table.LookupDirect<int16_t, true>(p + key.singleOffset, m, rs, gid)
                              : table.LookupDirect<int16_t, false>(p + key.singleOffset, m, rs, gid);
      case NumType::U16:
        return key.singleSwap ? table.LookupDirect<uint16_t, true>(p + key.singleOffset, m, rs, gid)
                              : table.LookupDirect<uint16_t, false>(p + key.singleOffset, m, rs, gid);
      default: break;
    }
  }
  if (key.singleInt) {
    GatherSingleKey(key.singleType, key.singleSwap, p + key.singleOffset, m, rs, k64);
  } else {
    GatherKey64(key.kb, p, m, rs, k64);
  }
  return table.Lookup64(k64, mask, m, gid);
}

/** Group ids in canonical key order. */
std::vector<uint32_t> KeyOrder(const KeySpec& key, const GroupTable& table) {
  const size_t ng = table.Size();
  std::vector<uint32_t> order(ng);
  for (size_t g = 0; g < ng; g++) order[g] = static_cast<uint32_t>(g);
  const size_t width = key.width;
  if (key.mode == KeyMode::Bytes) {
    std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return std::memcmp(table.KeyBytes(x), table.KeyBytes(y), width) < 0; });
  } else {
    std::sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) { return table.Key64(x) < table.Key64(y); });
  }
  return order;
}

/** Every group's count and accumulators, and the groups' key order. No N-API. */
Outcome ComputeGroupby(GroupbyArgs& a, GroupbyOut* out) {
  if (a.ctl.Cancelled()) return Outcome::Cancelled;
  const KeySpec& key = a.key;
  out->table = std::make_unique<GroupTable>(key.mode, key.width, a.maxGroups, a.nInt, a.nFloat);
  GroupTable& table = *out->table;
  std::vector<uint64_t> k64(kBlock);
  std::vector<uint8_t> kbytes(key.mode == KeyMode::Bytes ? kBlock * key.width : 0);
  std::vector<uint32_t> gid(kBlock);
  AlignedScratch scratch;
  FusedState fused;
  FusedInit(a, &fused);
  std::vector<uint32_t> blockCounts(CountOnly(a) ? size_t{1} << (8 * key.width) : 0);  // by key, zero between blocks
  const Span& span = a.span;
  const size_t rs = static_cast<size_t>(span.recordSize);
  auto body = [&](uint64_t start, uint64_t n) {
    size_t m = 0;
    for (uint64_t s = 0; s < n; s += m) {
      m = static_cast<size_t>(n - s < kBlock ? n - s : kBlock);
      const uint8_t* p = span.Record(start + s);
      if (!blockCounts.empty() && table.Size() <= kAlignedMaxGroups) {  // its per-block sweep of the groups stays cheap
        m = static_cast<size_t>(n - s < kFusedBlock ? n - s : kFusedBlock);
        if (CountBlock(key, table, p, m, rs, blockCounts.data())) continue;
        out->overflow = true;
        return false;
      }
      if (fused.byKey) {
        const size_t fm = static_cast<size_t>(n - s < kFusedBlock ? n - s : kFusedBlock);
        const Fused r = TryFused(a, fused, table, out->bigs, p, fm, rs);
        if (r == Fused::Done) {
          m = fm;
          continue;
        }
        if (r == Fused::Overflow) {
          out->overflow = true;
          return false;
        }
      }
      const uint8_t* mask = nullptr;
      if (a.pred.Active()) {
        size_t matched = 0;
        mask = a.pred.Eval(p, m, rs, &matched);
        if (matched == 0) continue;
      }
      if (!BlockGroups(key, table, p, m, rs, mask, k64.data(), kbytes.data(), gid.data())) {
        out->overflow = true;
        return false;
      }
      for (const AggField& af : a.fields) {
        if (IsFloatType(af.f.type)) {
          RunFloatPass(af, p, m, rs, gid.data(), table.Floats(af.slot).data(), out->bigs, table.Size(), scratch);
        } else {
          RunIntPass(af, p, m, rs, gid.data(), table.Ints(af.slot).data());
        }
      }
    }
    return true;
  };
  const Outcome o = ScanBlocks(span, a.ctl, body);
  if (o != Outcome::Done) return o;
  if (!out->overflow) out->order = KeyOrder(key, table);
  return Outcome::Done;
}

Napi::Object OverflowResult(Napi::Env env) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("n", Napi::Number::New(env, 0));
  result.Set("keys", Napi::Uint8Array::New(env, 0));
  result.Set("counts", Napi::Float64Array::New(env, 0));
  result.Set("accs", Napi::Array::New(env, 0));
  result.Set("overflow", Napi::Boolean::New(env, true));
  return result;
}

/** → {n, keys, counts, accs} in key order, or the overflow marker (src/ops/groupby/native.ts: GroupbyPartial). */
Napi::Value ConvertGroupby(Napi::Env env, const GroupbyArgs& a, GroupbyOut& out) {
  if (out.overflow) return OverflowResult(env);
  GroupTable& table = *out.table;
  const std::vector<uint32_t>& order = out.order;
  const size_t ng = order.size();
  const size_t width = a.key.width;
  Napi::Uint8Array keys = Napi::Uint8Array::New(env, ng * width);
  Napi::Float64Array countArr = Napi::Float64Array::New(env, ng);
  uint8_t* kp = keys.Data();
  const std::vector<uint64_t>& counts = table.Counts();
  for (size_t j = 0; j < ng; j++) {
    const uint32_t g = order[j];
    if (a.key.mode == KeyMode::Bytes) {
      std::memcpy(kp + j * width, table.KeyBytes(g), width);
    } else {
      const uint64_t k = table.Key64(g);
      for (size_t b = 0; b < width; b++) kp[j * width + b] = static_cast<uint8_t>(k >> (8 * (width - 1 - b)));
    }
    countArr[j] = static_cast<double>(counts[g]);
  }
  Napi::Array accs = Napi::Array::New(env, a.fields.size());
  for (size_t f = 0; f < a.fields.size(); f++) {
    const AggField& af = a.fields[f];
    if (IsFloatType(af.f.type)) {
      accs.Set(static_cast<uint32_t>(f), FloatColumns(env, af, table.Floats(af.slot), order, counts, out.bigs));
    } else {
      accs.Set(static_cast<uint32_t>(f), IntColumns(env, af, table.Ints(af.slot), order));
    }
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("n", Napi::Number::New(env, static_cast<double>(ng)));
  result.Set("keys", keys);
  result.Set("counts", countArr);
  result.Set("accs", accs);
  return result;
}

/**
 * groupby(mapping, byteOffset, records, recordSize, spec, program, ctl)
 *   spec: {keys: [{offset, size, kind: 'int'|'bytes', type?, bigEndian?}],
 *          fields: [{offset, type, bigEndian?, sum: bool, sq: bool}], maxGroups}
 *   program: a --where program (as filter takes) or null
 * → {n, keys: Uint8Array(n·W) canonical keys in ascending order, counts: Float64Array(n),
 *    accs: [columns per field (see above)]}, or {n: 0, …, overflow: true} when more than
 *    maxGroups distinct keys occur; null when cancelled. The canonical key: each key field in order,
 *    integers big-endian with the sign bit flipped (so bytewise order is numeric order), bytes as they are.
 */
Napi::Value Groupby(const Napi::CallbackInfo& info) {
  GroupbyArgs args;
  ParseGroupby(info, &args);
  GroupbyOut out;
  if (!Settle(info.Env(), ComputeGroupby(args, &out))) return info.Env().Null();
  return ConvertGroupby(info.Env(), args, out);
}

}  // namespace

BIGPROC_EXPORT("groupby", Groupby);

}  // namespace bigproc
