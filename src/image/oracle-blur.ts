// The blur, defined: a separable Gaussian in integer arithmetic that every backend computes to the same
// bit — native SIMD (16-bit lanes: pair adds and rounding high multiplies, x86 `pmulhrsw`, NEON
// `vqrdmulh`), WGSL in u32 and gpu.js in float32 with every intermediate below 2^24 — so a breaker
// moving chunks between backends never mixes two roundings. This file is that definition, and the
// float64 Gaussian it approximates: within one level on every frame for σ ≤ 16 (blurErrorBound < 1).
//
// With V_0…V_r the pair weights (blurTaps: Q15, sum 2^14), edges clamped, per channel, pairs
//   x_k = p(y−k) + p(y+k) down the column (x_0 = 2·p(y)), x'_k = S1(x−k) + S1(x+k) along the row:
// rounding 'term' (radius ≤ 48, blurRounding), every term rounded:
//   pass 1, columns:  S1 = Σ_k ⌊(x_k·V_k + 2^8) / 2^9⌋                 (levels × 2^6; S1 ≤ 16383)
//   pass 2, rows:     S2 = Σ_k ⌊(x'_k·V_k + 2^14) / 2^15⌋               (x'_k ≤ 32766)
//                     out = min(255, ⌊(S2 + 2^5) / 2^6⌋)
//   each ⌊(a·V + 2^14) / 2^15⌋ (a < 2^15, V ≤ 2^14) is one rounding high multiply; pass 1's a is x_k·2^6.
// rounding 'sum' (radius > 48, where r + 1 rounded terms could shift a flat frame by a level):
//   pass 1:           S1 = ⌊(Σ_k x_k·V_k + 2^8) / 2^9⌋                  (≤ 16320)
//   pass 2:           out = ⌊(Σ_k x'_k·V_k + 2^20) / 2^21⌋              (≤ 255; the sum < 2^30)
// Every operand is a non-negative integer below 2^31.
import type { Shape } from './steps.js';

const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** Fractional bits of the first pass's output S1 (levels × 2^6). */
export const BLUR_FRAC = 6;

/** One rounded term, ⌊(a·v + 2^14) / 2^15⌋: a rounding high multiply. */
const term = (a: number, v: number) => (a * v + 16384) >> 15;

/** The blur as defined above. */
export function blurJs(src: Uint8Array, s: Shape, taps: number[], rounding: 'term' | 'sum'): Uint8Array {
  const { width: w, height: h, channels: c } = s;
  const row = w * c;
  const r = taps.length - 1;
  const perTerm = rounding === 'term';
  const cols = new Int32Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < row; i++) {
      let sum = 0;
      for (let k = 0; k <= r; k++) {
        const x = src[clampIndex(y - k, h) * row + i]! + src[clampIndex(y + k, h) * row + i]!;
        sum += perTerm ? term(x << BLUR_FRAC, taps[k]!) : x * taps[k]!;
      }
      cols[y * row + i] = perTerm ? sum : (sum + 256) >> 9;
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
          sum += perTerm ? term(a, taps[k]!) : a * taps[k]!;
        }
        out[line + x * c + ch] = perTerm ? Math.min(255, (sum + 32) >> 6) : (sum + 2 ** 20) >>> 21;
      }
    }
  }
  return out;
}

/**
 * A bound on |the value before the last rounding − the float64 Gaussian's exact value|, in levels, over
 * every input: the rounded terms ('term': r + 1 per pass, each within half of 2^−6; 'sum': pass 1's one
 * rounding), and the weights' quantisation, |Σ x_k·(V_k − e_k)|/2^15 with Σ(V_k − e_k) = 0 and x_k
 * within 255 (pass 1) or just above 256 (pass 2) of its middle. Below 1, the integer blur is within one
 * level of the rounded float64 blur for every frame.
 */
export function blurErrorBound(weights: number[], taps: number[], rounding: 'term' | 'sum'): number {
  const r = taps.length - 1;
  let quant = 0;
  for (let k = 0; k <= r; k++) quant += Math.abs(taps[k]! - weights[r + k]! * (k === 0 ? 2 ** 14 : 2 ** 15));
  const rounded = rounding === 'term' ? (r + 1) / 2 ** BLUR_FRAC : 1 / 2 ** (BLUR_FRAC + 1);
  return rounded + ((255 + 256 + rounded) * quant) / 2 ** 15;
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
