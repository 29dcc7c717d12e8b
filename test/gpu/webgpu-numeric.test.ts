// The WebGPU device's numeric and reduce kernels against the JS ops (the exactness reference native is
// tested equal to): hist for every numeric type on values including NaN, ±0, ±Inf, the type's limits
// and values exactly on (and one step beside) NumPy's edges; count and filter --where with NaN, ±0 and
// ±Inf literals, fractional literals on integer fields, 64-bit integers past 2^53, aligned and unaligned
// fields, both byte orders; framestats and histogram (summed and per frame) after exact map steps.
// Runs for real on whatever adapter answers (llvmpipe in CI); BIGPROC_TEST_NO_WEBGPU=1 is the only skip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWebGpu } from '../../src/gpu/webgpu/device.js';
import type { GpuDevice } from '../../src/gpu/device.js';
import { binEdges, hist, type HistSpec } from '../../src/ops/hist.js';
import { filter } from '../../src/ops/filter.js';
import { count } from '../../src/ops/count.js';
import { compileWhere } from '../../src/ops/lib/where.js';
import { parseSchema } from '../../src/layout/schema.js';
import { fieldSpec } from '../../src/ops/lib/fields.js';
import type { NumericType } from '../../src/layout/types.js';
import { parseChain } from '../../src/image/chain.js';
import { image, type ImageSpec } from '../../src/image/op.js';
import { frameBytes } from '../../src/image/steps.js';

const optOut = process.env.BIGPROC_TEST_NO_WEBGPU === '1';
let device: GpuDevice;
beforeAll(async () => {
  if (!optOut) device = await openWebGpu();
}, 30_000);
afterAll(() => device?.close());

const TYPES: NumericType[] = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64'];
const LIMITS: Record<string, [number, number]> = {
  i8: [-128, 127],
  u8: [0, 255],
  i16: [-32768, 32767],
  u16: [0, 65535],
  i32: [-(2 ** 31), 2 ** 31 - 1],
  u32: [0, 2 ** 32 - 1],
};

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Records of `schema` (field v of `type`, plus w:f64 where asked) holding `values` in v. */
function records(schema: string, values: (number | bigint)[], type: NumericType) {
  const layout = parseSchema(schema);
  const v = layout.fields.find((f) => f.name === 'v')!;
  const size = layout.recordSize;
  const buf = new Uint8Array(values.length * size);
  const dv = new DataView(buf.buffer);
  const le = !layout.bigEndian;
  const r = rng(values.length);
  for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(r() * 256);
  values.forEach((x, i) => {
    const at = i * size + v.offset;
    if (type === 'i64') dv.setBigInt64(at, BigInt(x), le);
    else if (type === 'u64') dv.setBigUint64(at, BigInt(x), le);
    else if (type === 'f32') dv.setFloat32(at, Number(x), le);
    else if (type === 'f64') dv.setFloat64(at, Number(x), le);
    else {
      const setter = `set${{ i: 'Int', u: 'Uint' }[type[0]!]}${type.slice(1)}` as 'setInt32';
      dv[setter](at, Number(x), le);
    }
  });
  return { layout, buf, size };
}

/** Values of `type` around [lo, hi]: the edges and their neighbours, specials, the type's limits, noise. */
function valuesFor(type: NumericType, edges: Float64Array, n: number, seed: number): (number | bigint)[] {
  const r = rng(seed);
  const out: (number | bigint)[] = [];
  const float = type === 'f32' || type === 'f64';
  const big = type === 'i64' || type === 'u64';
  const toType = (x: number): number | bigint | null => {
    if (float) return type === 'f32' ? Math.fround(x) : x;
    if (!Number.isFinite(x)) return null;
    const i = Math.round(x);
    if (big) {
      const b = BigInt(i);
      return type === 'u64' && b < 0n ? null : b;
    }
    const [min, max] = LIMITS[type]!;
    return i < min || i > max ? null : i;
  };
  const specials = float ? [NaN, 0, -0, Infinity, -Infinity, 1e-300, -1e-300, 3.4e38, -3.4e38] : [0, 1, -1];
  if (LIMITS[type]) specials.push(...LIMITS[type]!);
  if (type === 'i64') out.push(-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n);
  if (type === 'u64') out.push(2n ** 64n - 1n, 2n ** 53n + 1n, 2n ** 63n);
  for (const e of [...specials, ...edges]) {
    for (const d of [0, 1, -1, 1e-9 * Math.abs(e)]) {
      const v = toType(d === 0 ? e : e + d); // e itself: -0 + 0 would be +0
      if (v !== null) out.push(v);
    }
  }
  const lo = edges[0]!;
  const span = edges[edges.length - 1]! - lo;
  while (out.length < n) {
    const v = toType(lo - span * 0.2 + r() * span * 1.4);
    if (v !== null) out.push(v);
  }
  return out;
}

const js = (buf: Uint8Array, n: number, size: number) => ({
  bytes: new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
  records: n,
  recordSize: size,
  firstRecord: 0,
});

const gpuChunk = (op: string, spec: unknown, buf: Uint8Array, n: number, size: number, wantOutput = false) => ({
  op,
  spec,
  bytes: buf,
  records: n,
  recordSize: size,
  firstRecord: 0,
  wantOutput,
});

