// The JS oracle: a chain's map steps applied one frame at a time, and the reduce values of a frame.
// The native kernels (native/image*.cc) are tested against these.
import { cropJs, downscaleJs, greyJs, lutJs } from './oracle-point.js';
import { blurJs } from './oracle-blur.js';
import { convolveJs, sobelJs } from './oracle-filter.js';
import type { ImageChain, MapStep, Shape } from './steps.js';

export function applyStep(step: MapStep, src: Uint8Array, s: Shape): Uint8Array {
  switch (step.op) {
    case 'grey':
      return greyJs(src, s);
    case 'lut':
      return lutJs(src, s, step.table, step.keepAlpha);
    case 'blur':
      return blurJs(src, s, step.taps, step.rounding);
    case 'convolve':
      return convolveJs(src, s, step);
    case 'sobel':
      return sobelJs(src, s);
    case 'downscale':
      return downscaleJs(src, s, step.factor);
    case 'crop':
      return cropJs(src, s, step.x, step.y, step.width, step.height);
  }
}

/** One frame through every map step of the chain. */
export function applyChain(chain: ImageChain, frame: Uint8Array): Uint8Array {
  let cur = frame;
  chain.steps.forEach((step, i) => {
    cur = applyStep(step, cur, chain.shapes[i]!);
  });
  return cur;
}

/** framestats of one frame: per channel [Σv, Σv², min, max] (exact integers), channel after channel. */
export function frameStatsJs(frame: Uint8Array, s: Shape): number[] {
  const c = s.channels;
  const out: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    let sumsq = 0;
    let min = 255;
    let max = 0;
    for (let i = ch; i < frame.length; i += c) {
      const v = frame[i]!;
      sum += v;
      sumsq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    out.push(sum, sumsq, min, max);
  }
  return out;
}

/** Add one frame's 256 bins per channel (channel after channel) into `counts`. */
export function histogramJs(frame: Uint8Array, s: Shape, counts: number[], at = 0): void {
  const c = s.channels;
  for (let i = 0; i < frame.length; i++) counts[at + (i % c) * 256 + frame[i]!]!++;
}
