// blur.cc — the integer blur (defined by src/image/oracle-blur.ts; image_kernels.h says what it takes).
// Both passes work in 16-bit lanes: pair adds and rounding high multiplies (x86 `pmulhrsw`, NEON
// `vqrdmulh`: ⌊(a·b + 2^14) / 2^15⌋ for the non-negative operands here), 32 lanes a vector with
// AVX-512BW, 16 with AVX2, 8 with NEON. The row loops (blur_rows.inc) are written once against a small
// `Vec` and compiled once per instruction set under `#pragma GCC target`; the CPU's own feature bits
// pick one at run time (no -march in the build), and a one-lane `Vec` is the portable baseline.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "cpu.h"
#include "image_kernels.h"

#if BP_HAVE_CLONES
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace bigproc {

namespace {

BP_INLINE size_t ClampRow(std::ptrdiff_t y, size_t height) {
  return y < 0 ? 0 : static_cast<size_t>(y) >= height ? height - 1 : static_cast<size_t>(y);
}

/** One rounded term of either pass: ⌊(a·v + 2^14) / 2^15⌋ (a < 2^15, v ≤ 2^14, both ≥ 0). */
BP_INLINE int32_t Term(int32_t a, int32_t v) { return (a * v + 16384) >> 15; }

/** The output level of a pass-2 sum: ⌊(S2 + 2^(F−1)) / 2^F⌋, at most 255. */
template <int F>
BP_INLINE uint8_t LevelOf(int32_t s2) {
  return static_cast<uint8_t>(std::min(255, (s2 + (1 << (F - 1))) >> F));
}

/** Repeat the first / last pixel of `mid` (w values) `r` pixels out where that side is the frame's edge. */
BP_INLINE void PadEdges(int16_t* mid, size_t w, size_t c, size_t r, bool left, bool right) {
  for (size_t k = 1; k <= r; k++) {
    for (size_t ch = 0; ch < c; ch++) {
      if (left) mid[ch - k * c] = mid[ch];
      if (right) mid[w - c + ch + k * c] = mid[w - c + ch];
    }
  }
}

/** Source rows the strip path prefetches ahead of the one it widens. */
constexpr size_t kAhead = 4;

/** The strip path's ring of widened rows: what fits the L1 cache beside the rows in flight. */
constexpr size_t kRingBytes = 20480;

BP_INLINE void PrefetchBytes(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i += 64) __builtin_prefetch(p + i);
  __builtin_prefetch(p + n - 1);
}

/** Whether BlurFrame takes the strip path (ring of widened rows) for this radius and rounding. */
BP_INLINE bool Ringed(size_t radius, bool sums) { return radius >= 1 && radius <= 8 && !sums; }

}  // namespace

namespace blur_base {
/** The portable baseline: one lane, the formula itself. */
struct Vec {
  using T = int32_t;
  static constexpr size_t N = 1;
  static BP_INLINE T Widen(const uint8_t* p) { return *p; }
  static BP_INLINE T Load(const int16_t* p) { return *p; }
  static BP_INLINE void Store(int16_t* p, T v) { *p = static_cast<int16_t>(v); }
  static BP_INLINE T Add(T a, T b) { return a + b; }
  template <int F>
  static BP_INLINE T Shl(T a) { return a << F; }
  static BP_INLINE T Set(int16_t v) { return v; }
  static BP_INLINE T MulHrs(T a, T b) { return Term(a, b); }
  template <int F>
  static BP_INLINE void Levels(uint8_t* p, T v) { *p = LevelOf<F>(v); }
};
#include "blur_rows.inc"
}  // namespace blur_base

