// The stats op's JS path: exact sums, min/max, mean/std against an exact BigInt reference, and
// merge invariance (any chunking merged in order gives the same partial and the same result).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type FloatAcc,
  type IntAcc,
  type StatsPartial,
  type StatsSpec,
  resolveStatsFields,
  stats,
} from '../../src/ops/stats.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import { BigprocError } from '../../src/errors.js';

/** The std from an exact variance num/den·2^scale: sqrt of the variance rounded to a double, taken at a
 * scale shifted by an even power of two when the variance itself is beyond the normal double range. */
function stdRef(num: bigint, den: bigint, scale: number): number {
  const v = nearestDouble(num, den, scale);
  if (!Number.isFinite(v)) return Math.sqrt(nearestDouble(num, den, scale - 1200)) * 2 ** 600;
  // a variance below the smallest normal double loses bits as a subnormal: take it scaled up
  if (num > 0n && Math.abs(v) < 2 ** -1000) return Math.sqrt(nearestDouble(num, den, scale + 1200)) * 2 ** -600;
  return Math.sqrt(v);
}

// ---- independent helpers ----

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);
const MASK52 = (1n << 52n) - 1n;
const INF_BITS = 0x7ff0000000000000n;
const fromBits = (b: bigint) => {
  U64[0] = b;
  return F64[0]!;
};
const bitsOf = (x: number) => {
  F64[0] = x;
  return U64[0]!;
};

/** exact x · 2^1074 for finite x */
function scaled1074(x: number): bigint {
  const b = bitsOf(Math.abs(x));
  const e = Number(b >> 52n);
  const f = b & MASK52;
  const v = e === 0 ? f : (f | (1n << 52n)) << BigInt(e - 1);
  return x < 0 ? -v : v;
}
function parts(b: bigint): [bigint, number] {
  const e = Number(b >> 52n);
  const f = b & MASK52;
  return e === 0 ? [f, -1074] : [f | (1n << 52n), e - 1075];
}
function cmpExact(m: bigint, e: number, n: bigint, d: bigint, s: number): number {
  const lo = Math.min(e, s);
  const a = (m * d) << BigInt(e - lo);
  const c = n << BigInt(s - lo);
  return a < c ? -1 : a > c ? 1 : 0;
}
/** nearest double to num/den · 2^scale (ties to even), by binary search over bit patterns */
function nearestDouble(num: bigint, den: bigint, scale: number): number {
  if (num === 0n) return 0;
  const neg = num < 0n;
  const n = neg ? -num : num;
  const le = (b: bigint) => {
    const [m, e] = parts(b);
    return cmpExact(m, e, n, den, scale) <= 0;
  };
  let r: number;
  if (le(INF_BITS)) r = Infinity;
  else {
    let lo = 0n,
      hi = INF_BITS;
    while (hi - lo > 1n) {
      const mid = (lo + hi) >> 1n;
      if (le(mid)) lo = mid;
      else hi = mid;
    }
    const [m1, e1] = parts(lo);
    if (cmpExact(m1, e1, n, den, scale) === 0) r = fromBits(lo);
    else {
      const [m2, e2] = parts(hi);
      const emin = Math.min(e1, e2);
      const c = cmpExact((m1 << BigInt(e1 - emin)) + (m2 << BigInt(e2 - emin)), emin, 2n * n, den, scale);
      r = fromBits(c > 0 ? lo : c < 0 ? hi : (lo & 1n) === 0n ? lo : hi);
    }
  }
  return neg ? -r : r;
}

type Values = Record<string, number | bigint>;

