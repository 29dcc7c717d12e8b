// What an image chain is made of, as plain cloneable data sent to every worker and to the native
// kernel: frame shapes and the steps between them. Parsing lives in chain.ts, computing in oracle-*.ts
// (JS) and native/image*.cc (C++).

/** One frame's geometry: width × height pixels of `channels` interleaved u8 values, row-major. */
export interface Shape {
  width: number;
  height: number;
  channels: number;
}

/**
 * A map step (frame → frame).
 * - grey: BT.601 luma (19595·R + 38470·G + 7471·B + 32768) >> 16, alpha dropped; C=1 is copied.
 * - lut: invert, threshold and levels as a 256-entry table; with C=4 the alpha channel is kept.
 * - blur: separable Gaussian in integer arithmetic, columns then rows, edges clamped: `taps` are the
 *   Q15 pair weights V_0…V_radius (sum 2^14, see blurTaps), `rounding` per term or per sum (blurRounding);
 *   `weights` the float64 Gaussian (2·radius+1, sum 1) they were made from. Exact on every backend
 *   (the JS definition: blurJs in oracle-blur.ts).
 * - convolve: a size×size correlation (not flipped), edges clamped; `integer` when kernel, divisor and
 *   offset are all integers (then exact: round half up of S/D + O in integer arithmetic).
 * - sobel: √(gx² + gy²) rounded half up, clamped to 255, per channel, edges clamped (exact).
 * - downscale: factor×factor box average, round half up; trailing rows/columns dropped.
 * - crop: the rectangle x, y, width, height (inside the frame).
 */
export type MapStep =
  | { op: 'grey' }
  | { op: 'lut'; table: number[]; keepAlpha: boolean }
  | { op: 'blur'; sigma: number; radius: number; weights: number[]; taps: number[]; rounding: 'term' | 'sum' }
  | { op: 'convolve'; size: 3 | 5; kernel: number[]; divisor: number; offset: number; integer: boolean }
  | { op: 'sobel' }
  | { op: 'downscale'; factor: number }
  | { op: 'crop'; x: number; y: number; width: number; height: number };

/** What one downscale stage dropped: the right-most columns and bottom rows of its input frame. */
export interface Dropped {
  stage: string;
  columns: number;
  rows: number;
}

export type ReduceName = 'framestats' | 'histogram';

export interface ImageChain {
  /** the chain as the user wrote it, for results and messages */
  text: string;
  /** map steps in order */
  steps: MapStep[];
  /** shapes[0] is the input frame, shapes[i + 1] the frame after steps[i] */
  shapes: Shape[];
  /** a reduce op at the end of the chain, or null when the chain writes frames */
  reduce: ReduceName | null;
  /** trailing columns and rows that downscale steps left out (they did not fill a box) */
  dropped: Dropped[];
}

export const MAP_OPS = [
  'grey',
  'invert',
  'threshold',
  'levels',
  'blur',
  'convolve',
  'sobel',
  'downscale',
  'crop',
] as const;
export const REDUCE_OPS = ['framestats', 'histogram'] as const;

export function frameBytes(s: Shape): number {
  return s.width * s.height * s.channels;
}

/** The frame the chain produces (its input when there are no map steps). */
export function outShape(chain: ImageChain): Shape {
  return chain.shapes[chain.shapes.length - 1]!;
}
