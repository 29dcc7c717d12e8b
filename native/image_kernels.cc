// image_kernels.cc — the per-frame image kernels (see image_kernels.h). Loops run over the elements of
// a row (x·C + channel), so every channel count vectorizes the same way; edge clamping is done once per
// row by padding, not per pixel. No FMA contraction (binding.gyp: -ffp-contract=off) and no fast-math.
#include "image_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "cpu.h"

namespace bigproc {

// Image kernels are built three times — AVX-512BW with 512-bit vectors preferred (target_clones'
// avx512f clone lets GCC pick 256-bit vectors and no byte/word ops), AVX2, baseline — and chosen at
// run time with the CPU's own feature bits; `Impl` is the always-inlined body each one compiles.
#if BP_HAVE_CLONES
#define BP_DISPATCH(Name, Impl, Params, Args)                                                              \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,prefer-vector-width=512"))) static void Name##Avx512 Params { Impl Args; } \
  __attribute__((target("avx2,bmi2"))) static void Name##Avx2 Params { Impl Args; }                       \
  static void Name##Base Params { Impl Args; }                                                             \
  void Name Params {                                                                                        \
    static const int level = __builtin_cpu_supports("avx512bw") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0; \
    if (level == 2) Name##Avx512 Args;                                                                      \
    else if (level == 1) Name##Avx2 Args;                                                                   \
    else Name##Base Args;                                                                                   \
  }
#else
#define BP_DISPATCH(Name, Impl, Params, Args) \
  void Name Params { Impl Args; }
#endif

namespace {

BP_INLINE size_t ClampRow(std::ptrdiff_t y, size_t height) {
  return y < 0 ? 0 : static_cast<size_t>(y) >= height ? height - 1 : static_cast<size_t>(y);
}

/** A float result as a level: v + ½ clamped to [0, 255], truncated (= ⌊v + ½⌋ there). */
BP_INLINE uint8_t Level(float v) {
  float r = v + 0.5f;
  r = r < 255.0f ? r : 255.0f;
  r = r > 0.0f ? r : 0.0f;
  return static_cast<uint8_t>(static_cast<int32_t>(r));
}

template <int C>
BP_INLINE void GreyN(const uint8_t* __restrict src, uint8_t* __restrict dst, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t y = 19595u * src[i * C] + 38470u * src[i * C + 1] + 7471u * src[i * C + 2] + 32768u;
    dst[i] = static_cast<uint8_t>(y >> 16);
  }
}

/** Copy a row into `out` with `pad` pixels before and after it repeating its first and last pixel. */
template <class T>
BP_INLINE void PadRow(const uint8_t* row, T* out, size_t width, size_t channels, size_t pad) {
  for (size_t k = 0; k < pad; k++) {
    for (size_t c = 0; c < channels; c++) {
      out[k * channels + c] = static_cast<T>(row[c]);
      out[(pad + width + k) * channels + c] = static_cast<T>(row[(width - 1) * channels + c]);
    }
  }
  T* mid = out + pad * channels;
  for (size_t e = 0; e < width * channels; e++) mid[e] = static_cast<T>(row[e]);
}

}  // namespace

BP_CLONES void GreyFrame(const uint8_t* src, uint8_t* dst, FrameShape s) {
  const size_t n = s.width * s.height;
  if (s.channels == 4) GreyN<4>(src, dst, n);
  else if (s.channels == 3) GreyN<3>(src, dst, n);
  else std::memcpy(dst, src, n);
}

ImageIsa ImageKernelIsa() {
#if BP_HAVE_CLONES
  static const ImageIsa cpu = !__builtin_cpu_supports("avx512bw") ? (__builtin_cpu_supports("avx2") ? ImageIsa::Avx2 : ImageIsa::Base)
                              : __builtin_cpu_supports("avx512vbmi") ? ImageIsa::Avx512Vbmi
                                                                     : ImageIsa::Avx512;
  const char* want = std::getenv("BIGPROC_IMAGE_ISA");
  if (want != nullptr && std::strcmp(want, "base") == 0) return ImageIsa::Base;
  if (want != nullptr && std::strcmp(want, "avx2") == 0) return std::min(cpu, ImageIsa::Avx2);
  if (want != nullptr && std::strcmp(want, "avx512") == 0) return std::min(cpu, ImageIsa::Avx512);
  return cpu;
#else
  return ImageIsa::Base;
#endif
}

