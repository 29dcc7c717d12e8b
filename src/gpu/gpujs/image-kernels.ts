// gpu.js kernel sources for the image map steps, one per step at a given input shape, as strings (a
// bundler may rewrite a real function's text; gpu.js parses the text). Every kernel works on a flat
// array of several frames: thread i is value i of the output frames, so its frame, row, column and
// channel come from exact integer division. GLSL ES 1.0 has only f32 here, so the integer steps (blur's
// integer definition among them) are written so that every intermediate is an integer below 2^24 (exact in f32), and divisions are
// corrected by their remainder (a GPU's division need not be correctly rounded). The limits that
// keep them exact are checked by gpuJsRefusesStep.
import type { MapStep, Shape } from '../../image/steps.js';

/** Values (input or output) one kernel call may touch: indices stay exact in f32 well below 2^24. */
export const MAX_VALUES_PER_CALL = 2 ** 23;
const EXACT = 2 ** 24;

/** ⌊a / b⌋ for integers a, b > 0 with |a| < 2^24, exact whatever the GPU's division rounds to. */
export const IDIV = `function idiv(a, b) {
  let q = Math.floor(a / b);
  const r = a - q * b;
  if (r < 0) { q = q - 1; }
  if (r >= b) { q = q + 1; }
  return q;
}`;

/** A float result as a level: clamped to 0…255, rounded half up (as the oracle's level()). */
export const LEVEL = `function level(v) {
  return Math.floor(Math.min(Math.max(v, 0), 255) + 0.5);
}`;

/** One kernel of a step: its source, and its second argument (a table or weights) when it has one. */
export interface KernelSource {
  source: string;
  aux?: Float32Array;
  /** values per output frame */
  outSize: number;
}

/** Thread i → frame f, row y, column x, channel ch of the output shape `o`; base = frame f's first input value. */
function locate(o: Shape, inSize: number): string {
  const row = o.width * o.channels;
  return `const i = this.thread.x;
  const f = idiv(i, ${o.width * o.height * o.channels});
  const r = i - f * ${o.width * o.height * o.channels};
  const y = idiv(r, ${row});
  const r2 = r - y * ${row};
  const x = idiv(r2, ${o.channels});
  const ch = r2 - x * ${o.channels};
  const base = f * ${inSize};`;
}

const kernel = (args: string, body: string) => `function (${args}) {\n  ${body}\n}`;
const size = (s: Shape) => s.width * s.height * s.channels;
const clampX = (e: string, s: Shape) => `Math.min(Math.max(${e}, 0), ${s.width - 1})`;
const clampY = (e: string, s: Shape) => `Math.min(Math.max(${e}, 0), ${s.height - 1})`;
/** The input value at column xe, row ye (expressions) of the current frame and channel. */
const at = (s: Shape, xe: string, ye: string) => `src[base + ((${ye}) * ${s.width} + (${xe})) * ${s.channels} + ch]`;

function grey(s: Shape): KernelSource[] {
  const o = { ...s, channels: 1 };
  if (s.channels === 1) return [{ source: kernel('src', 'return src[this.thread.x];'), outSize: size(o) }];
  const body = `${locate(o, size(s))}
  const p = base + (y * ${s.width} + x) * ${s.channels};
  const s = 19595 * src[p] + 38470 * src[p + 1] + 7471 * src[p + 2] + 32768;
  return idiv(s, 65536);`;
  return [{ source: kernel('src', body), outSize: size(o) }];
}

function lut(s: Shape, table: number[], keepAlpha: boolean): KernelSource[] {
  const alpha = keepAlpha && s.channels === 4;
  const body = alpha
    ? `${locate(s, size(s))}
  if (ch == 3) { return src[i]; }
  return tbl[src[i]];`
    : 'return tbl[src[this.thread.x]];';
  return [{ source: kernel('src, tbl', body), aux: Float32Array.from(table), outSize: size(s) }];
}