function writeRows(layout: Layout, rows: Values[]): Uint8Array {
  const buf = new Uint8Array(layout.recordSize * rows.length);
  const dv = new DataView(buf.buffer);
  const le = !layout.bigEndian;
  rows.forEach((v, i) => {
    const base = i * layout.recordSize;
    for (const f of layout.fields) {
      const x = v[f.name] ?? 0;
      const p = base + f.offset;
      switch (f.type) {
        case 'u8':
          dv.setUint8(p, Number(x));
          break;
        case 'i8':
          dv.setInt8(p, Number(x));
          break;
        case 'u16':
          dv.setUint16(p, Number(x), le);
          break;
        case 'i16':
          dv.setInt16(p, Number(x), le);
          break;
        case 'u32':
          dv.setUint32(p, Number(x), le);
          break;
        case 'i32':
          dv.setInt32(p, Number(x), le);
          break;
        case 'u64':
          dv.setBigUint64(p, BigInt(x), le);
          break;
        case 'i64':
          dv.setBigInt64(p, BigInt(x), le);
          break;
        case 'f32':
          dv.setFloat32(p, Number(x), le);
          break;
        case 'f64':
          dv.setFloat64(p, Number(x), le);
          break;
        case 'bytes':
          for (let j = 0; j < f.size; j++) dv.setUint8(p + j, (i * 31 + j) & 0xff);
          break;
      }
    }
  });
  return buf;
}

function chunkOf(buf: Uint8Array, recordSize: number, first: number, count: number) {
  return {
    bytes: new DataView(buf.buffer, buf.byteOffset + first * recordSize, count * recordSize),
    records: count,
    recordSize,
  };
}

async function specFor(layout: Layout, fields?: string): Promise<StatsSpec> {
  return stats.prepare(fields === undefined ? {} : { fields }, layout, async () => {
    throw new Error('stats needs no pre-pass');
  });
}

async function runStats(layout: Layout, rows: Values[], fields?: string) {
  const spec = await specFor(layout, fields);
  const buf = writeRows(layout, rows);
  const partial = stats.js(spec, chunkOf(buf, layout.recordSize, 0, rows.length), false).partial;
  return { spec, partial, result: stats.finalize(spec, partial) };
}

/** the reference result for one field, from the values as they read back from the record */
function reference(type: string, xs: (number | bigint)[]) {
  if (type === 'f32' || type === 'f64') {
    const vals = xs.map((x) => (type === 'f32' ? Math.fround(Number(x)) : Number(x)));
    const nonNan = vals.filter((x) => !Number.isNaN(x));
    const fin = nonNan.filter((x) => Number.isFinite(x));
    const pos = nonNan.filter((x) => x === Infinity).length;
    const neg = nonNan.filter((x) => x === -Infinity).length;
    const S = fin.reduce((s, x) => s + scaled1074(x), 0n);
    const Q = fin.reduce((s, x) => s + scaled1074(x) ** 2n, 0n);
    const n = BigInt(nonNan.length);
    const j = (v: number | null) =>
      v === null ? null : Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
    let min: number | null = null,
      max: number | null = null;
    for (const x of nonNan) {
      if (min === null || x < min || (x === 0 && min === 0 && Object.is(x, -0))) min = x;
      if (max === null || x > max || (x === 0 && max === 0 && Object.is(max, -0))) max = x;
    }
    let sum: number, mean: number | null, std: number | null;
    if (pos && neg) [sum, mean, std] = [NaN, NaN, NaN];
    else if (pos || neg) [sum, mean, std] = [pos ? Infinity : -Infinity, pos ? Infinity : -Infinity, NaN];
    else if (n === 0n) [sum, mean, std] = [0, null, null];
    else {
      sum = nearestDouble(S, 1n, -1074);
      mean = nearestDouble(S, n, -1074);
      std = stdRef(n * Q - S * S, n * n, -2148);
    }
    return {
      acc: {
        count: nonNan.length,
        nan: vals.length - nonNan.length,
        posinf: pos,
        neginf: neg,
        sum: S,
        sumsq: Q,
        min,
        max,
      },
      result: {
        type,
        count: nonNan.length,
        nan: vals.length - nonNan.length,
        sum: j(sum),
        min: j(min),
        max: j(max),
        mean: j(mean),
        std: j(std),
      },
    };
  }
  const vals = xs.map((x) => BigInt(x));
  const n = BigInt(vals.length);
  const S = vals.reduce((s, x) => s + x, 0n);
  const Q = vals.reduce((s, x) => s + x * x, 0n);
  const min = vals.length ? vals.reduce((a, b) => (b < a ? b : a)) : null;
  const max = vals.length ? vals.reduce((a, b) => (b > a ? b : a)) : null;
  const ej = (v: bigint) => (v <= 2n ** 53n && v >= -(2n ** 53n) ? Number(v) : v.toString());
  return {
    acc: { count: vals.length, sum: S, sumsq: Q, min, max },
    result:
      vals.length === 0
        ? { type, count: 0, sum: 0, min: null, max: null, mean: null, std: null }
        : {
            type,
            count: vals.length,
            sum: ej(S),
            min: ej(min!),
            max: ej(max!),
            mean: nearestDouble(S, n, 0),
            std: stdRef(n * Q - S * S, n * n, 0),
          },
  };
}

