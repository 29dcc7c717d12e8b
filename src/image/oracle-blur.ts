// The blur, defined: a separable Gaussian in integer arithmetic that every backend computes to the same
// bit — native SIMD (16-bit lanes: pair adds and rounding high multiplies, x86 `pmulhrsw`, NEON
// `vqrdmulh`), WGSL in i32 and gpu.js in float32 with every intermediate below 2^24 — so a breaker
// moving chunks between backends never mixes two roundings. This file is that definition, and the
// float64 Gaussian it approximates: within one level on every frame for σ ≤ 16 (blurErrorBound < 1).
//
// With V_0…V_r the pair weights (blurTaps: Q15, sum 2^14), F the first pass's fractional bits
// (blurFrac: 6, or 5 when r > 126) and D = 15 − F, edges clamped, per channel:
//   pass 1, columns:  x_k = p(y−k) + p(y+k)           (x_0 = 2·p(y))
//                     S1 = Σ_k ⌊(x_k·V_k + 2^(D−1)) / 2^D⌋          (levels × 2^F; S1 ≤ 2^14 − 1)
//   pass 2, rows:     x'_k = S1(x−k) + S1(x+k)       (x'_0 = 2·S1(x); ≤ 32767)
//                     S2 = Σ_k ⌊(x'_k·V_k + 2^14) / 2^15⌋
//   out = min(255, ⌊(S2 + 2^(F−1)) / 2^F⌋)
// Each ⌊(a·V + 2^14) / 2^15⌋ with a < 2^15, V ≤ 2^14 is exactly one rounding high multiply; pass 1's a is
// x_k·2^F. Every operand is a non-negative integer below 2^31.
import type { Shape } from './steps.js';

const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** The blur as defined above: `taps` V_0…V_r, `frac` F. */
export function blurJs(src: Uint8Array, s: Shape, taps: number[], frac: number): Uint8Array {
  const { width: w, height: h, channels: c } = s;
  const row = w * c;
  const r = taps.length - 1;
  const d = 15 - frac;
  const half = 2 ** (d - 1);
  const cols = new Int32Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < row; i++) {
      let sum = 0;
      for (let k = 0; k <= r; k++) {
        const x = src[clampIndex(y - k, h) * row + i]! + src[clampIndex(y + k, h) * row + i]!;
        sum += (x * taps[k]! + half) >> d;
      }
      cols[y * row + i] = sum;
    }
  }
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    const line = y * row;
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let k = 0; k <= r; k++) {
          const a = cols[line + clampIndex(x - k, w) * c + ch]! + cols[line + clampIndex(x + k, w) * c + ch]!;
          sum += (a * taps[k]! + 16384) >> 15;
        }
        out[line + x * c + ch] = Math.min(255, (sum + (1 << (frac - 1))) >> frac);
      }
    }
  }
  return out;
}

/**
 * A bound on |S2/2^F − the float64 Gaussian's exact value|, in levels, over every input: each pass's
 * rounded terms (r + 1 halves of 2^−F), and the weights' quantisation, |Σ x_k·(V_k − e_k)|/2^15 with
 * Σ(V_k − e_k) = 0 and x_k within 255 (pass 1: 0…510; pass 2 just above) of its middle. Below 1, the
 * integer blur is within one level of the rounded float64 blur for every frame.
 */
export function blurErrorBound(weights: number[], taps: number[], frac: number): number {
  const r = taps.length - 1;
  let quant = 0;
  for (let k = 0; k <= r; k++) quant += Math.abs(taps[k]! - weights[r + k]! * (k === 0 ? 2 ** 14 : 2 ** 15));
  const rounding = (r + 1) / 2 ** frac; // both passes: r + 1 terms, each within half a unit of 2^−F
  const midRange = 255 + 256 + (r + 1) / 2 ** frac; // pass 1's x around 255; pass 2's x' around S1's middle
  return rounding + (midRange * quant) / 2 ** 15;
}

/** The float64 Gaussian the integer blur approximates: rows, then columns, no rounding between passes. */
export function blurF64(src: Uint8Array, s: Shape, weights: number[]): Uint8Array {
  const { width: w, height: h, channels: c } = s;
  const r = (weights.length - 1) / 2;
  const tmp = new Float64Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = -r; k <= r; k++) acc += weights[k + r]! * src[(y * w + clampIndex(x + k, w)) * c + ch]!;
        tmp[(y * w + x) * c + ch] = acc;
      }
    }
  }
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < w * c; i++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += weights[k + r]! * tmp[clampIndex(y + k, h) * w * c + i]!;
      out[y * w * c + i] = acc <= 0 ? 0 : acc >= 255 ? 255 : Math.floor(acc + 0.5);
    }
  }
  return out;
}