namespace {

BP_INLINE void ConvolveIntRow(const ConvolveParams& p, int32_t* __restrict acc, size_t row, uint8_t* __restrict out) {
  if (p.narrow) {
    const int32_t sign = static_cast<int32_t>(p.sign), add = static_cast<int32_t>(2 * p.offset * p.divisor + p.divisor);
    for (size_t e = 0; e < row; e++) {
      int32_t q = (2 * sign * acc[e] + add) >> p.shift;
      out[e] = static_cast<uint8_t>(q < 0 ? 0 : q > 255 ? 255 : q);
    }
    return;
  }
  // n = 2·sign·S + (2·O·D + D) and m = 2D are integers below 2^53, exact as doubles: the same n / m
  // the oracle divides, so the same quotient, bit for bit.
  const double m = static_cast<double>(2 * p.divisor);
  const double a = static_cast<double>(2 * p.sign), b = static_cast<double>(2 * p.offset * p.divisor + p.divisor);
  for (size_t e = 0; e < row; e++) {
    // clamp(⌊q⌋, 0, 255) = truncation of q clamped to [0, 255] (truncation is ⌊⌋ for q ≥ 0)
    double q = (a * static_cast<double>(acc[e]) + b) / m;
    q = q > 0.0 ? q : 0.0;
    q = q < 255.0 ? q : 255.0;
    acc[e] = static_cast<int32_t>(q);
  }
  for (size_t e = 0; e < row; e++) out[e] = static_cast<uint8_t>(acc[e]);
}

}  // namespace

namespace {

/** The narrow integer quotient (ConvolveParams::narrow) of a sum, clamped to a level. */
template <class T>
BP_INLINE uint8_t NarrowLevel(T acc, T sign, T add, int shift) {
  const T q = static_cast<T>(static_cast<T>(static_cast<T>(2 * sign * acc) + add) >> shift);
  return static_cast<uint8_t>(q < 0 ? 0 : q > 255 ? 255 : q);
}

/** Σ k·v over the 3×3 neighbourhood whose columns are elements l, m, r of rows r0, r1, r2. */
template <class T>
BP_INLINE T Sum3(const T* k, const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, size_t l, size_t m, size_t r) {
  T acc = static_cast<T>(k[0] * r0[l]);
  acc = static_cast<T>(acc + static_cast<T>(k[1] * r0[m]));
  acc = static_cast<T>(acc + static_cast<T>(k[2] * r0[r]));
  acc = static_cast<T>(acc + static_cast<T>(k[3] * r1[l]));
  acc = static_cast<T>(acc + static_cast<T>(k[4] * r1[m]));
  acc = static_cast<T>(acc + static_cast<T>(k[5] * r1[r]));
  acc = static_cast<T>(acc + static_cast<T>(k[6] * r2[l]));
  acc = static_cast<T>(acc + static_cast<T>(k[7] * r2[m]));
  return static_cast<T>(acc + static_cast<T>(k[8] * r2[r]));
}

/**
 * A 3×3 integer kernel on the shift path, in one pass straight from the source (as SobelImpl: no
 * padded copy, edge pixels through clamped columns). T = int16_t when the bound of ParseConvolve
 * fits 15 bits — every partial sum and 2(S' + O·D) + D then fits, so the bytes are those of int32.
 */
template <class T>
BP_INLINE void Convolve3Narrow(const uint8_t* src, uint8_t* __restrict dst, FrameShape s, const ConvolveParams& p) {
  const size_t row = s.Row(), c = s.channels, last = row - c;
  T k[9];
  for (int i = 0; i < 9; i++) k[i] = static_cast<T>(p.ikernel[i]);
  const T sign = static_cast<T>(p.sign), add = static_cast<T>(2 * p.offset * p.divisor + p.divisor);
  const int shift = p.shift;
  for (size_t y = 0; y < s.height; y++) {
    const uint8_t* r0 = src + ClampRow(static_cast<std::ptrdiff_t>(y) - 1, s.height) * row;
    const uint8_t* r1 = src + y * row;
    const uint8_t* r2 = src + ClampRow(static_cast<std::ptrdiff_t>(y + 1), s.height) * row;
    uint8_t* __restrict out = dst + y * row;
    for (size_t ch = 0; ch < c; ch++) {
      out[ch] = NarrowLevel<T>(Sum3<T>(k, r0, r1, r2, ch, ch, s.width > 1 ? ch + c : ch), sign, add, shift);
      out[last + ch] = NarrowLevel<T>(Sum3<T>(k, r0, r1, r2, s.width > 1 ? last + ch - c : last + ch, last + ch, last + ch), sign, add, shift);
    }
    for (size_t e = c; e < last; e++) out[e] = NarrowLevel<T>(Sum3<T>(k, r0, r1, r2, e - c, e, e + c), sign, add, shift);
  }
}

BP_INLINE void Convolve3Narrow16(const uint8_t* src, uint8_t* dst, FrameShape s, const ConvolveParams& p) { Convolve3Narrow<int16_t>(src, dst, s, p); }
BP_INLINE void Convolve3Narrow32(const uint8_t* src, uint8_t* dst, FrameShape s, const ConvolveParams& p) { Convolve3Narrow<int32_t>(src, dst, s, p); }

}  // namespace