const ALL = parseSchema('a:u8,b:i64,c:f32,d:f64,e:u64,id:bytes<3>,g:i8,h:i16,k:u16,m:i32,n:u32,pad<2>');
const ALL_BE = parseSchema('>a:u8,b:i64,c:f32,d:f64,e:u64,id:bytes<3>,g:i8,h:i16,k:u16,m:i32,n:u32,pad<2>');
const NUMERIC = ALL.fields.filter((f) => f.type !== 'bytes');

// ---- examples ----

describe('stats: integers', () => {
  it('small u8 values', async () => {
    const L = parseSchema('x:u8');
    const { result, partial } = await runStats(
      L,
      [1, 2, 3, 4].map((x) => ({ x })),
    );
    expect(result.fields.x).toEqual({ type: 'u8', count: 4, sum: 10, min: 1, max: 4, mean: 2.5, std: Math.sqrt(1.25) });
    expect(partial).toEqual([{ count: 4, sum: 10n, sumsq: 30n, min: 1n, max: 4n }]);
  });

  it('negative small types', async () => {
    const L = parseSchema('g:i8,h:i16,m:i32');
    const rows = [
      { g: -128, h: -32768, m: -(2 ** 31) },
      { g: 127, h: 32767, m: 2 ** 31 - 1 },
      { g: -1, h: -1, m: -1 },
    ];
    const { result } = await runStats(L, rows);
    expect(result.fields.g).toMatchObject({ count: 3, sum: -2, min: -128, max: 127 });
    expect(result.fields.h).toMatchObject({ sum: -2, min: -32768, max: 32767 });
    expect(result.fields.m).toMatchObject({ sum: -2, min: -2147483648, max: 2147483647, mean: -2 / 3 });
  });

  it('u64 near 2^64: sums and extremes as decimal strings', async () => {
    const L = parseSchema('e:u64');
    const { result } = await runStats(L, [{ e: 2n ** 64n - 1n }, { e: 2n ** 64n - 2n }]);
    expect(result.fields.e).toEqual({
      type: 'u64',
      count: 2,
      sum: '36893488147419103229',
      min: '18446744073709551614',
      max: '18446744073709551615',
      mean: 2 ** 64, // the double nearest the exact mean 2^64 - 1.5
      std: 0.5,
    });
  });

  it('i64 extremes', async () => {
    const L = parseSchema('b:i64');
    const { result } = await runStats(L, [{ b: -(2n ** 63n) }, { b: 2n ** 63n - 1n }]);
    expect(result.fields.b).toEqual({
      type: 'i64',
      count: 2,
      sum: -1,
      min: '-9223372036854775808',
      max: '9223372036854775807',
      mean: -0.5,
      std: 2 ** 63,
    });
    const many = await runStats(
      L,
      Array.from({ length: 5 }, () => ({ b: 2n ** 63n - 1n })),
    );
    expect(many.result.fields.b!.sum).toBe('46116860184273879035');
    expect(many.result.fields.b!.mean).toBe(2 ** 63);
    expect(many.result.fields.b!.std).toBe(0);
  });

  it('sums switch to strings exactly beyond ±2^53', async () => {
    const L = parseSchema('b:i64');
    expect((await runStats(L, [{ b: 2n ** 53n - 1n }, { b: 1n }])).result.fields.b!.sum).toBe(9007199254740992);
    expect((await runStats(L, [{ b: 2n ** 53n }, { b: 1n }])).result.fields.b!.sum).toBe('9007199254740993');
    expect((await runStats(L, [{ b: -(2n ** 53n) }])).result.fields.b!.sum).toBe(-9007199254740992);
    expect((await runStats(L, [{ b: -(2n ** 53n) }, { b: -1n }])).result.fields.b!.sum).toBe('-9007199254740993');
    expect((await runStats(L, [{ b: 2n ** 53n + 1n }])).result.fields.b!.min).toBe('9007199254740993');
  });

  it('mean is correctly rounded, not a rounded sum divided by n', async () => {
    const L = parseSchema('e:u64');
    // sum = 3·(2^64−1): the double of the sum is 3·2^64, the exact mean is 2^64−1 → 2^64 anyway,
    // but for 2^53+1 the exact mean matters: (2^53+1 + 2^53+2)/2 = 2^53 + 1.5 → 2^53+2
    const { result } = await runStats(L, [{ e: 2n ** 53n + 1n }, { e: 2n ** 53n + 2n }]);
    expect(result.fields.e!.mean).toBe(2 ** 53 + 2);
    const r2 = await runStats(L, [{ e: 1n }, { e: 2n }, { e: 2n }]);
    expect(r2.result.fields.e!.mean).toBe(5 / 3);
    expect(r2.result.fields.e!.std).toBe(Math.sqrt(2 / 9));
  });

  it('more than 2^20 values (the flush path) stay exact', async () => {
    const L = parseSchema('x:u32,y:i32,z:f64,w:f32');
    const N = (1 << 20) + 5;
    const buf = new Uint8Array(L.recordSize * N);
    const dv = new DataView(buf.buffer);
    const big = 1.9999999999999998; // all mantissa bits set
    for (let i = 0; i < N; i++) {
      const p = i * L.recordSize;
      dv.setUint32(p, 0xffffffff, true);
      dv.setInt32(p + 4, i % 2 ? -(2 ** 31) : 2 ** 31 - 1, true);
      dv.setFloat64(p + 8, i % 3 === 2 ? -big * 2 ** -1000 : big * 2 ** 1000, true);
      dv.setFloat32(p + 16, 3.4028234663852886e38, true);
    }
    const spec = await specFor(L);
    const p = stats.js(spec, chunkOf(buf, L.recordSize, 0, N), false).partial;
    const n = BigInt(N);
    const x = p[0] as IntAcc;
    expect(x.sum).toBe(n * 0xffffffffn);
    expect(x.sumsq).toBe(n * 0xffffffffn ** 2n);
    const y = p[1] as IntAcc;
    const odd = n / 2n,
      even = n - odd;
    expect(y.sum).toBe(even * (2n ** 31n - 1n) - odd * 2n ** 31n);
    expect(y.sumsq).toBe(even * (2n ** 31n - 1n) ** 2n + odd * 2n ** 62n);
    const z = p[2] as FloatAcc;
    const negs = BigInt(Math.floor((N - 3) / 3) + 1);
    const hiV = scaled1074(big * 2 ** 1000),
      loV = scaled1074(-big * 2 ** -1000);
    expect(z.sum).toBe((n - negs) * hiV + negs * loV);
    expect(z.sumsq).toBe((n - negs) * hiV ** 2n + negs * loV ** 2n);
    const w = p[3] as FloatAcc;
    expect(w.sum).toBe(n * scaled1074(3.4028234663852886e38));
    const r = stats.finalize(spec, p);
    expect(r.fields.x!.mean).toBe(0xffffffff);
    expect(r.fields.x!.std).toBe(0);
    expect(r.fields.w!.mean).toBe(3.4028234663852886e38);
    expect(r.fields.w!.sum).toBe(nearestDouble(n * scaled1074(3.4028234663852886e38), 1n, -1074));
  });
});

