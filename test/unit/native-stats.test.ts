// Native stats: exact integer sums (u64 near 2^64, i64 near ±2^63, 192-bit Σx²), exact float sums as
// scaled integers (subnormals, ±0, NaN, ±Inf, huge values), min/max rules, byte order, many blocks —
// with both f64 block bodies (8 and 4 lanes).
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernels } from './kernels.js';
import type { FieldArg as FieldSpec } from '../../src/ops/lib/fields.js';
import type { FloatAcc as StatsFloatPartial, IntAcc as StatsIntPartial } from '../../src/ops/stats.js';

const addon = loadKernels();
// Created on first use (a skipped file leaves nothing behind), removed after the file's tests.
let tempDir: string | undefined;
const dir = (): string => (tempDir ??= mkdtempSync(join(tmpdir(), 'bigproc-native-stats-')));
afterAll(() => {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});
let counter = 0;

/** Write a Buffer to a temp file, map it, run stats over all of it. */
function statsOf(bytes: Buffer, recordSize: number, fields: FieldSpec[]) {
  const p = join(dir(), `f${counter++}.bin`);
  writeFileSync(p, bytes);
  const m = new addon!.Mapping(p);
  try {
    return addon!.stats(m, 0, bytes.length / recordSize, recordSize, fields)!;
  } finally {
    m.close();
  }
}

/** Independent reference for the float encoding: S = Σ ±m·2^(max(e,1)−1), Q = Σ m²·2^(2(max(e,1)−1)). */
function floatRef(values: number[]) {
  const f = new Float64Array(1);
  const u = new BigUint64Array(f.buffer);
  let S = 0n,
    Q = 0n,
    nan = 0,
    posinf = 0,
    neginf = 0;
  for (const x of values) {
    if (Number.isNaN(x)) {
      nan++;
      continue;
    }
    if (x === Infinity) {
      posinf++;
      continue;
    }
    if (x === -Infinity) {
      neginf++;
      continue;
    }
    f[0] = x;
    const bits = u[0]!;
    const e = Number((bits >> 52n) & 0x7ffn);
    let m = bits & ((1n << 52n) - 1n);
    if (e > 0) m |= 1n << 52n;
    const sh = BigInt(Math.max(e, 1) - 1);
    S += (bits >> 63n ? -m : m) << sh;
    Q += (m * m) << (2n * sh);
  }
  return { S, Q, nan, posinf, neginf };
}

function f64Records(values: number[], bigEndian = false): Buffer {
  const b = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => {
    if (bigEndian) b.writeDoubleBE(v, i * 8);
    else b.writeDoubleLE(v, i * 8);
  });
  return b;
}

