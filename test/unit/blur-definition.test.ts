// The integer blur's definition (src/image/oracle-blur.ts): its weights, its bounds, and how far it
// may stray from the float64 Gaussian it stands for — proved by blurErrorBound for σ ≤ 75, checked on
// frames (noise, hard edges, flat fields) for sigmas on both sides of that.
import { describe, expect, it } from 'vitest';
import { blurRounding, blurTaps, gaussian } from '../../src/image/chain.js';
import { blurErrorBound, blurF64, blurJs } from '../../src/image/oracle-blur.js';

const radiusOf = (sigma: number) => Math.ceil(3 * sigma);

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('the integer blur', () => {
  it('has Q15 pair weights summing to exactly 2^14, none above it; rounds per term up to radius 48', () => {
    for (const sigma of [0.05, 0.1, 0.7, 1, 2, 2.7, 8, 16.6, 42, 42.4, 100]) {
      const r = radiusOf(sigma);
      const taps = blurTaps(gaussian(sigma, r), r);
      expect(taps).toHaveLength(r + 1);
      expect(
        taps.reduce((a, b) => a + b, 0),
        `σ ${sigma}`,
      ).toBe(2 ** 14);
      expect(Math.min(...taps)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...taps)).toBeLessThanOrEqual(2 ** 14);
      expect(blurRounding(r)).toBe(r <= 48 ? 'term' : 'sum');
      // per term, the second pass's pair sums, 2·(255·2^6 + (r + 1)/2), fit an int16
      if (blurRounding(r) === 'term') expect(2 * (255 * 64 + (r + 1) / 2)).toBeLessThanOrEqual(32767);
    }
  });

  it('is provably within one level of the float64 Gaussian for every σ up to 75 (in steps of 0.05)', () => {
    for (let i = 1; i <= 1500; i++) {
      const sigma = i * 0.05;
      const r = radiusOf(sigma);
      const w = gaussian(sigma, r);
      expect(blurErrorBound(w, blurTaps(w, r), blurRounding(r)), `σ ${sigma}`).toBeLessThan(1);
    }
    // rounding each term past radius 48 would lose that: the sums are rounded there for a reason
    const w = gaussian(20, 60);
    expect(blurErrorBound(w, blurTaps(w, 60), 'term')).toBeGreaterThan(1);
  });

  it('keeps flat frames flat and stays within one level of float64 on noise and hard edges', () => {
    const shape = { width: 37, height: 29, channels: 3 };
    const n = shape.width * shape.height * shape.channels;
    const edges = Uint8Array.from({ length: n }, (_, i) =>
      Math.floor(i / 3) % 37 < 18 !== Math.floor(i / 111) < 14 ? 255 : 0,
    );
    for (const sigma of [0.3, 1, 2, 2.6, 5, 12, 16, 16.4, 30, 100]) {
      const r = radiusOf(sigma);
      const w = gaussian(sigma, r);
      const taps = blurTaps(w, r);
      const f = blurRounding(r);
      for (const level of [0, 1, 128, 254, 255]) {
        const flat = new Uint8Array(n).fill(level);
        expect(
          blurJs(flat, shape, taps, f).every((v) => v === level),
          `σ ${sigma} flat ${level}`,
        ).toBe(true);
      }
      for (const frame of [noise(n, 7 + r), edges]) {
        const got = blurJs(frame, shape, taps, f);
        const want = blurF64(frame, shape, w);
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        expect(worst, `σ ${sigma}`).toBeLessThanOrEqual(1);
      }
    }
  });
});