describe('stats: floats', () => {
  const L = parseSchema('d:f64');
  const f = async (xs: number[]) =>
    (
      await runStats(
        L,
        xs.map((d) => ({ d })),
      )
    ).result.fields.d!;

  it('NaN is counted and left out', async () => {
    expect(await f([1, 2, NaN])).toEqual({
      type: 'f64',
      count: 2,
      nan: 1,
      sum: 3,
      min: 1,
      max: 2,
      mean: 1.5,
      std: 0.5,
    });
  });

  it('only NaN: nothing to average', async () => {
    expect(await f([NaN, NaN])).toEqual({
      type: 'f64',
      count: 0,
      nan: 2,
      sum: 0,
      min: null,
      max: null,
      mean: null,
      std: null,
    });
  });

  it('no records at all', async () => {
    expect(await f([])).toEqual({ type: 'f64', count: 0, nan: 0, sum: 0, min: null, max: null, mean: null, std: null });
    const r = await runStats(parseSchema('x:i32'), []);
    expect(r.result.fields.x).toEqual({ type: 'i32', count: 0, sum: 0, min: null, max: null, mean: null, std: null });
  });

  it('infinities', async () => {
    expect(await f([Infinity, 1])).toEqual({
      type: 'f64',
      count: 2,
      nan: 0,
      sum: 'Infinity',
      min: 1,
      max: 'Infinity',
      mean: 'Infinity',
      std: 'NaN',
    });
    expect(await f([-Infinity, 1, NaN])).toEqual({
      type: 'f64',
      count: 2,
      nan: 1,
      sum: '-Infinity',
      min: '-Infinity',
      max: 1,
      mean: '-Infinity',
      std: 'NaN',
    });
    expect(await f([Infinity, -Infinity, 3])).toEqual({
      type: 'f64',
      count: 3,
      nan: 0,
      sum: 'NaN',
      min: '-Infinity',
      max: 'Infinity',
      mean: 'NaN',
      std: 'NaN',
    });
  });

  it('signed zeros: min is -0, max is +0, in either order', async () => {
    for (const xs of [
      [-0, 0],
      [0, -0],
      [0, -0, 0, -0],
    ]) {
      const r = await f(xs);
      expect(Object.is(r.min, -0)).toBe(true);
      expect(Object.is(r.max, 0)).toBe(true);
      expect(r.sum).toBe(0);
      expect(r.mean).toBe(0);
      expect(r.std).toBe(0);
    }
    const only = await f([-0, -0]);
    expect(Object.is(only.min, -0) && Object.is(only.max, -0)).toBe(true);
  });

  it('subnormals are summed exactly', async () => {
    expect(await f([5e-324, 5e-324, 5e-324])).toEqual({
      type: 'f64',
      count: 3,
      nan: 0,
      sum: 1.5e-323,
      min: 5e-324,
      max: 5e-324,
      mean: 5e-324,
      std: 0,
    });
    const half = await f([5e-324, 0]);
    expect(half.sum).toBe(5e-324);
    expect(half.mean).toBe(0); // 2^-1075: a tie, to even
    expect((await f([5e-324, 5e-324, 0])).mean).toBe(5e-324); // 2/3 of the smallest subnormal rounds up
    expect((await f([5e-324, 5e-324, 5e-324, 0])).mean).toBe(5e-324); // 3/4
    expect((await f([5e-324, 0, 0])).mean).toBe(0); // 1/3 rounds down
    expect((await f([1e-323, 5e-324, 0, 0])).mean).toBe(5e-324); // 3/4
    expect((await f([1.5e-323, 1.5e-323, 0, 0])).mean).toBe(1e-323); // 3/2 ulp: a tie, to even (2 ulp)
    const r = await f([2 ** -1022, -(2 ** -1023), 5e-324]);
    expect(r.sum).toBe(2 ** -1023 + 5e-324);
  });

  it('the sum is exact, not accumulated in doubles', async () => {
    expect((await f([0.1, 0.2, 0.3])).sum).toBe(0.6); // (0.1 + 0.2) + 0.3 = 0.6000000000000001
    expect((await f([1e308, 1e308, -1e308])).sum).toBe(1e308); // no intermediate overflow
    expect((await f([1e308, 1e308, -1e308])).mean).toBe(1e308 / 3);
    expect((await f([1, 1e100, 1, -1e100])).sum).toBe(2);
    expect((await f([2 ** 53, 1, 1])).sum).toBe(2 ** 53 + 2);
    const over = await f([1e308, 1e308]);
    expect(over.sum).toBe('Infinity'); // the exact sum rounds to Infinity
    expect(over.mean).toBe(1e308);
    expect(over.std).toBe(0);
  });

  it('extreme magnitudes: std of ±MAX', async () => {
    const r = await f([Number.MAX_VALUE, -Number.MAX_VALUE]);
    expect(r.sum).toBe(0);
    expect(r.mean).toBe(0);
    const r2 = await f([1e150, -1e150]);
    expect(r2.std).toBe(Math.sqrt(nearestDouble(scaled1074(1e150) ** 2n * 4n, 4n, -2148)));
  });

  it('f32 fields read as float32', async () => {
    const r = (await runStats(parseSchema('c:f32'), [{ c: 0.1 }, { c: 0.2 }])).result.fields.c!;
    expect(r.min).toBe(Math.fround(0.1));
    expect(r.max).toBe(Math.fround(0.2));
    expect(r.sum).toBe(Math.fround(0.1) + Math.fround(0.2)); // exact in a double
  });

  it('big-endian layouts', async () => {
    const rows = [
      { a: 1, b: -5n, c: 1.5, d: -2.25, e: 2n ** 64n - 3n, g: -1, h: -300, k: 60000, m: -70000, n: 4000000000 },
    ];
    const le = (await runStats(ALL, rows)).result;
    const be = (await runStats(ALL_BE, rows)).result;
    expect(be).toEqual(le);
    expect(be.fields.h!.sum).toBe(-300);
    expect(be.fields.e!.sum).toBe('18446744073709551613');
  });
});