/**
 * The integer blur (oracle-blur.ts) in f32, exact because every intermediate is an integer below 2^24
 * and the only divisions are by powers of two (written as products with their exact reciprocals) under
 * a floor. Pass 1, columns: x·V ≤ 510·2^14 < 2^24; per term S1 = Σ ⌊(x·V + 2^8) / 2^9⌋, per sum
 * ⌊(Σ x·V + 2^8) / 2^9⌋ (the sum ≤ 510·2^14 too). Pass 2, rows: x'·V reaches 5.4e8, so V = Vh·128 + Vl
 * (Vh ≤ 128, Vl < 128): per term ⌊(x'·V + 2^14) / 2^15⌋ = ⌊(x'·Vh + ⌊(x'·Vl + 2^14) / 128⌋) / 256⌋;
 * per sum Σ x'·V = 128·hi + lo with the carry out of lo moved into hi after every term (lo < 128), and
 * ⌊(128·hi + lo + 2^20) / 2^21⌋ = ⌊(hi + 2^13) / 2^14⌋ — every term below 2^24.
 */
function blur(s: Shape, taps: number[], rounding: 'term' | 'sum'): KernelSource[] {
  const n = taps.length;
  const pair = (xe: (k: string) => string, ye: (k: string) => string) =>
    `${at(s, xe('- k'), ye('- k'))} + ${at(s, xe('+ k'), ye('+ k'))}`;
  const colPair = pair(
    () => 'x',
    (k) => clampY(`y ${k}`, s),
  );
  const rowPair = pair(
    (k) => clampX(`x ${k}`, s),
    () => 'y',
  );
  const cols =
    rounding === 'term'
      ? `${locate(s, size(s))}
  let sum = 0;
  for (let k = 0; k < ${n}; k++) {
    const v = ${colPair};
    sum += Math.floor((v * vt[k] + 256) * 0.001953125);
  }
  return sum;`
      : `${locate(s, size(s))}
  let sum = 0;
  for (let k = 0; k < ${n}; k++) {
    const v = ${colPair};
    sum += v * vt[k];
  }
  return Math.floor((sum + 256) * 0.001953125);`;
  const rows =
    rounding === 'term'
      ? `${locate(s, size(s))}
  let sum = 0;
  for (let k = 0; k < ${n}; k++) {
    const v = ${rowPair};
    const low = Math.floor((v * vt[k + ${n}] + 16384) * 0.0078125);
    sum += Math.floor((v * vt[k] + low) * 0.00390625);
  }
  return Math.min(Math.floor((sum + 32) * 0.015625), 255);`
      : `${locate(s, size(s))}
  let hi = 0;
  let lo = 0;
  for (let k = 0; k < ${n}; k++) {
    const v = ${rowPair};
    hi += v * vt[k];
    lo += v * vt[k + ${n}];
    const carry = Math.floor(lo * 0.0078125);
    hi += carry;
    lo -= carry * 128;
  }
  return Math.floor((hi + 8192) * 0.00006103515625);`;
  const high = taps.map((v) => Math.floor(v / 128));
  const low = taps.map((v) => v % 128);
  return [
    { source: kernel('src, vt', cols), aux: Float32Array.from(taps), outSize: size(s) },
    { source: kernel('src, vt', rows), aux: Float32Array.from([...high, ...low]), outSize: size(s) },
  ];
}

type Convolve = Extract<MapStep, { op: 'convolve' }>;

function convolve(s: Shape, k: Convolve): KernelSource[] {
  const half = (k.size - 1) / 2;
  const d = Math.abs(k.divisor);
  const sign = k.divisor < 0 ? -1 : 1;
  // integer: the oracle's ⌊(2(S' + O·D') + D') / 2D'⌋, every term an integer below 2^24 (see refuses)
  const finish = k.integer
    ? `Math.min(Math.max(idiv(2 * (${sign} * sum + ${k.offset * d}) + ${d}, ${2 * d}), 0), 255)`
    : `level(sum / ${fmt(k.divisor)} + ${fmt(k.offset)})`;
  const body = `${locate(s, size(s))}
  let sum = 0;
  for (let j = 0; j < ${k.size}; j++) {
    for (let q = 0; q < ${k.size}; q++) {
      sum += kw[j * ${k.size} + q] * ${at(s, clampX(`x + q - ${half}`, s), clampY(`y + j - ${half}`, s))};
    }
  }
  return ${finish};`;
  return [{ source: kernel('src, kw', body), aux: Float32Array.from(k.kernel), outSize: size(s) }];
}