#if BP_HAVE_CLONES
#pragma GCC push_options
#pragma GCC target("avx2")
namespace blur_avx2 {
struct Vec {
  using T = __m256i;
  static constexpr size_t N = 16;
  static BP_INLINE T Widen(const uint8_t* p) { return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static BP_INLINE T Load(const int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static BP_INLINE void Store(int16_t* p, T v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static BP_INLINE T Add(T a, T b) { return _mm256_add_epi16(a, b); }
  template <int F>
  static BP_INLINE T Shl(T a) { return _mm256_slli_epi16(a, F); }
  static BP_INLINE T Set(int16_t v) { return _mm256_set1_epi16(v); }
  static BP_INLINE T MulHrs(T a, T b) { return _mm256_mulhrs_epi16(a, b); }
  template <int F>
  static BP_INLINE void Levels(uint8_t* p, T v) {
    const T r = _mm256_srli_epi16(_mm256_add_epi16(v, _mm256_set1_epi16(1 << (F - 1))), F);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1)));
  }
};
#include "blur_rows.inc"
}  // namespace blur_avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl")
namespace blur_avx512 {
struct Vec {
  using T = __m512i;
  static constexpr size_t N = 32;
  static BP_INLINE T Widen(const uint8_t* p) { return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static BP_INLINE T Load(const int16_t* p) { return _mm512_loadu_si512(p); }
  static BP_INLINE void Store(int16_t* p, T v) { _mm512_storeu_si512(p, v); }
  static BP_INLINE T Add(T a, T b) { return _mm512_add_epi16(a, b); }
  template <int F>
  static BP_INLINE T Shl(T a) { return _mm512_slli_epi16(a, F); }
  static BP_INLINE T Set(int16_t v) { return _mm512_set1_epi16(v); }
  static BP_INLINE T MulHrs(T a, T b) { return _mm512_mulhrs_epi16(a, b); }
  template <int F>
  static BP_INLINE void Levels(uint8_t* p, T v) {
    const T r = _mm512_srli_epi16(_mm512_add_epi16(v, _mm512_set1_epi16(1 << (F - 1))), F);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_maskz_cvtusepi16_epi8(~__mmask32{0}, r));  // ≤ 256: saturates to 255
  }
};
#include "blur_rows.inc"
}  // namespace blur_avx512
#pragma GCC pop_options
#endif

#if defined(__aarch64__)
namespace blur_neon {
struct Vec {
  using T = int16x8_t;
  static constexpr size_t N = 8;
  static BP_INLINE T Widen(const uint8_t* p) { return vreinterpretq_s16_u16(vmovl_u8(vld1_u8(p))); }
  static BP_INLINE T Load(const int16_t* p) { return vld1q_s16(p); }
  static BP_INLINE void Store(int16_t* p, T v) { vst1q_s16(p, v); }
  static BP_INLINE T Add(T a, T b) { return vaddq_s16(a, b); }
  template <int F>
  static BP_INLINE T Shl(T a) { return vshlq_n_s16(a, F); }
  static BP_INLINE T Set(int16_t v) { return vdupq_n_s16(v); }
  static BP_INLINE T MulHrs(T a, T b) { return vqrdmulhq_s16(a, b); }  // sat((2ab + 2^15) >> 16): the same for a, b ≥ 0
  template <int F>
  static BP_INLINE void Levels(uint8_t* p, T v) { vst1_u8(p, vqmovun_s16(vshrq_n_s16(vaddq_s16(v, vdupq_n_s16(1 << (F - 1))), F))); }
};
#include "blur_rows.inc"
}  // namespace blur_neon
#endif

BlurSizes BlurScratch(FrameShape s, size_t radius, bool sums) {
  const size_t row = s.Row(), halo = radius * s.channels;
  if (!Ringed(radius, sums)) return BlurSizes{0, 0, row + 2 * halo};
  // ~kRingBytes of ring: 2R + 1 rows of strip + 2·halo int16 values, the strip a multiple of 64 values
  const size_t fit = kRingBytes / (2 * (2 * radius + 1));
  const size_t strip = std::min(row, std::max<size_t>(64, fit > 2 * halo ? (fit - 2 * halo) / 64 * 64 : 0));
  const size_t w = std::min(row, strip + 2 * halo);
  return BlurSizes{strip, (2 * radius + 1) * w, w + 2 * halo};
}

/** The loop body ImageKernelIsa() picks (BIGPROC_IMAGE_ISA=avx2|base lowers it, for the tests). */
void BlurFrame(const uint8_t* src, uint8_t* dst, FrameShape s, const BlurBuffers& buf) {
#if BP_HAVE_CLONES
  const ImageIsa isa = ImageKernelIsa();
  if (isa >= ImageIsa::Avx512) return blur_avx512::BlurFrameVec(src, dst, s, buf);
  if (isa == ImageIsa::Avx2) return blur_avx2::BlurFrameVec(src, dst, s, buf);
#elif defined(__aarch64__)
  const char* want = std::getenv("BIGPROC_IMAGE_ISA");
  if (want == nullptr || std::strcmp(want, "base") != 0) return blur_neon::BlurFrameVec(src, dst, s, buf);
#endif
  blur_base::BlurFrameVec(src, dst, s, buf);
}

}  // namespace bigproc