describe('stats: field selection', () => {
  it('all numeric fields by default, in layout order; bytes never', async () => {
    const spec = await specFor(ALL);
    expect(spec.names).toEqual(['a', 'b', 'c', 'd', 'e', 'g', 'h', 'k', 'm', 'n']);
    expect(spec.fields.map((f) => f.offset)).toEqual(NUMERIC.map((f) => f.offset));
  });

  it('--fields chooses and orders', async () => {
    const spec = await specFor(ALL, 'd, a');
    expect(spec.names).toEqual(['d', 'a']);
    expect(spec.fields).toEqual([
      { offset: 13, type: 'f64', bigEndian: false },
      { offset: 0, type: 'u8', bigEndian: false },
    ]);
  });

  it('errors: unknown field, bytes field, no numeric fields', () => {
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(BigprocError);
        expect((e as BigprocError).exitCode).toBe(2);
        return (e as BigprocError).message;
      }
      throw new Error('expected an error');
    };
    expect(err(() => resolveStatsFields(ALL, 'zz'))).toContain('--fields');
    expect(err(() => resolveStatsFields(ALL, 'id'))).toContain('bytes<3>');
    const opaque = parseSchema('id:bytes<8>');
    expect(err(() => resolveStatsFields(opaque, undefined))).toContain('--op stats');
  });

  it('format prints a row per field', async () => {
    const { spec, result } = await runStats(parseSchema('x:u8,y:f64'), [
      { x: 1, y: 0.5 },
      { x: 3, y: 1.5 },
    ]);
    const text = stats.format(spec, result);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^field\s+type\s+count\s+sum\s+min\s+max\s+mean\s+std$/);
    expect(lines[1]).toMatch(/^x\s+u8\s+2\s+4\s+1\s+3\s+2\s+1$/);
    expect(lines[2]).toMatch(/^y\s+f64\s+2\s+2\s+0\.5\s+1\.5\s+1\s+0\.5$/);
  });
});

