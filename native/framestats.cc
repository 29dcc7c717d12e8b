// framestats.cc — FrameStats (image_kernels.h): per channel Σv, Σv², min and max of a frame, exact.
// The vector bodies never separate the channels: every byte position of a group of K vectors keeps
// its own accumulators (a group is G = K·N bytes, a multiple of C — one vector for C = 1 or 4, three
// for C = 3 — so position p always holds channel p mod C), and the positions are folded into channels
// once at the end. Bytes are split into even and odd 16-bit lanes; sums add there (flushed before 256
// adds could pass 65535), squares are 16-bit products (≤ 65025) widened into 32-bit lanes (flushed
// before 65536 adds could pass 2^32). As blur.cc, one body is compiled per instruction set under
// `#pragma GCC target`, chosen at run time (ImageKernelIsa); the scalar loop is the portable baseline.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "cpu.h"
#include "image_kernels.h"

#if BP_HAVE_CLONES
#include <immintrin.h>
#endif

namespace bigproc {

namespace {

/** The portable baseline (what aarch64 runs): channel after channel, each loop vectorized by the compiler. */
BP_CLONES void StatsScalar(const uint8_t* src, FrameShape s, double* out) {
  const size_t c = s.channels, n = s.width * s.height;
  for (size_t ch = 0; ch < c; ch++) {
    uint64_t sum = 0, sumsq = 0;
    uint8_t lo = 255, hi = 0;
    for (size_t i = 0; i < n; i++) {
      const uint32_t v = src[i * c + ch];
      sum += v;
      sumsq += v * v;
      lo = v < lo ? static_cast<uint8_t>(v) : lo;
      hi = v > hi ? static_cast<uint8_t>(v) : hi;
    }
    out[ch * 4] = static_cast<double>(sum);
    out[ch * 4 + 1] = static_cast<double>(sumsq);
    out[ch * 4 + 2] = lo;
    out[ch * 4 + 3] = hi;
  }
}

}  // namespace

#if BP_HAVE_CLONES
namespace {

/** Groups whose byte sums one 16-bit lane holds: 256 · 255 = 65280 ≤ 65535. */
constexpr size_t kSumGroups = 256;

/** Groups whose squares one 32-bit lane holds: 65536 · 255² = 4 261 478 400 < 2^32. */
constexpr size_t kSquareGroups = 65536;

/** The widest group (3 vectors of 64 bytes): the totals per byte position of a group. */
constexpr size_t kMaxGroup = 192;

struct PositionTotals {
  uint64_t sum[kMaxGroup] = {};
  uint64_t sq[kMaxGroup] = {};
  uint8_t lo[kMaxGroup];
  uint8_t hi[kMaxGroup] = {};
  PositionTotals() { std::fill(lo, lo + kMaxGroup, uint8_t{255}); }
};

/** Fold the positions' totals into channels and add the tail bytes [from, bytes) one by one. */
void FoldChannels(const PositionTotals& t, size_t group, const uint8_t* src, size_t from, size_t bytes, size_t c, double* out) {
  uint64_t sum[4] = {}, sq[4] = {};
  uint8_t lo[4] = {255, 255, 255, 255}, hi[4] = {};
  for (size_t p = 0; p < group; p++) {  // identities where no group ran
    const size_t ch = p % c;
    sum[ch] += t.sum[p];
    sq[ch] += t.sq[p];
    lo[ch] = std::min(lo[ch], t.lo[p]);
    hi[ch] = std::max(hi[ch], t.hi[p]);
  }
  for (size_t i = from; i < bytes; i++) {
    const uint32_t v = src[i];
    const size_t ch = i % c;  // `from` is a multiple of the group, so of C
    sum[ch] += v;
    sq[ch] += v * v;
    lo[ch] = std::min(lo[ch], src[i]);
    hi[ch] = std::max(hi[ch], src[i]);
  }
  for (size_t ch = 0; ch < c; ch++) {
    out[ch * 4] = static_cast<double>(sum[ch]);
    out[ch * 4 + 1] = static_cast<double>(sq[ch]);
    out[ch * 4 + 2] = lo[ch];
    out[ch * 4 + 3] = hi[ch];
  }
}

}  // namespace

#pragma GCC push_options
#pragma GCC target("avx2")
namespace stats_avx2 {
struct Vec {
  using T = __m256i;
  static constexpr size_t N = 32;
  static BP_INLINE T Load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static BP_INLINE T Zero() { return _mm256_setzero_si256(); }
  static BP_INLINE T Ones() { return _mm256_set1_epi8(-1); }
  static BP_INLINE T Iota16() { return _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
  static BP_INLINE T Min8(T a, T b) { return _mm256_min_epu8(a, b); }
  static BP_INLINE T Max8(T a, T b) { return _mm256_max_epu8(a, b); }
  static BP_INLINE T Even16(T x) { return _mm256_and_si256(x, _mm256_set1_epi16(0xff)); }
  static BP_INLINE T Odd16(T x) { return _mm256_srli_epi16(x, 8); }
  static BP_INLINE T Add16(T a, T b) { return _mm256_add_epi16(a, b); }
  static BP_INLINE T Mul16(T a, T b) { return _mm256_mullo_epi16(a, b); }
  static BP_INLINE T Lo32(T w) { return _mm256_unpacklo_epi16(w, _mm256_setzero_si256()); }
  static BP_INLINE T Hi32(T w) { return _mm256_unpackhi_epi16(w, _mm256_setzero_si256()); }
  static BP_INLINE T Add32(T a, T b) { return _mm256_add_epi32(a, b); }
  static BP_INLINE void Store(void* p, T v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
};
#include "framestats_body.inc"
}  // namespace stats_avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw")
namespace stats_avx512 {
struct Vec {
  using T = __m512i;
  static constexpr size_t N = 64;
  static BP_INLINE T Load(const uint8_t* p) { return _mm512_loadu_si512(p); }
  static BP_INLINE T Zero() { return _mm512_setzero_si512(); }
  static BP_INLINE T Ones() { return _mm512_set1_epi8(-1); }
  static BP_INLINE T Iota16() {
    return _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  }
  static BP_INLINE T Min8(T a, T b) { return _mm512_min_epu8(a, b); }
  static BP_INLINE T Max8(T a, T b) { return _mm512_max_epu8(a, b); }
  static BP_INLINE T Even16(T x) { return _mm512_and_si512(x, _mm512_set1_epi16(0xff)); }
  static BP_INLINE T Odd16(T x) { return _mm512_srli_epi16(x, 8); }
  static BP_INLINE T Add16(T a, T b) { return _mm512_add_epi16(a, b); }
  static BP_INLINE T Mul16(T a, T b) { return _mm512_mullo_epi16(a, b); }
  static BP_INLINE T Lo32(T w) { return _mm512_unpacklo_epi16(w, _mm512_setzero_si512()); }
  static BP_INLINE T Hi32(T w) { return _mm512_unpackhi_epi16(w, _mm512_setzero_si512()); }
  static BP_INLINE T Add32(T a, T b) { return _mm512_add_epi32(a, b); }
  static BP_INLINE void Store(void* p, T v) { _mm512_storeu_si512(p, v); }
};
#include "framestats_body.inc"
}  // namespace stats_avx512
#pragma GCC pop_options
#endif

void FrameStats(const uint8_t* src, FrameShape s, double* out) {
#if BP_HAVE_CLONES
  const ImageIsa isa = ImageKernelIsa();
  if (isa >= ImageIsa::Avx512) return stats_avx512::StatsVec(src, s, out);
  if (isa == ImageIsa::Avx2) return stats_avx2::StatsVec(src, s, out);
#endif
  StatsScalar(src, s, out);
}

}  // namespace bigproc