/** Ranges per type: integer edges, fractional edges, one past 2^53 for 64-bit types. */
function ranges(type: NumericType): [number, number, number][] {
  const r: [number, number, number][] = [
    [-10, 30, 8],
    [0.5, 7.25, 7],
    [-3, 3, 1],
  ];
  if (type === 'i64') r.push([-(2 ** 62), 2 ** 62, 9]);
  if (type === 'u64') r.push([2 ** 53, 2 ** 63, 5]);
  if (type === 'f32' || type === 'f64') r.push([-1e-30, 1e30, 3000]);
  if (type === 'u8' || type === 'i8') r.push([100, 300, 6]);
  return r;
}

describe.skipIf(optOut)('WebGPU numeric kernels vs the JS ops', () => {
  for (const type of TYPES) {
    it(`hist ${type}: every bin, below, above and nan as the JS op`, { timeout: 30_000 }, async () => {
      for (const schema of [`c:u8,v:${type},w:f64`, `v:${type},w:f64`, `>c:u8,v:${type}`]) {
        for (const [lo, hi, bins] of ranges(type)) {
          const values = valuesFor(type, binEdges(lo, hi, bins), 3000, bins + lo);
          const { layout, buf, size } = records(schema, values, type);
          const spec: HistSpec = {
            name: 'v',
            field: fieldSpec(layout, layout.fields.find((f) => f.name === 'v')!),
            lo,
            hi,
            bins,
          };
          expect(device.refuses('hist', spec)).toBeNull();
          const got = await device.run(gpuChunk('hist', spec, buf, values.length, size));
          const want = hist.js(spec, js(buf, values.length, size), false);
          expect(got.partial, `${schema} ${lo}:${hi}/${bins}`).toEqual(want.partial);
        }
      }
    });
  }

  const WHERE: Record<string, string[]> = {
    float: [
      'v < 2.5',
      'v >= -0',
      'v == 0',
      'v != nan',
      'v == nan',
      'v > inf',
      'v <= -inf',
      'v != inf',
      'v < 1e-300',
      '!(v == 7) && (v > 1 || w < 0.1)',
      'v > 3.4e38 || v < -3.4e38',
      'v == 0.1',
      'v >= 30',
    ],
    int: [
      'v < 2.5',
      'v >= -1',
      'v == 0',
      'v != 7',
      'v > 9007199254740993',
      'v <= -1e30',
      'v == 3.5',
      'v != nan',
      'v < inf',
      '(v > 1 && v <= 30) || !(w >= 0.5)',
      'v >= 0x7f',
    ],
  };

  for (const type of TYPES) {
    it(`count and filter ${type}: matches and records as the JS ops`, { timeout: 30_000 }, async () => {
      const exprs = WHERE[type.startsWith('f') ? 'float' : 'int']!;
      for (const schema of [`c:u8,v:${type},w:f64`, `>v:${type},w:f64,pad<3>`]) {
        const values = valuesFor(type, binEdges(-10, 30, 8), 2500, 3);
        const { layout, buf, size } = records(schema, values, type);
        for (const where of exprs) {
          const program = compileWhere(where, layout);
          const n = values.length;
          const f = await device.run(gpuChunk('filter', { where, program }, buf, n, size, true));
          const want = filter.js({ where, program }, js(buf, n, size), true);
          expect(f.partial, `${schema} ${where}`).toEqual(want.partial);
          expect(Buffer.from(f.output!).equals(Buffer.from(want.output!)), `${schema} ${where} records`).toBe(true);
          const c = await device.run(gpuChunk('count', { where, program }, buf, n, size));
          expect(c.partial).toEqual(count.js({ where, program }, js(buf, n, size), false).partial);
        }
      }
    });
  }
});

describe.skipIf(optOut)('WebGPU image reduces vs the JS op', () => {
  const SHAPES: [number, number, number][] = [
    [1, 1, 1],
    [3, 7, 3],
    [7, 3, 4],
    [131, 129, 1],
  ];
  for (const text of ['framestats', 'histogram', 'invert|framestats', 'grey|histogram', 'crop:0,0,1,1|framestats']) {
    for (const perFrame of text.endsWith('histogram') ? [false, true] : [false]) {
      it(`${text}${perFrame ? ' --per-frame' : ''} on odd shapes`, { timeout: 30_000 }, async () => {
        for (const [width, height, channels] of SHAPES) {
          if (text.startsWith('grey') && channels === 1) continue;
          const chain = parseChain(text, { width, height, channels });
          const spec: ImageSpec = { chain, perFrame, out: { format: 'raw' }, every: 1, rows: {} };
          expect(device.refuses('image', spec)).toBeNull();
          const size = frameBytes(chain.shapes[0]!);
          const n = 5;
          const buf = new Uint8Array(n * size);
          const r = rng(width * height + channels);
          for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(r() * 256);
          buf.fill(0, 0, Math.min(4, size));
          const got = await device.run(gpuChunk('image', spec, buf, n, size));
          expect(got.partial, `${width}x${height}x${channels}`).toEqual(
            image.js(spec, js(buf, n, size), false).partial,
          );
        }
      });
    }
  }
});
