// The image reduce steps as one more gpu.js kernel at the end of a chain, exact in f32: each thread
// reduces one segment of a frame's channel, small enough that every partial is an integer below 2^24
// (framestats: 256 pixels, Σv² ≤ 256·255² < 2^24; histogram: 4096 pixels per count), and the CPU adds
// the segments' partials as exact integers. std is computed from Σv and Σv² at finalize, as on the CPU.
import type { ReduceName, Shape } from '../../image/steps.js';
import type { KernelSource } from './image-kernels.js';

/** pixels per framestats segment: 256 · 255² = 16 646 400 < 2^24 */
const STATS_SEGMENT = 256;
/** pixels per histogram segment */
const HIST_SEGMENT = 4096;

const segmentsOf = (s: Shape, segment: number) => Math.ceil((s.width * s.height) / segment);

/** Thread i → (frame f, channel ch, segment seg, slot k of `slots`); base = frame f's first value. */
function locate(s: Shape, segments: number, slots: number): string {
  const perFrame = s.channels * segments * slots;
  return `const i = this.thread.x;
  const f = idiv(i, ${perFrame});
  const r = i - f * ${perFrame};
  const ch = idiv(r, ${segments * slots});
  const r2 = r - ch * ${segments * slots};
  const seg = idiv(r2, ${slots});
  const k = r2 - seg * ${slots};
  const base = f * ${s.width * s.height * s.channels};`;
}

/** Per (frame, channel, segment): Σv, Σv², min, max (k = 0…3) over the segment's pixels. */
function framestats(s: Shape): KernelSource {
  const segments = segmentsOf(s, STATS_SEGMENT);
  const source = `function (src) {
  ${locate(s, segments, 4)}
  let sum = 0;
  let sumsq = 0;
  let mn = 255;
  let mx = 0;
  for (let j = 0; j < ${STATS_SEGMENT}; j++) {
    const p = seg * ${STATS_SEGMENT} + j;
    if (p < ${s.width * s.height}) {
      const v = src[base + p * ${s.channels} + ch];
      sum = sum + v;
      sumsq = sumsq + v * v;
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
  }
  if (k == 0) { return sum; }
  if (k == 1) { return sumsq; }
  if (k == 2) { return mn; }
  return mx;
}`;
  return { source, outSize: s.channels * segments * 4 };
}

/** Per (frame, channel, bin k, segment): how many of the segment's pixels hold level k. */
function histogram(s: Shape): KernelSource {
  const segments = segmentsOf(s, HIST_SEGMENT);
  const perFrame = s.channels * 256 * segments;
  const source = `function (src) {
  const i = this.thread.x;
  const f = idiv(i, ${perFrame});
  const r = i - f * ${perFrame};
  const ch = idiv(r, ${256 * segments});
  const r2 = r - ch * ${256 * segments};
  const bin = idiv(r2, ${segments});
  const seg = r2 - bin * ${segments};
  const base = f * ${s.width * s.height * s.channels};
  let c = 0;
  for (let j = 0; j < ${HIST_SEGMENT}; j++) {
    const p = seg * ${HIST_SEGMENT} + j;
    if (p < ${s.width * s.height}) {
      if (src[base + p * ${s.channels} + ch] == bin) { c = c + 1; }
    }
  }
  return c;
}`;
  return { source, outSize: perFrame };
}

export function reduceKernel(reduce: ReduceName, s: Shape): KernelSource {
  return reduce === 'framestats' ? framestats(s) : histogram(s);
}

/**
 * The kernel's values for `frames` frames → the CPU's partial values: per frame [Σv, Σv², min, max] per
 * channel (framestats), or 256 counts per channel added into `into` at `at` (histogram).
 */
export function foldFramestats(values: Float32Array, frames: number, s: Shape, out: number[]): void {
  const segments = segmentsOf(s, STATS_SEGMENT);
  for (let f = 0; f < frames; f++)
    for (let ch = 0; ch < s.channels; ch++) {
      let sum = 0;
      let sumsq = 0;
      let min = 255;
      let max = 0;
      for (let seg = 0, at = (f * s.channels + ch) * segments * 4; seg < segments; seg++, at += 4) {
        sum += values[at]!;
        sumsq += values[at + 1]!;
        min = Math.min(min, values[at + 2]!);
        max = Math.max(max, values[at + 3]!);
      }
      out.push(sum, sumsq, min, max);
    }
}

/** Frame f's histogram (256 bins per channel) added into counts[at…]. */
export function foldHistogram(values: Float32Array, f: number, s: Shape, counts: number[], at: number): void {
  const segments = segmentsOf(s, HIST_SEGMENT);
  const frame = f * s.channels * 256 * segments;
  for (let b = 0; b < s.channels * 256; b++) {
    let c = 0;
    for (let seg = 0; seg < segments; seg++) c += values[frame + b * segments + seg]!;
    counts[at + b] = counts[at + b]! + c;
  }
}