BP_DISPATCH(Convolve3Short, Convolve3Narrow16, (const uint8_t* src, uint8_t* dst, FrameShape s, const ConvolveParams& p), (src, dst, s, p))
BP_DISPATCH(Convolve3Int, Convolve3Narrow32, (const uint8_t* src, uint8_t* dst, FrameShape s, const ConvolveParams& p), (src, dst, s, p))

BP_CLONES void ConvolveFrame(const uint8_t* src, uint8_t* dst, FrameShape s, const ConvolveParams& p, uint8_t* padded, int32_t* __restrict iacc,
                             float* __restrict facc) {
  if (p.size == 3 && p.integer && p.narrow) return p.bound16 ? Convolve3Short(src, dst, s, p) : Convolve3Int(src, dst, s, p);
  const size_t row = s.Row(), c = s.channels, half = (p.size - 1) / 2;
  const size_t prow = (s.width + p.size - 1) * c;
  for (size_t y = 0; y < s.height; y++) PadRow(src + y * row, padded + y * prow, s.width, c, half);
  for (size_t y = 0; y < s.height; y++) {
    if (p.integer) std::memset(iacc, 0, row * sizeof(int32_t));
    else std::memset(facc, 0, row * sizeof(float));
    for (size_t j = 0; j < p.size; j++) {
      const uint8_t* pr = padded + ClampRow(static_cast<std::ptrdiff_t>(y + j) - static_cast<std::ptrdiff_t>(half), s.height) * prow;
      for (size_t i = 0; i < p.size; i++) {
        const uint8_t* q = pr + i * c;
        if (p.integer) {
          const int32_t kv = p.ikernel[j * p.size + i];
          if (kv == 0) continue;
          for (size_t e = 0; e < row; e++) iacc[e] += kv * static_cast<int32_t>(q[e]);
        } else {
          const float kv = p.fkernel[j * p.size + i];
          if (kv == 0.0f) continue;
          for (size_t e = 0; e < row; e++) facc[e] += kv * static_cast<float>(q[e]);
        }
      }
    }
    uint8_t* out = dst + y * row;
    if (p.integer) ConvolveIntRow(p, iacc, row, out);
    else
      for (size_t e = 0; e < row; e++) out[e] = Level(facc[e] / p.fdivisor + p.foffset);
  }
}

