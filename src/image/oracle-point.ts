// The JS oracle for the integer steps that look at one pixel or one box: grey, the lookup-table ops
// (invert, threshold, levels), downscale and crop. Every result is an exact integer formula, so the
// native kernels must match these bit for bit.
import type { Shape } from './steps.js';

/** BT.601 luma in 16-bit fixed point: weights 19595, 38470, 7471 (sum 65536), round half up. */
export function greyJs(src: Uint8Array, s: Shape): Uint8Array {
  const n = s.width * s.height;
  if (s.channels === 1) return src.slice(0, n);
  const out = new Uint8Array(n);
  const c = s.channels;
  for (let i = 0, p = 0; i < n; i++, p += c)
    out[i] = (19595 * src[p]! + 38470 * src[p + 1]! + 7471 * src[p + 2]! + 32768) >>> 16;
  return out;
}

/** A 256-entry table applied to every value; with keepAlpha and C=4 the fourth channel is copied. */
export function lutJs(src: Uint8Array, s: Shape, table: number[], keepAlpha: boolean): Uint8Array {
  const out = new Uint8Array(s.width * s.height * s.channels);
  const alpha = keepAlpha && s.channels === 4;
  for (let i = 0; i < out.length; i++) out[i] = alpha && (i & 3) === 3 ? src[i]! : table[src[i]!]!;
  return out;
}

/** F×F box average, round half up: ⌊(2·Σ + F²) / 2F²⌋; the trailing columns and rows are dropped. */
export function downscaleJs(src: Uint8Array, s: Shape, f: number): Uint8Array {
  const w = Math.floor(s.width / f);
  const h = Math.floor(s.height / f);
  const c = s.channels;
  const out = new Uint8Array(w * h * c);
  const area = f * f;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let dy = 0; dy < f; dy++) {
          const row = ((y * f + dy) * s.width + x * f) * c + ch;
          for (let dx = 0; dx < f; dx++) sum += src[row + dx * c]!;
        }
        out[(y * w + x) * c + ch] = Math.floor((2 * sum + area) / (2 * area));
      }
    }
  }
  return out;
}

export function cropJs(src: Uint8Array, s: Shape, x: number, y: number, w: number, h: number): Uint8Array {
  const c = s.channels;
  const out = new Uint8Array(w * h * c);
  for (let r = 0; r < h; r++) {
    const from = ((y + r) * s.width + x) * c;
    out.set(src.subarray(from, from + w * c), r * w * c);
  }
  return out;
}
