// lut.cc — LutFrame (image_kernels.h): dst[i] = table[src[i]], the alpha bytes copied when asked.
// With AVX-512 VBMI a 256-entry table is four 64-byte registers: `vpermi2b` looks a byte up in two of
// them (its index's bits 0–6), so two lookups and a blend on the index's top bit (vpmovb2m) map 64
// bytes; the frame's last bytes go through the same lookup with masked loads and stores. Elsewhere the
// scalar loop (target_clones) is the portable baseline. Both give the table's bytes, so the same frame.
#include <cstddef>
#include <cstdint>

#include "cpu.h"
#include "image_kernels.h"

#if BP_HAVE_CLONES
#include <immintrin.h>
#endif

namespace bigproc {

namespace {

BP_CLONES void LutScalar(const uint8_t* __restrict src, uint8_t* __restrict dst, size_t n, const uint8_t* table, bool keepAlpha) {
  for (size_t i = 0; i < n; i++) dst[i] = table[src[i]];
  if (keepAlpha) {
    for (size_t i = 3; i < n; i += 4) dst[i] = src[i];
  }
}

}  // namespace

#if BP_HAVE_CLONES
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vbmi")
namespace lut_vbmi {

struct Table {
  __m512i t0, t1, t2, t3;  // entries 0–63, 64–127, 128–191, 192–255
  __mmask64 alpha;         // the bytes kept from the source: every fourth (3, 7, …) or none
};

BP_INLINE __m512i Look(const Table& t, __m512i x) {
  const __m512i low = _mm512_permutex2var_epi8(t.t0, x, t.t1), high = _mm512_permutex2var_epi8(t.t2, x, t.t3);
  return _mm512_mask_blend_epi8(t.alpha, _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), low, high), x);
}

void Lut(const uint8_t* __restrict src, uint8_t* __restrict dst, size_t n, const uint8_t* table, bool keepAlpha) {
  // 64 is a multiple of 4, so the alpha bytes sit at the same places in every vector
  const Table t{_mm512_loadu_si512(table), _mm512_loadu_si512(table + 64), _mm512_loadu_si512(table + 128), _mm512_loadu_si512(table + 192),
                keepAlpha ? __mmask64{0x8888888888888888ull} : __mmask64{0}};
  size_t i = 0;
  for (; i + 64 <= n; i += 64) _mm512_storeu_si512(dst + i, Look(t, _mm512_loadu_si512(src + i)));
  if (i < n) {
    const __mmask64 rest = (__mmask64{1} << (n - i)) - 1;  // n − i < 64
    _mm512_mask_storeu_epi8(dst + i, rest, Look(t, _mm512_maskz_loadu_epi8(rest, src + i)));
  }
}

}  // namespace lut_vbmi
#pragma GCC pop_options
#endif

void LutFrame(const uint8_t* src, uint8_t* dst, FrameShape s, const uint8_t* table, bool keepAlpha) {
  const bool alpha = keepAlpha && s.channels == 4;
#if BP_HAVE_CLONES
  if (ImageKernelIsa() == ImageIsa::Avx512Vbmi) return lut_vbmi::Lut(src, dst, s.Bytes(), table, alpha);
#endif
  LutScalar(src, dst, s.Bytes(), table, alpha);
}

}  // namespace bigproc
