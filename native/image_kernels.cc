// image_kernels.cc — the per-frame image kernels (see image_kernels.h). Loops run over the elements of
// a row (x·C + channel), so every channel count vectorizes the same way; edge clamping is done once per
// row by padding, not per pixel. No FMA contraction (binding.gyp: -ffp-contract=off) and no fast-math.
#include "image_kernels.h"

#include <cmath>
#include <cstring>

#include "cpu.h"

namespace bigproc {

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

BP_CLONES void LutFrame(const uint8_t* __restrict src, uint8_t* __restrict dst, FrameShape s, const uint8_t* table, bool keepAlpha) {
  const size_t n = s.Bytes();
  for (size_t i = 0; i < n; i++) dst[i] = table[src[i]];
  if (keepAlpha && s.channels == 4) {
    for (size_t i = 3; i < n; i += 4) dst[i] = src[i];
  }
}

BP_CLONES void BlurFrame(const uint8_t* src, uint8_t* __restrict dst, FrameShape s, const float* weights, size_t radius, float* __restrict acc,
                         float* __restrict padded) {
  const size_t row = s.Row(), c = s.channels;
  const float* w = weights + radius;  // w[k] for k = -radius…radius; symmetric
  float* mid = padded + radius * c;
  for (size_t y = 0; y < s.height; y++) {
    // Columns: Σ w[k]·(row(y−k) + row(y+k)), into the middle of the padded row.
    const uint8_t* center = src + y * row;
    for (size_t e = 0; e < row; e++) mid[e] = w[0] * static_cast<float>(center[e]);
    for (size_t k = 1; k <= radius; k++) {
      const uint8_t* a = src + ClampRow(static_cast<std::ptrdiff_t>(y) - static_cast<std::ptrdiff_t>(k), s.height) * row;
      const uint8_t* b = src + ClampRow(static_cast<std::ptrdiff_t>(y + k), s.height) * row;
      const float wk = w[k];
      for (size_t e = 0; e < row; e++) mid[e] += wk * static_cast<float>(a[e] + b[e]);
    }
    for (size_t k = 0; k < radius; k++) {
      for (size_t ch = 0; ch < c; ch++) {
        padded[k * c + ch] = mid[ch];
        mid[row + k * c + ch] = mid[row - c + ch];
      }
    }
    // Rows: the same weights along the padded row.
    for (size_t e = 0; e < row; e++) acc[e] = w[0] * mid[e];
    for (size_t k = 1; k <= radius; k++) {
      const float* l = mid - k * c;
      const float* r = mid + k * c;
      const float wk = w[k];
      for (size_t e = 0; e < row; e++) acc[e] += wk * (l[e] + r[e]);
    }
    uint8_t* out = dst + y * row;
    for (size_t e = 0; e < row; e++) out[e] = Level(acc[e]);
  }
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

BP_CLONES void ConvolveFrame(const uint8_t* src, uint8_t* dst, FrameShape s, const ConvolveParams& p, uint8_t* padded, int32_t* __restrict iacc,
                             float* __restrict facc) {
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

BP_CLONES void SobelFrame(const uint8_t* src, uint8_t* dst, FrameShape s, uint8_t* padded, int32_t* __restrict gx, int32_t* __restrict gy) {
  const size_t row = s.Row(), c = s.channels, prow = (s.width + 2) * c;
  for (size_t y = 0; y < s.height; y++) PadRow(src + y * row, padded + y * prow, s.width, c, 1);
  for (size_t y = 0; y < s.height; y++) {
    const uint8_t* r0 = padded + ClampRow(static_cast<std::ptrdiff_t>(y) - 1, s.height) * prow;
    const uint8_t* r1 = padded + y * prow;
    const uint8_t* r2 = padded + ClampRow(static_cast<std::ptrdiff_t>(y + 1), s.height) * prow;
    for (size_t e = 0; e < row; e++) {
      const size_t l = e, m = e + c, r = e + 2 * c;
      gx[e] = (r0[r] + 2 * r1[r] + r2[r]) - (r0[l] + 2 * r1[l] + r2[l]);
      gy[e] = (r2[l] + 2 * r2[m] + r2[r]) - (r0[l] + 2 * r0[m] + r0[r]);
    }
    uint8_t* out = dst + y * row;
    for (size_t e = 0; e < row; e++) {
      const int32_t n = gx[e] * gx[e] + gy[e] * gy[e];
      // n < 2^22 is exact in float and sqrtf is correctly rounded; the two integer checks make the
      // result exactly the k with k² − k < n ≤ k² + k, i.e. √n rounded half up.
      int32_t k = static_cast<int32_t>(__builtin_sqrtf(static_cast<float>(n)) + 0.5f);
      k += (k * k + k < n) ? 1 : 0;
      k -= (k > 0 && k * k - k >= n) ? 1 : 0;
      out[e] = static_cast<uint8_t>(k < 255 ? k : 255);
    }
  }
}

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

BP_CLONES void FrameStats(const uint8_t* src, FrameShape s, double* out) {
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

void FrameHistogram(const uint8_t* src, FrameShape s, double* counts, uint64_t* scratch) {
  const size_t c = s.channels, n = s.width * s.height;
  std::memset(scratch, 0, c * 256 * sizeof(uint64_t));
  for (size_t i = 0; i < n; i++) {
    for (size_t ch = 0; ch < c; ch++) scratch[ch * 256 + src[i * c + ch]]++;
  }
  for (size_t b = 0; b < c * 256; b++) counts[b] += static_cast<double>(scratch[b]);
}

}  // namespace bigproc