// ---- properties ----

function intArb(t: string): fc.Arbitrary<bigint> {
  const R: Record<string, [bigint, bigint]> = {
    i8: [-128n, 127n],
    u8: [0n, 255n],
    i16: [-32768n, 32767n],
    u16: [0n, 65535n],
    i32: [-(2n ** 31n), 2n ** 31n - 1n],
    u32: [0n, 2n ** 32n - 1n],
    i64: [-(2n ** 63n), 2n ** 63n - 1n],
    u64: [0n, 2n ** 64n - 1n],
  };
  const [min, max] = R[t]!;
  return fc.oneof(fc.bigInt({ min, max }), fc.constantFrom(min, max, 0n, min + 1n, max - 1n));
}
const floatArb = fc.oneof(
  { weight: 4, arbitrary: fc.double() },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      NaN,
      Infinity,
      -Infinity,
      0,
      -0,
      5e-324,
      -5e-324,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      2 ** -1022,
      1,
      0.1,
    ),
  },
  { weight: 2, arbitrary: fc.double({ min: -1e3, max: 1e3, noNaN: true }) },
);
const rowArb: fc.Arbitrary<Values> = fc.record(
  Object.fromEntries(
    NUMERIC.map((f) => [f.name, f.type === 'f32' || f.type === 'f64' ? floatArb : intArb(f.type)]),
  ) as Record<string, fc.Arbitrary<number | bigint>>,
);
/** rows with few infinities/NaNs (so finite sums are exercised), or a lot of them */
const rowsArb = fc.array(rowArb, { minLength: 0, maxLength: 40 });

