// The JS oracle for the neighbourhood steps: convolution in float64 (the reference the native float32
// kernels must stay within one level of), integer convolution and Sobel (exact: the native kernels
// match them bit for bit). The blur is in oracle-blur.ts. Edges are clamped: a pixel outside the frame reads as
// the nearest one inside. Per channel; with C=4 the alpha channel is filtered like the others.
import type { Shape } from './steps.js';

const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

/** A float result as a level: clamped to 0…255, rounded half up. */
export function level(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.floor(v + 0.5);
}

export interface ConvolveSpec {
  size: 3 | 5;
  kernel: number[];
  divisor: number;
  offset: number;
  integer: boolean;
}

/**
 * Correlation with a size×size kernel (not flipped). Integer kernels: S = Σ k·v exactly, then the
 * round-half-up quotient ⌊(2(S' + O·D') + D') / 2D'⌋ with D' = |D| (S' the sum with D's sign), as
 * doubles whose operands are exact integers — the native kernel computes the same doubles. Float
 * kernels: S / D + O in float64, then level().
 */
export function convolveJs(src: Uint8Array, s: Shape, k: ConvolveSpec): Uint8Array {
  const { width: w, height: h, channels: c } = s;
  const half = (k.size - 1) / 2;
  const out = new Uint8Array(w * h * c);
  const sign = k.divisor < 0 ? -1 : 1;
  const d = Math.abs(k.divisor);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let j = 0; j < k.size; j++) {
          const row = clampIndex(y + j - half, h) * w;
          for (let i = 0; i < k.size; i++)
            sum += k.kernel[j * k.size + i]! * src[(row + clampIndex(x + i - half, w)) * c + ch]!;
        }
        const v = k.integer ? Math.floor((2 * (sign * sum + k.offset * d) + d) / (2 * d)) : sum / k.divisor + k.offset;
        out[(y * w + x) * c + ch] = level(v);
      }
    }
  }
  return out;
}

/** round(√n) for an integer n ≥ 0, half up: exact, as ⌊√n + ½⌋ in float64 is for n < 2^40. */
export function roundSqrt(n: number): number {
  return Math.floor(Math.sqrt(n) + 0.5);
}

/** Sobel gradient magnitude √(gx² + gy²), rounded half up and clamped to 255; exact. */
export function sobelJs(src: Uint8Array, s: Shape): Uint8Array {
  const { width: w, height: h, channels: c } = s;
  const out = new Uint8Array(w * h * c);
  const at = (x: number, y: number, ch: number) => src[(clampIndex(y, h) * w + clampIndex(x, w)) * c + ch]!;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        const gx =
          at(x + 1, y - 1, ch) +
          2 * at(x + 1, y, ch) +
          at(x + 1, y + 1, ch) -
          at(x - 1, y - 1, ch) -
          2 * at(x - 1, y, ch) -
          at(x - 1, y + 1, ch);
        const gy =
          at(x - 1, y + 1, ch) +
          2 * at(x, y + 1, ch) +
          at(x + 1, y + 1, ch) -
          at(x - 1, y - 1, ch) -
          2 * at(x, y - 1, ch) -
          at(x + 1, y - 1, ch);
        out[(y * w + x) * c + ch] = Math.min(255, roundSqrt(gx * gx + gy * gy));
      }
    }
  }
  return out;
}
