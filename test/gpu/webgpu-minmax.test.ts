// The WebGPU minmax kernel against the JS op (the oracle native is tested equal to): every numeric type,
// both byte orders, aligned and unaligned fields, several fields in one kernel, values including NaN
// (odd payloads), ±0 (−0 the min and +0 the max), ±Inf, subnormals, the type's limits and 64-bit
// integers past 2^53; chunks spanning many workgroups and a last, partial one; all-NaN fields.
// Runs for real on whatever adapter answers (llvmpipe in CI); BIGPROC_TEST_NO_WEBGPU=1 is the only skip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWebGpu } from '../../src/gpu/webgpu/device.js';
import type { GpuDevice } from '../../src/gpu/device.js';
import { type MinMaxAcc, type MinMaxSpec, minmax } from '../../src/ops/minmax.js';
import { parseSchema } from '../../src/layout/schema.js';

const optOut = process.env.BIGPROC_TEST_NO_WEBGPU === '1';
let device: GpuDevice;
beforeAll(async () => {
  if (!optOut) device = await openWebGpu();
}, 30_000);
afterAll(() => device?.close());

const TYPES = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64'] as const;
const SIZE: Record<string, number> = { i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, i64: 8, u64: 8, f32: 4, f64: 8 };

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

/** Random bytes with special bit patterns (big-endian lists, written in the layout's order) planted in field a. */
function data(type: string, big: boolean, rs: number, offset: number, n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const buf = new Uint8Array(n * rs);
  for (let i = 0; i < buf.length; i++) buf[i] = r() & 0xff;
  const w = SIZE[type]!;
  const f64 = [
    '0000000000000000',
    '8000000000000000',
    '7ff0000000000000',
    'fff0000000000000',
    '7ff8000000000001',
    'ffffffffffffffff',
    '0000000000000001',
    '8000000000000001',
  ];
  const f32 = ['00000000', '80000000', '7f800000', 'ff800000', '7fc00001', 'ffffffff', '00000001', '80000001'];
  const ints = ['00'.repeat(w), 'ff'.repeat(w), `80${'00'.repeat(w - 1)}`, `7f${'ff'.repeat(w - 1)}`];
  const list = type === 'f64' ? f64 : type === 'f32' ? f32 : ints;
  for (let i = 0; i < n; i += 5) {
    const hex = list[(i / 5 + seed) % list.length]!;
    const bytes = hex.match(/../g)!.map((h) => Number.parseInt(h, 16));
    buf.set(big ? bytes : bytes.reverse(), i * rs + offset);
  }
  return buf;
}

const chunk = (spec: MinMaxSpec, bytes: Uint8Array, records: number, recordSize: number) => ({
  op: 'minmax',
  spec,
  bytes,
  records,
  recordSize,
  firstRecord: 0,
  wantOutput: false,
});

function same(got: MinMaxAcc[], want: MinMaxAcc[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect([g.count, g.nan]).toEqual([w.count, w.nan]);
    expect(Object.is(g.min, w.min), `field ${i} min ${String(g.min)} vs ${String(w.min)}`).toBe(true);
    expect(Object.is(g.max, w.max), `field ${i} max ${String(g.max)} vs ${String(w.max)}`).toBe(true);
  });
}

async function check(schema: string, buf: Uint8Array, records: number) {
  const layout = parseSchema(schema);
  const spec = minmax.prepare({}, layout, () => Promise.reject(new Error('no pre-pass'))) as MinMaxSpec;
  expect(device.refuses('minmax', spec)).toBeNull();
  const got = (await device.run(chunk(spec, buf, records, layout.recordSize))).partial as MinMaxAcc[];
  const dv = new DataView(buf.buffer, buf.byteOffset, records * layout.recordSize);
  same(got, minmax.js(spec, { bytes: dv, records, recordSize: layout.recordSize }, false).partial);
}

describe.skipIf(optOut)('WebGPU minmax vs the JS op', () => {
  for (const type of TYPES) {
    it(`${type}: both byte orders, aligned and not, with a second field`, { timeout: 30_000 }, async () => {
      for (const big of [false, true]) {
        for (const pad of [0, 3]) {
          const schema = `${big ? '>' : ''}${pad ? `pad<${pad}>,` : ''}a:${type},b:${type},c:f64`;
          const rs = parseSchema(schema).recordSize;
          for (const n of [1, 7, 1025, 5000]) await check(schema, data(type, big, rs, pad, n, n + pad), n);
        }
      }
    });
  }

  it('zeros only: −0 is the min and +0 the max; NaN only: count 0 and no min or max', async () => {
    const buf = new Uint8Array(16 * 300);
    const dv = new DataView(buf.buffer);
    for (let i = 0; i < 300; i++) {
      dv.setFloat64(i * 16, i % 2 ? -0 : 0, true);
      dv.setFloat64(i * 16 + 8, NaN, true);
    }
    const layout = parseSchema('z:f64,n:f64');
    const spec = minmax.prepare({}, layout, () => Promise.reject(new Error('no pre-pass'))) as MinMaxSpec;
    const got = (await device.run(chunk(spec, buf, 300, 16))).partial as MinMaxAcc[];
    expect(Object.is(got[0]!.min, -0) && Object.is(got[0]!.max, 0)).toBe(true);
    expect(got[1]).toEqual({ count: 0, nan: 300, min: null, max: null });
  });
});