namespace {

/** √(gx² + gy²) rounded half up, clamped to 255. */
BP_INLINE uint8_t SobelLevel(int32_t gx, int32_t gy) {
  // Every n above 255² + 255 = 65280 gives 255 (√n ≥ 255.5…), so n is clamped to 65281 first. For
  // n ≤ 65281, n and √n + ½ are exact enough in float: sqrtf is correctly rounded (error < 2^-17
  // near 256, and the + ½ adds as much), while √n is never within 1/2044 of a half-integer (k² + k
  // is the nearest n below (k + ½)², and k + ½ − √(k² + k) > 1/(8k + 4)) — so ⌊sqrtf(n) + ½⌋ is
  // exactly √n rounded half up, the oracle's ⌊√n + ½⌋ in float64 (test/unit/image-ops checks every n).
  int32_t n = gx * gx + gy * gy;
  n = n < 65281 ? n : 65281;
  const int32_t k = static_cast<int32_t>(__builtin_sqrtf(static_cast<float>(n)) + 0.5f);
  return static_cast<uint8_t>(k < 255 ? k : 255);
}

/** The Sobel value at element m of row r1 with neighbours at elements l and r (clamped by the caller). */
BP_INLINE uint8_t SobelAt(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, size_t l, size_t m, size_t r) {
  const int32_t gx = (r0[r] + 2 * r1[r] + r2[r]) - (r0[l] + 2 * r1[l] + r2[l]);
  const int32_t gy = (r2[l] + 2 * r2[m] + r2[r]) - (r0[l] + 2 * r0[m] + r0[r]);
  return SobelLevel(gx, gy);
}

/**
 * One pass, row by row, straight from the source: the interior elements in a loop with no clamping
 * (columns x−1, x, x+1 are e − C, e, e + C), the first and last pixel of each row through clamped
 * columns — no padded copy of the frame. The same integers as the oracle, so the same bytes.
 */
BP_INLINE void SobelImpl(const uint8_t* src, uint8_t* __restrict dst, FrameShape s) {
  const size_t row = s.Row(), c = s.channels, last = row - c;
  for (size_t y = 0; y < s.height; y++) {
    const uint8_t* r0 = src + ClampRow(static_cast<std::ptrdiff_t>(y) - 1, s.height) * row;
    const uint8_t* r1 = src + y * row;
    const uint8_t* r2 = src + ClampRow(static_cast<std::ptrdiff_t>(y + 1), s.height) * row;
    uint8_t* __restrict out = dst + y * row;
    for (size_t ch = 0; ch < c; ch++) {
      out[ch] = SobelAt(r0, r1, r2, ch, ch, s.width > 1 ? ch + c : ch);
      out[last + ch] = SobelAt(r0, r1, r2, s.width > 1 ? last + ch - c : last + ch, last + ch, last + ch);
    }
    for (size_t e = c; e < last; e++) {
      const int32_t gx = (r0[e + c] + 2 * r1[e + c] + r2[e + c]) - (r0[e - c] + 2 * r1[e - c] + r2[e - c]);
      const int32_t gy = (r2[e - c] + 2 * r2[e] + r2[e + c]) - (r0[e - c] + 2 * r0[e] + r0[e + c]);
      out[e] = SobelLevel(gx, gy);
    }
  }
}

}  // namespace

BP_DISPATCH(SobelFrame, SobelImpl, (const uint8_t* src, uint8_t* dst, FrameShape s), (src, dst, s))

BP_CLONES void DownscaleFrame(const uint8_t* src, uint8_t* dst, FrameShape s, size_t f, uint32_t* __restrict acc) {
  const size_t row = s.Row(), c = s.channels, ow = s.width / f, oh = s.height / f, used = ow * f * c;
  const uint32_t area = static_cast<uint32_t>(f * f);
  for (size_t oy = 0; oy < oh; oy++) {
    std::memset(acc, 0, used * sizeof(uint32_t));
    for (size_t dy = 0; dy < f; dy++) {
      const uint8_t* r = src + (oy * f + dy) * row;
      for (size_t e = 0; e < used; e++) acc[e] += r[e];
    }
    uint8_t* out = dst + oy * ow * c;
    for (size_t ox = 0; ox < ow; ox++) {
      for (size_t ch = 0; ch < c; ch++) {
        uint64_t sum = 0;
        for (size_t dx = 0; dx < f; dx++) sum += acc[(ox * f + dx) * c + ch];
        out[ox * c + ch] = static_cast<uint8_t>((2 * sum + area) / (2 * static_cast<uint64_t>(area)));
      }
    }
  }
}

void CropFrame(const uint8_t* src, uint8_t* dst, FrameShape s, size_t x, size_t y, size_t width, size_t height) {
  const size_t c = s.channels;
  for (size_t r = 0; r < height; r++) std::memcpy(dst + r * width * c, src + ((y + r) * s.width + x) * c, width * c);
}

void FrameHistogram(const uint8_t* src, FrameShape s, double* counts, uint64_t* scratch) {
  const size_t c = s.channels, n = s.width * s.height;
  std::memset(scratch, 0, c * 256 * sizeof(uint64_t));
  for (size_t i = 0; i < n; i++) {
    for (size_t ch = 0; ch < c; ch++) scratch[ch * 256 + src[i * c + ch]]++;
  }
  for (size_t b = 0; b < c * 256; b++) counts[b] += static_cast<double>(scratch[b]);
}

}  // namespace bigproc
