// An image chain as WebGPU passes: each map step becomes one dispatch (blur two: columns into u32
// sums, then rows into bytes), with its shader kind, its parameter words and its table (LUT, blur taps,
// kernel). Plain data, built once per spec.
import type { ImageChain, MapStep, Shape } from '../../image/steps.js';
import type { ShaderKind } from './wgsl.js';

export interface GpuPass {
  kind: ShaderKind;
  inShape: Shape;
  outShape: Shape;
  /** a0…a4 of the shader's parameter block */
  args: number[];
  /** the shader's table, as u32 words (float convolve's as their f32 bits) */
  table: Uint32Array;
  /** bytes per output value: 1 (frames), 4 (blur's first-pass column sums) */
  outBytes: 1 | 4;
}

const f32Bits = (values: number[]) => new Uint32Array(new Float32Array(values).buffer);
const i32Bits = (values: number[]) => new Uint32Array(new Int32Array(values).buffer);

/** Integer convolution fits i32 when |2(S + O·D) + D| stays below 2^31 (S ≤ Σ|k|·255). */
export function integerConvolveFits(step: Extract<MapStep, { op: 'convolve' }>): boolean {
  const s = step.kernel.reduce((a, k) => a + Math.abs(k), 0) * 255;
  const d = Math.abs(step.divisor);
  return 2 * (s + Math.abs(step.offset) * d) + d < 2 ** 31;
}

function stepPasses(step: MapStep, inShape: Shape, outShape: Shape): GpuPass[] {
  const pass = (kind: ShaderKind, args: number[] = [], table = new Uint32Array(1)): GpuPass => ({
    kind,
    inShape,
    outShape,
    args,
    table,
    outBytes: 1,
  });
  switch (step.op) {
    case 'grey':
      return [pass('grey')];
    case 'lut':
      return [pass('lut', [step.keepAlpha ? 1 : 0], Uint32Array.from(step.table))];
    case 'downscale':
      return [pass('downscale', [step.factor])];
    case 'crop':
      return [pass('crop', [step.x, step.y])];
    case 'sobel':
      return [pass('sobel')];
    case 'convolve': {
      const d = Math.abs(step.divisor);
      if (step.integer)
        return [
          pass(
            'convolve',
            [step.size, 1, d, step.divisor < 0 ? 0xffffffff : 1, step.offset >>> 0],
            i32Bits(step.kernel),
          ),
        ];
      return [pass('convolve', [step.size, 0], f32Bits([...step.kernel, step.divisor, step.offset]))];
    }
    case 'blur': {
      // the integer blur (oracle-blur.ts): columns into one u32 per value, then rows into bytes
      const taps = Uint32Array.from(step.taps);
      const args = [step.radius, step.rounding === 'sum' ? 1 : 0];
      return [
        { kind: 'blurCols', inShape, outShape: inShape, args, table: taps, outBytes: 4 },
        { kind: 'blurRows', inShape, outShape, args, table: taps, outBytes: 1 },
      ];
    }
  }
}

export function chainPasses(chain: ImageChain): GpuPass[] {
  return chain.steps.flatMap((step, i) => stepPasses(step, chain.shapes[i]!, chain.shapes[i + 1]!));
}

/** Bytes one frame needs in the largest buffer of the chain (input, any pass's output). */
export function peakFrameBytes(chain: ImageChain, passes: GpuPass[]): number {
  const first = chain.shapes[0]!;
  let peak = first.width * first.height * first.channels;
  for (const p of passes)
    peak = Math.max(peak, p.outShape.width * p.outShape.height * p.outShape.channels * p.outBytes);
  return peak;
}
