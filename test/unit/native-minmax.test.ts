// Native minmax against the JS oracle and against stats' min/max: every type, both byte orders, type
// limits, NaN (every payload), ±0, ±Inf, subnormals, 64-bit integers beyond 2^53, all-NaN and empty spans.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernels } from './kernels.js';
import { parseSchema } from '../../src/layout/schema.js';
import { type MinMaxAcc, type MinMaxSpec, minmax, minmaxJs } from '../../src/ops/minmax.js';
import { stats } from '../../src/ops/stats.js';

const addon = loadKernels();
let tempDir: string | undefined;
const dir = (): string => (tempDir ??= mkdtempSync(join(tmpdir(), 'bigproc-native-minmax-')));
afterAll(() => {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});
let seq = 0;

const TYPES = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64'] as const;
type T = (typeof TYPES)[number];
const SIZE: Record<T, number> = { i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, i64: 8, u64: 8, f32: 4, f64: 8 };

/** Deterministic pseudo-random bytes (xorshift), so a failure reproduces. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/** Bit patterns worth planting: type limits, ±0, ±Inf, NaNs with odd payloads, subnormals. */
function special(t: T, k: number): number[] {
  const w = SIZE[t];
  const ints = [
    [0],
    [0xff].concat(new Array(w - 1).fill(0xff)),
    [0x80].concat(new Array(w - 1).fill(0)),
    [0x7f].concat(new Array(w - 1).fill(0xff)),
  ];
  const f64 = [
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0x80, 0, 0, 0, 0, 0, 0, 0],
    [0x7f, 0xf0, 0, 0, 0, 0, 0, 0],
    [0xff, 0xf0, 0, 0, 0, 0, 0, 0],
    [0x7f, 0xf8, 0, 0, 0, 0, 0, 1],
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    [0, 0, 0, 0, 0, 0, 0, 1],
    [0x80, 0, 0, 0, 0, 0, 0, 1],
  ];
  const f32 = [
    [0, 0, 0, 0],
    [0x80, 0, 0, 0],
    [0x7f, 0x80, 0, 0],
    [0xff, 0x80, 0, 0],
    [0x7f, 0xc0, 0, 1],
    [0xff, 0xff, 0xff, 0xff],
    [0, 0, 0, 1],
    [0x80, 0, 0, 1],
  ];
  const list = t === 'f64' ? f64 : t === 'f32' ? f32 : ints;
  return list[k % list.length]!; // big-endian byte order
}

function run(schema: string, bytes: Uint8Array, cut: number) {
  const layout = parseSchema(schema);
  const rs = layout.recordSize;
  const records = Math.floor(bytes.length / rs);
  const file = join(dir(), `m${seq++}.bin`);
  writeFileSync(file, bytes);
  const spec = minmax.prepare({}, layout, () => Promise.reject(new Error('no pre-pass'))) as MinMaxSpec;
  const m = new addon!.Mapping(file);
  try {
    const parts = [
      [0, cut],
      [cut, records - cut],
    ] as const;
    let nat = minmax.init(spec);
    let js = minmax.init(spec);
    for (const [first, n] of parts) {
      nat = minmax.merge(spec, nat, addon!.minmax(m, first * rs, n, rs, spec.fields)!);
      js = minmax.merge(
        spec,
        js,
        minmaxJs(spec, new DataView(bytes.buffer, bytes.byteOffset + first * rs, n * rs), n, rs),
      );
    }
    const st = stats.finalize(spec, addon!.stats(m, 0, records, rs, spec.fields)!);
    return { spec, nat, js, st, result: minmax.finalize(spec, nat) };
  } finally {
    m.close();
  }
}

/** Same value, −0 told from +0, NaN equal to NaN. */
function same(a: MinMaxAcc[], b: MinMaxAcc[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => {
    const y = b[i]!;
    expect([x.count, x.nan]).toEqual([y.count, y.nan]);
    expect(Object.is(x.min, y.min), `min ${String(x.min)} vs ${String(y.min)}`).toBe(true);
    expect(Object.is(x.max, y.max), `max ${String(x.max)} vs ${String(y.max)}`).toBe(true);
  });
}