// Every case twice: with the f64 body this CPU picks, and with BIGPROC_STATS_LANES=4, the 4-lane body
// AVX2-only CPUs run (on an AVX-512 machine it is otherwise never run by the tests).
describe.runIf(addon).each([{ lanes: 'default' }, { lanes: '4' }])('native stats, f64 lanes $lanes', ({ lanes }) => {
  beforeEach(() => {
    if (lanes === '4') process.env.BIGPROC_STATS_LANES = '4';
  });
  afterEach(() => {
    delete process.env.BIGPROC_STATS_LANES;
  });

  it('u64 near 2^64: exact sum and 192-bit sum of squares', () => {
    const vals = [2n ** 64n - 1n, 2n ** 64n - 2n, 0n, 1n];
    const b = Buffer.alloc(32);
    vals.forEach((v, i) => {
      b.writeBigUInt64LE(v, i * 8);
    });
    const [s] = statsOf(b, 8, [{ offset: 0, type: 'u64' }]) as StatsIntPartial[];
    expect(s).toEqual({
      count: 4,
      sum: 2n ** 65n - 2n,
      sumsq: (2n ** 64n - 1n) ** 2n + (2n ** 64n - 2n) ** 2n + 1n,
      min: 0n,
      max: 2n ** 64n - 1n,
    });
    // 5000 × (2^64−1)²: far past 2^128, across blocks
    const n = 5000;
    const big = Buffer.alloc(n * 8, 0xff);
    const [t] = statsOf(big, 8, [{ offset: 0, type: 'u64' }]) as StatsIntPartial[];
    expect(t!.sum).toBe(BigInt(n) * (2n ** 64n - 1n));
    expect(t!.sumsq).toBe(BigInt(n) * (2n ** 64n - 1n) ** 2n);
  });

  it('i64 near ±2^63', () => {
    const vals = [-(2n ** 63n), 2n ** 63n - 1n, -1n, -(2n ** 63n)];
    const b = Buffer.alloc(32);
    vals.forEach((v, i) => {
      b.writeBigInt64BE(v, i * 8);
    });
    const [s] = statsOf(b, 8, [{ offset: 0, type: 'i64', bigEndian: true }]) as StatsIntPartial[];
    expect(s).toEqual({
      count: 4,
      sum: -(2n ** 63n) - 2n,
      sumsq: 2n * 2n ** 126n + (2n ** 63n - 1n) ** 2n + 1n,
      min: -(2n ** 63n),
      max: 2n ** 63n - 1n,
    });
  });

  it('64-bit blocks of narrow range (the delta path), at and past a span of 2^32, match BigInt sums', () => {
    // Blocks of 2048 records: each block of 3000-value runs around a base, its span just under 2^32
    // (x0 + d with |d| < 2^32: the delta path) or just over (the per-value path).
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const cases: { type: 'i64' | 'u64'; base: bigint; span: bigint }[] = [
      { type: 'i64', base: 1700000000000000000n, span: 2n ** 31n },
      { type: 'i64', base: -(2n ** 63n), span: 2n ** 32n - 1n },
      { type: 'i64', base: 2n ** 63n - 2n ** 32n, span: 2n ** 32n - 1n },
      { type: 'i64', base: -(2n ** 31n), span: 2n ** 32n },
      { type: 'i64', base: -5n, span: 11n },
      { type: 'u64', base: 2n ** 64n - 2n ** 32n, span: 2n ** 32n - 1n },
      { type: 'u64', base: 0n, span: 2n ** 32n },
      { type: 'u64', base: 2n ** 63n - 2n ** 31n, span: 2n ** 32n - 1n },
    ];
    for (const { type, base, span } of cases) {
      const n = 5000;
      const b = Buffer.alloc(n * 8);
      let sum = 0n,
        sumsq = 0n,
        min: bigint | null = null,
        max: bigint | null = null;
      for (let i = 0; i < n; i++) {
        // the first and last value of each block at the span's ends, the rest anywhere between
        const pos = i % 2048;
        const off = pos === 1 ? span : pos === 0 ? 0n : BigInt(Math.floor(rnd() * Number(span)));
        const v = base + (off > span ? span : off);
        if (type === 'i64') b.writeBigInt64LE(v, i * 8);
        else b.writeBigUInt64LE(v, i * 8);
        sum += v;
        sumsq += v * v;
        min = min === null || v < min ? v : min;
        max = max === null || v > max ? v : max;
      }
      const [s] = statsOf(b, 8, [{ offset: 0, type }]) as StatsIntPartial[];
      expect(s, `${type} base ${base} span ${span}`).toEqual({ count: n, sum, sumsq, min, max });
    }
  });

  it('small integer types, both byte orders, unaligned offsets', () => {
    // record: i8 @0, u16 BE @1, i32 LE @3, u32 BE @7, i16 LE @11 → 13 bytes
    const rows = [
      [-128, 65535, -(2 ** 31), 2 ** 32 - 1, -32768],
      [127, 0, 2 ** 31 - 1, 0, 32767],
      [-1, 258, -5, 7, 0],
    ];
    const b = Buffer.alloc(rows.length * 13);
    rows.forEach((r, i) => {
      b.writeInt8(r[0]!, i * 13);
      b.writeUInt16BE(r[1]!, i * 13 + 1);
      b.writeInt32LE(r[2]!, i * 13 + 3);
      b.writeUInt32BE(r[3]!, i * 13 + 7);
      b.writeInt16LE(r[4]!, i * 13 + 11);
    });
    const fields: FieldSpec[] = [
      { offset: 0, type: 'i8' },
      { offset: 1, type: 'u16', bigEndian: true },
      { offset: 3, type: 'i32' },
      { offset: 7, type: 'u32', bigEndian: true },
      { offset: 11, type: 'i16', bigEndian: false },
    ];
    const out = statsOf(b, 13, fields) as StatsIntPartial[];
    fields.forEach((_, j) => {
      const col = rows.map((r) => BigInt(r[j]!));
      expect(out[j]).toEqual({
        count: 3,
        sum: col.reduce((x, y) => x + y, 0n),
        sumsq: col.reduce((x, y) => x + y * y, 0n),
        min: col.reduce((x, y) => (y < x ? y : x)),
        max: col.reduce((x, y) => (y > x ? y : x)),
      });
    });
  });

  it('u32 / i32 extremes over many blocks', () => {
    const n = 70_000; // > 1 MiB of 16-byte records, many 2048-record blocks
    const b = Buffer.alloc(n * 16);
    let sumU = 0n,
      sqU = 0n,
      sumI = 0n,
      sqI = 0n,
      minU = 2n ** 32n;
    for (let i = 0; i < n; i++) {
      const u = i % 3 === 0 ? 2 ** 32 - 1 : (i * 2654435761) % 2 ** 32;
      const s = i % 5 === 0 ? -(2 ** 31) : ((i * 40503) % 2 ** 31) - 2 ** 30;
      b.writeUInt32LE(u, i * 16 + 1);
      b.writeInt32LE(s, i * 16 + 9);
      sumU += BigInt(u);
      sqU += BigInt(u) ** 2n;
      if (BigInt(u) < minU) minU = BigInt(u);
      sumI += BigInt(s);
      sqI += BigInt(s) ** 2n;
    }
    const [u, s] = statsOf(b, 16, [
      { offset: 1, type: 'u32' },
      { offset: 9, type: 'i32' },
    ]) as StatsIntPartial[];
    expect(u).toEqual({ count: n, sum: sumU, sumsq: sqU, min: minU, max: 2n ** 32n - 1n });
    expect(s!.sum).toBe(sumI);
    expect(s!.sumsq).toBe(sqI);
    expect(s!.min).toBe(-(2n ** 31n));
  });

  it('floats: hand-computed scaled sums', () => {
    // 1.5 = 3·2^-1 → S = 3·2^1073, x² = 2.25 = 9·2^-2 → Q = 9·2^2146
    expect(statsOf(f64Records([1.5]), 8, [{ offset: 0, type: 'f64' }])[0]).toEqual({
      count: 1,
      nan: 0,
      posinf: 0,
      neginf: 0,
      sum: 3n << 1073n,
      sumsq: 9n << 2146n,
      min: 1.5,
      max: 1.5,
    });
    // the smallest subnormal is exactly 2^-1074: S = 1, Q = 1; with its negative the sum is 0
    expect(statsOf(f64Records([5e-324]), 8, [{ offset: 0, type: 'f64' }])[0]).toMatchObject({ sum: 1n, sumsq: 1n });
    expect(statsOf(f64Records([5e-324, -5e-324]), 8, [{ offset: 0, type: 'f64' }])[0]).toMatchObject({
      sum: 0n,
      sumsq: 2n,
      min: -5e-324,
      max: 5e-324,
    });
    // MAX_VALUE = (2^53−1)·2^971 → S = (2^53−1)·2^2045
    const big = statsOf(f64Records([Number.MAX_VALUE, Number.MAX_VALUE, -1]), 8, [
      { offset: 0, type: 'f64' },
    ])[0] as StatsFloatPartial;
    expect(big.sum).toBe(2n * ((2n ** 53n - 1n) << 2045n) - (1n << 1074n));
    expect(big.sumsq).toBe(2n * (((2n ** 53n - 1n) ** 2n) << 4090n) + (1n << 2148n));
  });

  it('floats: NaN, ±Inf, ±0 and min/max rules', () => {
    const vals = [NaN, 0, -0, Infinity, -Infinity, 2.5, NaN, -7];
    const r = statsOf(f64Records(vals), 8, [{ offset: 0, type: 'f64' }])[0] as StatsFloatPartial;
    const ref = floatRef(vals);
    expect(r).toEqual({
      count: 6,
      nan: 2,
      posinf: 1,
      neginf: 1,
      sum: ref.S,
      sumsq: ref.Q,
      min: -Infinity,
      max: Infinity,
    });

    const zeros = (v: number[]) => statsOf(f64Records(v), 8, [{ offset: 0, type: 'f64' }])[0] as StatsFloatPartial;
    expect(Object.is(zeros([0, -0]).min, -0)).toBe(true);
    expect(Object.is(zeros([0, -0]).max, 0)).toBe(true);
    expect(Object.is(zeros([-0, 0]).min, -0)).toBe(true);
    expect(Object.is(zeros([-0, 0]).max, 0)).toBe(true);
    expect(Object.is(zeros([-0]).max, -0)).toBe(true);
    expect(Object.is(zeros([0]).min, 0)).toBe(true);
    expect(Object.is(zeros([-0, -3]).max, -0)).toBe(true);
    expect(Object.is(zeros([0, 3, -0]).min, -0)).toBe(true);
    expect(zeros([NaN, NaN])).toEqual({
      count: 0,
      nan: 2,
      posinf: 0,
      neginf: 0,
      sum: 0n,
      sumsq: 0n,
      min: null,
      max: null,
    });
  });

  it('f32: exact widening, subnormals, big-endian', () => {
    const vals = [1e-45, -1.4e-45, 3.4028234663852886e38, 0.1, -0, NaN, -Infinity];
    const b = Buffer.alloc(vals.length * 6);
    vals.forEach((v, i) => {
      b.writeFloatBE(v, i * 6 + 2);
    });
    const r = statsOf(b, 6, [{ offset: 2, type: 'f32', bigEndian: true }])[0] as StatsFloatPartial;
    const widened = vals.map((v) => Math.fround(v));
    const ref = floatRef(widened);
    expect(r).toEqual({
      count: 6,
      nan: 1,
      posinf: 0,
      neginf: 1,
      sum: ref.S,
      sumsq: ref.Q,
      min: -Infinity,
      max: Math.fround(3.4028234663852886e38),
    });
  });

  it('f64 random values over many blocks match the exact reference', () => {
    const n = 50_000;
    const vals: number[] = [];
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < n; i++) {
      const kind = i % 7;
      if (kind === 0) vals.push((rnd() - 0.5) * 2 ** Math.floor(rnd() * 2000 - 1000));
      else if (kind === 1) vals.push((rnd() - 0.5) * 1e-310);
      else if (kind === 2) vals.push(Number.MAX_VALUE * (rnd() > 0.5 ? 1 : -1) * rnd());
      else vals.push(100 + rnd() * 20);
    }
    const b = f64Records(vals, true);
    const r = statsOf(b, 8, [{ offset: 0, type: 'f64', bigEndian: true }])[0] as StatsFloatPartial;
    const ref = floatRef(vals);
    expect(r.sum).toBe(ref.S);
    expect(r.sumsq).toBe(ref.Q);
    expect(r.count).toBe(n);
    expect(r.min).toBe(Math.min(...vals));
    expect(r.max).toBe(Math.max(...vals));
  });

  it('f64 in 24-byte records, block by block: exponents that drift, jump and hold specials match the reference', () => {
    // Blocks of 2048 (native/stats.cc kBlock): a block is first tried aligned to the previous block's
    // exponent, straight from the records; these kinds make that guess hold, fail low, fail high, and
    // meet zeros, subnormals and NaN/±Inf, with the guessed and the two-pass paths alternating.
    const block = 2048;
    let seed = 777;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const kinds: Array<(i: number) => number> = [
      () => 100 + rnd() * 20, // exponent 6 (first block: two-pass, sets the guess)
      () => 100 + rnd() * 20, // guess holds
      () => 64 + rnd() * 1900, // spans 6..10: guess holds (higher, within 5)
      () => 1 + rnd() * 3, // exponents below the guess: two-pass
      () => -(1 + rnd() * 3), // negative, guess holds
      (i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? -0 : 2 + rnd()), // zeros among values
      () => 2 ** 40 * (1 + rnd()), // far above the guess: two-pass
      (i) => (i % 2 ? 5e-324 * i : -0), // subnormals and -0 only
      (i) => (i === 7 ? Number.NaN : i === 9 ? Infinity : i === 11 ? -Infinity : 3 + rnd()), // specials
      () => 3 + rnd(), // after specials: guess from an older block
      () => (rnd() - 0.5) * 2 ** Math.floor(rnd() * 20), // wide: two-pass bucket path
      () => 1e300 * (1 + rnd()), // huge
      () => 1e300 * (1 + rnd()),
    ];
    const vals: number[] = [];
    kinds.forEach((kind) => {
      for (let i = 0; i < block; i++) vals.push(kind(i));
    });
    for (let i = 0; i < 1000; i++) vals.push(1e300 * (1 + rnd())); // a partial last block
    const b = Buffer.alloc(vals.length * 24);
    vals.forEach((v, i) => {
      b.writeBigInt64LE(BigInt(i), i * 24);
      b.writeDoubleLE(v, i * 24 + 8);
    });
    const r = statsOf(b, 24, [{ offset: 8, type: 'f64' }])[0] as StatsFloatPartial;
    const ref = floatRef(vals);
    const finite = vals.filter((x) => !Number.isNaN(x));
    expect(r.sum).toBe(ref.S);
    expect(r.sumsq).toBe(ref.Q);
    expect([r.nan, r.posinf, r.neginf]).toEqual([ref.nan, ref.posinf, ref.neginf]);
    expect(r.count).toBe(vals.length - ref.nan);
    expect(r.min).toBe(-Infinity);
    expect(r.max).toBe(Infinity);
    // without the specials block: min and max are finite values seen on the guessed path too
    const noSpecials = vals.slice(0, 8 * block);
    const b2 = b.subarray(0, noSpecials.length * 24);
    const r2 = statsOf(Buffer.from(b2), 24, [{ offset: 8, type: 'f64' }])[0] as StatsFloatPartial;
    expect(r2.sum).toBe(floatRef(noSpecials).S);
    expect(r2.sumsq).toBe(floatRef(noSpecials).Q);
    expect(Object.is(r2.min, Math.min(...finite.slice(0, 8 * block)))).toBe(true);
    expect(r2.max).toBe(Math.max(...noSpecials));
  });

  it("f64 on the guessed path: the shift bound, signed zeros at a block's min or max, ±Inf next to the top exponent", () => {
    // Each case: a first block that sets the guessed exponent, then blocks tried aligned to it.
    const block = 2048;
    const run = (blocks: Array<(i: number) => number>) => {
      const vals = blocks.flatMap((kind) => Array.from({ length: block }, (_, i) => kind(i)));
      const b = Buffer.alloc(vals.length * 24);
      vals.forEach((v, i) => {
        b.writeDoubleLE(v, i * 24 + 8);
      });
      const r = statsOf(b, 24, [{ offset: 8, type: 'f64' }])[0] as StatsFloatPartial;
      const ref = floatRef(vals);
      expect(r.sum).toBe(ref.S);
      expect(r.sumsq).toBe(ref.Q);
      expect([r.nan, r.posinf, r.neginf]).toEqual([ref.nan, ref.posinf, ref.neginf]);
      return r;
    };
    const top = 2 - 2 ** -52;
    // every value 6 exponents above the guess with the largest mantissa: past the 2^58 bound of m'
    run([(i) => 1 + i / block, () => 64 * top, (i) => (i % 2 ? 1 : 64 * top)]);
    // a block whose min is -0 (and +0 among the values), then one whose max is +0 (and -0 among them)
    const lowZero = run([(i) => 1 + i / block, (i) => (i === 5 ? -0 : i === 9 ? 0 : 1.5)]);
    expect(Object.is(lowZero.min, -0)).toBe(true);
    const highZero = run([(i) => -1 - i / block, (i) => (i === 5 ? 0 : i === 9 ? -0 : -1.5)]);
    expect(Object.is(highZero.max, 0)).toBe(true);
    // the guess at the top exponent: ±Inf (raw exponent 0x7ff) must not pass as a finite value
    const huge = run([() => 1.7e308, (i) => (i === 3 ? Infinity : i === 4 ? -Infinity : 1.7e308)]);
    expect([huge.min, huge.max]).toEqual([-Infinity, Infinity]);
  });

  it('small fields sharing an 8-byte window (the fused pass and its fallbacks) match BigInt sums, extremes included', () => {
    type Small = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32';
    const range: Record<Small, [bigint, bigint]> = {
      i8: [-128n, 127n],
      u8: [0n, 255n],
      i16: [-32768n, 32767n],
      u16: [0n, 65535n],
      i32: [-(2n ** 31n), 2n ** 31n - 1n],
      u32: [0n, 2n ** 32n - 1n],
    };
    const write = (b: Buffer, t: Small, v: bigint, at: number): void => {
      const size = t.endsWith('8') ? 1 : t.endsWith('16') ? 2 : 4;
      const u = v < 0n ? v + 2n ** BigInt(8 * size) : v;
      b.writeUIntLE(Number(u), at, size);
    };
    // Windows: 2 wide; 1 wide + 3 narrow (the tick window); 5 narrow; 8 bytes (no fused clone: fallback);
    // a u16 across the window's halves (fallback); a big-endian i16 (fallback). Record size 13: windows at
    // offsets 0 and 5 overlap the record's end; 5000 records: whole blocks, a partial one, odd tails.
    const layouts: [number, Small, boolean?][][] = [
      [
        [0, 'i32'],
        [4, 'u32'],
      ],
      [
        [0, 'i32'],
        [4, 'u8'],
        [5, 'i8'],
        [6, 'u16'],
      ],
      [
        [0, 'u32'],
        [4, 'i16'],
        [6, 'i8'],
      ],
      [
        [0, 'i8'],
        [2, 'u16'],
        [4, 'u8'],
        [5, 'i8'],
        [6, 'i16'],
      ],
      [
        [0, 'u8'],
        [1, 'i8'],
        [2, 'u8'],
        [3, 'i8'],
        [4, 'u8'],
        [5, 'u8'],
        [6, 'i8'],
        [7, 'u8'],
      ],
      [
        [0, 'u8'],
        [3, 'u16'],
        [5, 'i8'],
      ],
      [
        [0, 'u16'],
        [2, 'i16', true],
        [4, 'i32'],
      ],
    ];
    // rs 16: an f64 at byte 8 too, so the window rides along its guessed loop (blocks 1 and 2: the guess holds,
    // then fails); 5003 records: a tail of 3 after the last whole vector.
    const n = 5003;
    const price = (i: number) => (i >> 11 === 2 ? 2 ** 40 : 1) * (1 + (i % 1000) / 1000);
    for (const layout of layouts) {
      for (const rs of [8, 13, 16]) {
        const base = rs === 16 ? 0 : rs - 8;
        const b = Buffer.alloc(n * rs);
        if (rs === 16) for (let i = 0; i < n; i++) b.writeDoubleLE(price(i), i * rs + 8);
        const cols = layout.map(() => [] as bigint[]);
        let seed = 12345;
        for (let i = 0; i < n; i++) {
          layout.forEach(([off, t, be], j) => {
            const [lo, hi] = range[t];
            seed = (seed * 1103515245 + 12345) % 2 ** 31;
            // block 0 (counted apart from the f64 loop at rs 16) keeps to the middle half of the range; later
            // blocks hold the extremes in runs (whole vectors of them) and alone, else anything
            const pick =
              i < 2048
                ? null
                : (i >> 4) % 37 === 3 || i % 1009 === 500
                  ? lo
                  : (i >> 4) % 37 === 5 || i % 1013 === 700
                    ? hi
                    : null;
            const quarter = i < 2048 ? (hi - lo) / 4n : 0n;
            const v = pick ?? lo + quarter + (BigInt(seed) * (hi - lo + 1n - 2n * quarter)) / 2n ** 31n;
            cols[j]!.push(v);
            if (be) b.writeInt16BE(Number(v), i * rs + base + off);
            else write(b, t, v, i * rs + base + off);
          });
        }
        const fields: FieldSpec[] = layout.map(([off, t, be]) => ({ offset: base + off, type: t, bigEndian: !!be }));
        if (rs === 16) fields.push({ offset: 8, type: 'f64' });
        const out = statsOf(b, rs, fields) as StatsIntPartial[];
        if (rs === 16) {
          const ref = floatRef(Array.from({ length: n }, (_, i) => price(i)));
          expect((out[layout.length] as unknown as StatsFloatPartial).sum).toBe(ref.S);
          expect((out[layout.length] as unknown as StatsFloatPartial).sumsq).toBe(ref.Q);
        }
        cols.forEach((col, j) => {
          expect(out[j], `${JSON.stringify(layout)} rs ${rs} field ${j}`).toEqual({
            count: n,
            sum: col.reduce((x, y) => x + y, 0n),
            sumsq: col.reduce((x, y) => x + y * y, 0n),
            min: col.reduce((x, y) => (y < x ? y : x)),
            max: col.reduce((x, y) => (y > x ? y : x)),
          });
        });
      }
    }
  });

  it('several fields of the tick layout at once', () => {
    // ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16
    const n = 5000;
    const b = Buffer.alloc(n * 24);
    const ts: bigint[] = [],
      price: number[] = [],
      qty: bigint[] = [];
    for (let i = 0; i < n; i++) {
      ts.push(1_700_000_000_000_000_000n + BigInt(i) * 1_000_003n);
      price.push(100 + (i % 97) / 8);
      qty.push(BigInt((i * 7919) % 100_000) - 50_000n);
      b.writeBigInt64LE(ts[i]!, i * 24);
      b.writeDoubleLE(price[i]!, i * 24 + 8);
      b.writeInt32LE(Number(qty[i]), i * 24 + 16);
      b.writeUInt8(i & 1, i * 24 + 20);
      b.writeUInt8(i & 255, i * 24 + 21);
      b.writeUInt16LE(i % 1000, i * 24 + 22);
    }
    const out = statsOf(b, 24, [
      { offset: 0, type: 'i64' },
      { offset: 8, type: 'f64' },
      { offset: 16, type: 'i32' },
      { offset: 22, type: 'u16' },
    ]);
    const sum = (xs: bigint[]) => xs.reduce((x, y) => x + y, 0n);
    expect((out[0] as StatsIntPartial).sum).toBe(sum(ts));
    expect((out[0] as StatsIntPartial).sumsq).toBe(ts.reduce((x, y) => x + y * y, 0n));
    expect((out[1] as StatsFloatPartial).sum).toBe(floatRef(price).S);
    expect((out[2] as StatsIntPartial).sum).toBe(sum(qty));
    expect((out[3] as StatsIntPartial).max).toBe(999n);
  });
});
