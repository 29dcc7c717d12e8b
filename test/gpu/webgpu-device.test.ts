// The WebGPU device against the JS oracle, shader by shader and chained, on frames of odd sizes
// (1×1, 3×7, widths that are not a multiple of 4, C = 1/3/4) and on batches that split a chunk.
// Runs for real on whatever adapter answers (llvmpipe in CI); it fails when none does, unless
// BIGPROC_TEST_NO_WEBGPU=1 says this machine has no WebGPU on purpose.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWebGpu } from '../../src/gpu/webgpu/device.js';
import type { GpuDevice } from '../../src/gpu/device.js';
import { parseChain } from '../../src/image/chain.js';
import { applyChain } from '../../src/image/oracle.js';
import { frameBytes, type MapStep, outShape } from '../../src/image/steps.js';
import { BLUR_FRAC } from '../../src/image/oracle-blur.js';
import { blurTrapFrame } from './blur-traps.js';
import type { ImageSpec } from '../../src/image/op.js';

type BlurStep = Extract<MapStep, { op: 'blur' }>;

const optOut = process.env.BIGPROC_TEST_NO_WEBGPU === '1';
let device: GpuDevice;
beforeAll(async () => {
  if (!optOut) device = await openWebGpu();
}, 30_000);
afterAll(() => device?.close());

function frames(n: number, size: number, seed: number): Uint8Array {
  const b = new Uint8Array(n * size);
  let x = seed;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  // extremes too: 0 and 255 runs
  if (b.length > 8) b.fill(255, 0, 4).fill(0, 4, 8);
  return b;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 1, 3],
  [3, 7, 1],
  [3, 7, 3],
  [7, 3, 4],
  [13, 5, 3],
  [17, 9, 4],
];
const EXACT = [
  'grey',
  'invert',
  'threshold:100',
  'levels:20:200',
  'sobel',
  'convolve:1,2,1,2,4,2,1,2,1/16',
  'convolve:0,-1,0,-1,5,-1,0,-1,0',
  'convolve:-1,0,1,-2,0,2,-1,0,1/-3+128',
  'convolve:1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1/25',
  'downscale:2',
  'crop:0,0,1,1',
  'grey|invert|threshold:128',
  // blur is the integer definition (oracle-blur.ts): bit for bit too
  'blur:0.1',
  'blur:0.7',
  'blur:1',
  'blur:2',
  'blur:2.5',
  'blur:2.6',
  'blur:5',
  'grey|blur:2|sobel',
  'blur:1|downscale:2',
];
const FLOAT = ['convolve:0.1,0.2,0.1,0.2,0.4,0.2,0.1,0.2,0.1'];

async function gpuVsOracle(text: string, shape: [number, number, number], n: number, given?: Uint8Array) {
  const [width, height, channels] = shape;
  const chain = parseChain(text, { width, height, channels });
  const spec: ImageSpec = { chain, perFrame: false, out: { format: 'raw' }, every: 1, rows: {} };
  const size = frameBytes(chain.shapes[0]!);
  const input = given ?? frames(n, size, width * 31 + height * 7 + channels);
  expect(device.refuses('image', spec)).toBeNull();
  const r = await device.run({
    op: 'image',
    spec,
    bytes: input,
    records: n,
    recordSize: size,
    firstRecord: 0,
    wantOutput: true,
  });
  const want = new Uint8Array(n * frameBytes(outShape(chain)));
  for (let i = 0; i < n; i++)
    want.set(applyChain(chain, input.subarray(i * size, (i + 1) * size)), i * frameBytes(outShape(chain)));
  expect(r.partial).toEqual({ frames: n, values: [] });
  return { got: r.output!, want };
}