describe.skipIf(!addon)('native minmax', () => {
  for (const big of [false, true]) {
    for (const t of TYPES) {
      it(`${big ? 'big' : 'little'}-endian ${t}: equals the JS oracle and stats' min/max`, () => {
        const schema = `${big ? '>' : ''}a:${t},pad<3>,b:${t}`;
        const rs = 2 * SIZE[t] + 3;
        for (let trial = 0; trial < 6; trial++) {
          const records = [0, 1, 7, 300, 2049, 5000][trial]!;
          const bytes = randomBytes(records * rs, 17 + trial * 31 + t.length);
          // Plant specials in field a (big-endian bytes, reversed for little-endian).
          for (let r = 0; r < records; r += 3) {
            const pat = special(t, r + trial);
            const le = big ? pat : [...pat].reverse();
            bytes.set(le, r * rs);
          }
          const { nat, js, st, result } = run(schema, bytes, Math.floor(records / 3));
          same(nat, js);
          for (const name of ['a', 'b']) {
            const s = st.fields[name]!;
            const mm = result.fields[name]!;
            expect([mm.count, mm.min, mm.max]).toEqual([s.count, s.min, s.max]);
            expect(Object.is(mm.min, s.min) && Object.is(mm.max, s.max)).toBe(true);
          }
        }
      });
    }
  }

  it('−0 is the min and +0 the max of zeros; NaN only: count 0, min/max null; ±Inf are values', () => {
    const f64 = (xs: number[]) => {
      const b = Buffer.alloc(xs.length * 8);
      xs.forEach((x, i) => {
        b.writeDoubleLE(x, i * 8);
      });
      return new Uint8Array(b);
    };
    let r = run('x:f64', f64([0, -0, 0]), 1);
    expect(Object.is(r.nat[0]!.min, -0) && Object.is(r.nat[0]!.max, 0)).toBe(true);
    r = run('x:f64', f64([NaN, NaN]), 1);
    expect(r.nat[0]).toEqual({ count: 0, nan: 2, min: null, max: null });
    expect(r.result.fields.x).toEqual({ type: 'f64', count: 0, nan: 2, min: null, max: null });
    r = run('x:f64', f64([-Infinity, 3, NaN, Infinity]), 2);
    expect(r.result.fields.x).toEqual({ type: 'f64', count: 3, nan: 1, min: '-Infinity', max: 'Infinity' });
  });

  it('64-bit integers beyond 2^53 are exact (decimal strings in the result)', () => {
    const b = Buffer.alloc(24);
    b.writeBigUInt64LE(2n ** 64n - 1n, 0);
    b.writeBigUInt64LE(2n ** 53n + 1n, 8);
    b.writeBigUInt64LE(5n, 16);
    expect(run('x:u64', new Uint8Array(b), 1).result.fields.x).toEqual({
      type: 'u64',
      count: 3,
      nan: 0,
      min: 5,
      max: '18446744073709551615',
    });
    const c = Buffer.alloc(16);
    c.writeBigInt64LE(-(2n ** 63n), 0);
    c.writeBigInt64LE(2n ** 53n + 1n, 8);
    expect(run('x:i64', new Uint8Array(c), 1).result.fields.x).toMatchObject({
      min: '-9223372036854775808',
      max: '9007199254740993',
    });
  });

  it('refuses a field past the record or of no numeric type, in one TypeError naming it', () => {
    const file = join(dir(), `bad${seq++}.bin`);
    writeFileSync(file, new Uint8Array(64));
    const m = new addon!.Mapping(file);
    try {
      expect(() => addon!.minmax(m, 0, 8, 8, [{ offset: 4, type: 'f64' }])).toThrow(/fields\[0\]\.offset/);
      expect(() => addon!.minmax(m, 0, 8, 8, [{ offset: 0, type: 'f16' as never }])).toThrow(TypeError);
      expect(addon!.minmax(m, 0, 0, 8, [{ offset: 0, type: 'u8' }])).toEqual([
        { count: 0, nan: 0, min: null, max: null },
      ]);
    } finally {
      m.close();
    }
  });
});