/** A float literal GLSL accepts (gpu.js reads `2` as an integer). */
function fmt(v: number): string {
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** √(gx² + gy²) rounded half up, exact: q is fixed until (q − ½)² ≤ n < (q + ½)² (q = 0 covers 0 ≤ n < ¼), times 4 to stay integral. */
function sobel(s: Shape): KernelSource[] {
  const v = (dx: number, dy: number) =>
    at(s, dx ? clampX(`x + ${dx}`, s) : 'x', dy ? clampY(`y + ${dy}`, s) : 'y').replace(/\+ -/g, '- ');
  const body = `${locate(s, size(s))}
  const gx = ${v(1, -1)} + 2 * ${v(1, 0)} + ${v(1, 1)} - ${v(-1, -1)} - 2 * ${v(-1, 0)} - ${v(-1, 1)};
  const gy = ${v(-1, 1)} + 2 * ${v(0, 1)} + ${v(1, 1)} - ${v(-1, -1)} - 2 * ${v(0, -1)} - ${v(1, -1)};
  const n4 = 4 * (gx * gx + gy * gy);
  let q = Math.floor(Math.sqrt(gx * gx + gy * gy) + 0.5);
  if (4 * q * q + 4 * q + 1 <= n4) { q = q + 1; }
  if (q > 0 && 4 * q * q - 4 * q + 1 > n4) { q = q - 1; }
  return Math.min(q, 255);`;
  return [{ source: kernel('src', body), outSize: size(s) }];
}

function downscale(s: Shape, f: number): KernelSource[] {
  const o = { ...s, width: Math.floor(s.width / f), height: Math.floor(s.height / f) };
  const body = `${locate(o, size(s))}
  let sum = 0;
  for (let dy = 0; dy < ${f}; dy++) {
    for (let dx = 0; dx < ${f}; dx++) {
      sum += ${at(s, `x * ${f} + dx`, `y * ${f} + dy`)};
    }
  }
  return idiv(2 * sum + ${f * f}, ${2 * f * f});`;
  return [{ source: kernel('src', body), outSize: size(o) }];
}

function crop(s: Shape, c: Extract<MapStep, { op: 'crop' }>): KernelSource[] {
  const o = { ...s, width: c.width, height: c.height };
  const body = `${locate(o, size(s))}
  return ${at(s, `x + ${c.x}`, `y + ${c.y}`)};`;
  return [{ source: kernel('src', body), outSize: size(o) }];
}

/** The kernels (one, or two for blur) of `step` on frames of shape `s`. */
export function stepKernels(step: MapStep, s: Shape): KernelSource[] {
  switch (step.op) {
    case 'grey':
      return grey(s);
    case 'lut':
      return lut(s, step.table, step.keepAlpha);
    case 'blur':
      return blur(s, step.taps, step.rounding);
    case 'convolve':
      return convolve(s, step);
    case 'sobel':
      return sobel(s);
    case 'downscale':
      return downscale(s, step.factor);
    case 'crop':
      return crop(s, step);
  }
}

/** null when a kernel may read frames of shape `s` (their indices exact in f32), else why not. */
export function gpuJsRefusesShape(s: Shape): string | null {
  if (size(s) > MAX_VALUES_PER_CALL)
    return `a ${s.width}x${s.height}x${s.channels} frame is over gpu.js's ${MAX_VALUES_PER_CALL} values per call (f32 indices)`;
  return null;
}

/** null when the kernels of `step` are exact (integer steps) or within a level (float steps) in f32, else why not. */
export function gpuJsRefusesStep(step: MapStep, s: Shape): string | null {
  const tooLarge = gpuJsRefusesShape(s);
  if (tooLarge) return tooLarge;
  if (step.op === 'downscale' && 2 * 255 * step.factor ** 2 + step.factor ** 2 >= EXACT)
    return `downscale:${step.factor} sums more than f32 holds exactly (gpu.js takes factors up to 181)`;
  if (step.op === 'convolve' && step.integer) {
    const d = Math.abs(step.divisor);
    const bound = 2 * (255 * step.kernel.reduce((a, b) => a + Math.abs(b), 0) + Math.abs(step.offset) * d) + 2 * d;
    if (bound >= EXACT)
      return 'this integer convolve kernel sums past 2^24, more than f32 holds exactly (gpu.js needs smaller coefficients, divisor and offset)';
  }
  return null;
}