describe.skipIf(optOut)('WebGPU image kernels vs the JS oracle', () => {
  it('names its adapter', () => {
    expect(device.kind).toBe('webgpu');
    expect(device.detail.length).toBeGreaterThan(3);
  });

  it('integer steps are bit-identical on every odd shape', async () => {
    for (const shape of SHAPES) {
      for (const text of EXACT) {
        if (text.includes('downscale') && (shape[0] < 2 || shape[1] < 2)) continue;
        if (text.startsWith('grey|') && shape[2] === 1) continue;
        const { got, want } = await gpuVsOracle(text, shape, 5);
        expect(Buffer.from(got).equals(Buffer.from(want)), `${text} on ${shape.join('x')}`).toBe(true);
      }
    }
  }, 60_000);

  it('blur is bit-identical rounding per term (to radius 48) and per sum (past it), on flat and checkerboard frames, and where f32 would round', async () => {
    const checks: [string, [number, number, number]][] = [
      ['blur:45', [7, 3, 4]],
      ['blur:45', [13, 5, 3]],
      ['blur:45', [281, 277, 1]],
      ['blur:42', [300, 9, 1]],
      ['blur:16', [120, 9, 1]],
    ];
    for (const [text, shape] of checks) {
      const { got, want } = await gpuVsOracle(text, shape, 2);
      expect(Buffer.from(got).equals(Buffer.from(want)), `${text} on ${shape.join('x')}`).toBe(true);
    }
    // the first pass's sums at their top (all 255: S1 = 255·2^F + roundings) and the sharpest edges
    for (const text of ['blur:0.7', 'blur:5', 'blur:45']) {
      const shape: [number, number, number] = [33, 31, 3];
      const size = 33 * 31 * 3;
      const input = new Uint8Array(2 * size).fill(255, 0, size);
      for (let j = 0; j < size; j++) input[size + j] = (Math.floor(j / 3) + Math.floor(j / 99)) % 2 ? 255 : 0;
      const { got, want } = await gpuVsOracle(text, shape, 2, input);
      expect(Buffer.from(got).equals(Buffer.from(want)), `${text} on flat/checkerboard`).toBe(true);
    }
    // where x'·V rounded in f32 would change the byte (u32 arithmetic must not go through floats)
    for (const sigma of ['0.7', '2', '5']) {
      const step = parseChain(`blur:${sigma}`, { width: 1, height: 1, channels: 1 }).steps[0] as BlurStep;
      const trap = blurTrapFrame(step.taps, BLUR_FRAC, 3);
      const { got, want } = await gpuVsOracle(`blur:${sigma}`, [trap.width, 2, 1], 1, trap.bytes);
      expect(Buffer.from(got).equals(Buffer.from(want)), `blur:${sigma} on its f32 trap frame`).toBe(true);
    }
  }, 60_000);

  it('float convolve is within one level of the float64 oracle', async () => {
    for (const shape of SHAPES) {
      for (const text of FLOAT) {
        if (text.includes('downscale') && (shape[0] < 2 || shape[1] < 2)) continue;
        const { got, want } = await gpuVsOracle(text, shape, 3);
        expect(got.length).toBe(want.length);
        let worst = 0;
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        expect(worst, `${text} on ${shape.join('x')}`).toBeLessThanOrEqual(1);
      }
    }
  }, 60_000);

  it('a chunk larger than one batch comes back whole and in order (two buffer sets alternate)', async () => {
    // 256x256x4 frames: a 16 MiB batch holds 64 of them → 2 batches, one per buffer set
    const { got, want } = await gpuVsOracle('invert', [256, 256, 4], 70);
    expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
  }, 60_000);

  it('refuses what it has no kernel for, naming what it runs', () => {
    // framestats has a kernel now (checked against the oracle in webgpu-numeric.test.ts)
    const chain = parseChain('framestats', { width: 4, height: 4, channels: 1 });
    expect(device.refuses('image', { chain, perFrame: false, out: null })).toBeNull();
    expect(device.refuses('stats', {})).toMatch(
      /--op stats has no WebGPU kernel; WebGPU runs image map chains \(grey .*\), framestats, histogram, hist, minmax, count, filter$/,
    );
    expect(device.refuses('hist', { bins: 2 ** 21 })).toMatch(
      /bins up to 1048576 bins, not 2097152: use --backend native/,
    );
  });
});
