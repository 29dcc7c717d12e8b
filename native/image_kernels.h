// image_kernels.h — the image kernels on one frame of u8 pixels (row-major, C channels interleaved),
// with no N-API in sight: plain loops the compiler vectorizes, each hot one built per instruction set
// (BP_CLONES, see cpu.h, or BP_DISPATCH in image_kernels.cc: AVX-512BW with 512-bit vectors, AVX2,
// baseline). The formulas are those of the JS oracle (src/image/oracle-*.ts): integer kernels (the
// blur among them) match it bit for bit, float convolution (float32 here, float64 there) within one level. Buffers are the caller's: a kernel never allocates (it may run under the SIGBUS guard).
#pragma once

#include <cstddef>
#include <cstdint>

namespace bigproc {

/**
 * The instruction set the SIMD image kernels (FrameStats, LutFrame, BlurFrame) run: the CPU's own, lowered
 * by BIGPROC_IMAGE_ISA=avx512|avx2|base (read on each call, so a test can run every loop body on one
 * machine against the JS oracle). Ordered: each level has every instruction the ones below it have.
 */
enum class ImageIsa { Base, Avx2, Avx512, Avx512Vbmi };
ImageIsa ImageKernelIsa();

struct FrameShape {
  size_t width = 0;
  size_t height = 0;
  size_t channels = 0;
  size_t Row() const { return width * channels; }
  size_t Bytes() const { return width * height * channels; }
};

/** BT.601 luma (19595·R + 38470·G + 7471·B + 32768) >> 16 for C = 3 or 4; C = 1 is copied. */
void GreyFrame(const uint8_t* src, uint8_t* dst, FrameShape s);

/** dst[i] = table[src[i]]; with keepAlpha and C = 4 the fourth channel is copied (lut.cc: VBMI or scalar). */
void LutFrame(const uint8_t* src, uint8_t* dst, FrameShape s, const uint8_t* table, bool keepAlpha);

/** What the integer blur needs besides the frame: its definition's numbers and its scratch rows. */
struct BlurBuffers {
  const int16_t* taps = nullptr;  // V_0…V_radius, Q15 pair weights summing to 2^14
  size_t radius = 0;
  bool sums = false;                // rounding per sum (radius > 48), else per term
  size_t strip = 0;                 // output values per vertical strip (the ring's path), from BlurScratch
  int16_t* ring = nullptr;          // BlurScratch's ring values
  int16_t* padded = nullptr;        // BlurScratch's padded values
  const uint8_t** a = nullptr;      // radius + 1 row pointers each (any other radius)
  const uint8_t** b = nullptr;
  int32_t* sums_row = nullptr;      // Row() values (rounding per sum)
};

struct BlurSizes {
  size_t strip, ring, padded;
};

/** The strip width and the scratch BlurFrame needs for frames of shape `s` (values of int16). */
BlurSizes BlurScratch(FrameShape s, size_t radius, bool sums);

/**
 * The integer blur of src/image/oracle-blur.ts, bit for bit: columns then rows, edges clamped, 16-bit
 * lanes (blur.cc).
 */
void BlurFrame(const uint8_t* src, uint8_t* dst, FrameShape s, const BlurBuffers& buf);

struct ConvolveParams {
  size_t size = 3;            // 3 or 5
  const int32_t* ikernel;     // size² integer coefficients (integer kernels)
  const float* fkernel;       // size² float coefficients (float kernels)
  bool integer = true;
  int64_t sign = 1;           // the divisor's sign: S' = sign·S
  int64_t divisor = 1;        // |D| (integer kernels)
  int64_t offset = 0;         // O (integer kernels)
  bool narrow = false;        // 2(|S'| + |O|·D) + D fits an int32 and 2D is a power of two: a shift
  int shift = 0;              // log2(2D) when narrow
  bool bound16 = false;       // narrow, and that bound (and each |k|·255) fits an int16: 16-bit lanes
  float fdivisor = 1, foffset = 0;  // float kernels: S / D + O
};

/**
 * Correlation with a size×size kernel, edges clamped. `padded` holds height rows of
 * (width + size − 1)·C bytes; `iacc` Row() int32 (integer kernels) or `facc` Row() floats.
 */
void ConvolveFrame(const uint8_t* src, uint8_t* dst, FrameShape s, const ConvolveParams& p, uint8_t* padded, int32_t* iacc, float* facc);

/** Sobel magnitude, rounded half up exactly, clamped to 255. */
void SobelFrame(const uint8_t* src, uint8_t* dst, FrameShape s);

/** F×F box average, round half up; `acc` holds Row() uint32. dst is (width / F)×(height / F). */
void DownscaleFrame(const uint8_t* src, uint8_t* dst, FrameShape s, size_t factor, uint32_t* acc);

void CropFrame(const uint8_t* src, uint8_t* dst, FrameShape s, size_t x, size_t y, size_t width, size_t height);

/** Per channel [Σv, Σv², min, max] as doubles (exact integers), channel after channel (framestats.cc). */
void FrameStats(const uint8_t* src, FrameShape s, double* out);

/** Add the frame's 256 bins per channel (channel after channel) to `counts`. */
void FrameHistogram(const uint8_t* src, FrameShape s, double* counts, uint64_t* scratch);

}  // namespace bigproc