/** cut points for splitting n records into chunks (empty chunks allowed) */
const cutsArb = (n: number) =>
  fc.array(fc.integer({ min: 0, max: n }), { maxLength: 8 }).map((c) => [...c].sort((a, b) => a - b));

describe('stats: properties', () => {
  it('partials and results match an exact reference', async () => {
    const spec = await specFor(ALL);
    fc.assert(
      fc.property(rowsArb, fc.boolean(), (rows, big) => {
        const layout = big ? ALL_BE : ALL;
        const buf = writeRows(layout, rows);
        const p = stats.js(
          { ...spec, fields: spec.fields.map((f) => ({ ...f, bigEndian: big })) },
          chunkOf(buf, layout.recordSize, 0, rows.length),
          false,
        ).partial;
        const r = stats.finalize(spec, p);
        NUMERIC.forEach((f, i) => {
          const ref = reference(
            f.type,
            rows.map((row) => row[f.name]!),
          );
          expect(p[i]).toEqual(ref.acc);
          expect(r.fields[f.name]).toEqual(ref.result);
        });
      }),
      { numRuns: 150 },
    );
  });

  it('merge invariance: any chunking merged in order gives the same partial and result', async () => {
    const spec = await specFor(ALL);
    const whole = (rows: Values[]) => {
      const buf = writeRows(ALL, rows);
      return { buf, p: stats.js(spec, chunkOf(buf, ALL.recordSize, 0, rows.length), false).partial };
    };
    fc.assert(
      fc.property(
        rowsArb.chain((rows) => fc.tuple(fc.constant(rows), cutsArb(rows.length))),
        ([rows, cuts]) => {
          const { buf, p } = whole(rows);
          const bounds = [0, ...cuts, rows.length];
          let merged: StatsPartial = stats.init(spec);
          const parts: StatsPartial[] = [];
          for (let i = 0; i + 1 < bounds.length; i++) {
            const part = stats.js(
              spec,
              chunkOf(buf, ALL.recordSize, bounds[i]!, bounds[i + 1]! - bounds[i]!),
              false,
            ).partial;
            parts.push(part);
            merged = stats.merge(spec, merged, part);
          }
          expect(merged).toEqual(p);
          expect(stats.finalize(spec, merged)).toEqual(stats.finalize(spec, p));
          // associativity: merging right-to-left groups gives the same partial
          const right = parts.reduceRight((acc, x) => stats.merge(spec, x, acc), stats.init(spec));
          expect(right).toEqual(p);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('init is the identity of merge', async () => {
    const spec = await specFor(ALL);
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const buf = writeRows(ALL, rows);
        const p = stats.js(spec, chunkOf(buf, ALL.recordSize, 0, rows.length), false).partial;
        expect(stats.merge(spec, stats.init(spec), p)).toEqual(p);
        expect(stats.merge(spec, p, stats.init(spec))).toEqual(p);
      }),
      { numRuns: 50 },
    );
  });
});
