// Native gen: deterministic counter-based records (splitmix64 keyed by seed, record, field), checked
// byte for byte against a reference written from the spec, and for independence from how the
// records are split into calls.
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../src/native/addon.js';
import type { GenField as GenFieldSpec } from '../../src/gen/generate.js';

const addon = loadAddon();

const M64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;
const C1 = 0xbf58476d1ce4e5b9n;
const C2 = 0x94d049bb133111ebn;
const splitmix64 = (z: bigint) => {
  z = ((z ^ (z >> 30n)) * C1) & M64;
  z = ((z ^ (z >> 27n)) * C2) & M64;
  return z ^ (z >> 31n);
};
const WIDTH: Record<string, number> = { i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, i64: 8, u64: 8, f32: 4, f64: 8 };
const RANGE: Record<string, [bigint, bigint]> = {
  i8: [-128n, 127n],
  u8: [0n, 255n],
  i16: [-32768n, 32767n],
  u16: [0n, 65535n],
  i32: [-(2n ** 31n), 2n ** 31n - 1n],
  u32: [0n, 2n ** 32n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u64: [0n, M64],
};

/** The spec, record by record, in BigInt arithmetic. */
function genRef(first: number, records: number, rs: number, fields: GenFieldSpec[], seed: bigint): Uint8Array {
  const out = new Uint8Array(records * rs);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < records; i++) {
    const r = BigInt(first + i);
    fields.forEach((f, j) => {
      const key = (seed ^ ((r * GOLDEN) & M64) ^ ((BigInt(j + 1) * C1) & M64)) & M64;
      const u = (k: number) => splitmix64((key + BigInt(k) * GOLDEN) & M64);
      const unit = (k: number) => Number(u(k) >> 11n) * 2 ** -53;
      const pos = i * rs + f.offset;
      if (f.type === 'bytes') {
        for (let b = 0; b < f.size; b++) out[pos + b] = Number((u(b >> 3) >> BigInt(8 * (b & 7))) & 0xffn);
        return;
      }
      const d = f.dist!;
      const le = !f.bigEndian;
      const normal = () => (unit(0) + unit(1) + unit(2) + unit(3) - 2.0) * Math.sqrt(3);
      if (f.type === 'f32' || f.type === 'f64') {
        let v = 0;
        if (d.kind === 'uniform') v = (d.lo as number) + ((d.hi as number) - (d.lo as number)) * unit(0);
        if (d.kind === 'normal') v = d.mean + d.sd * normal();
        if (d.kind === 'seq') v = (d.start as number) + Number(r) * (d.step as number);
        if (d.kind === 'const') v = d.value as number;
        if (f.type === 'f32') dv.setFloat32(pos, v, le);
        else dv.setFloat64(pos, v, le);
        return;
      }
      let v = 0n;
      if (d.kind === 'uniform') {
        const span = ((d.hi as bigint) - (d.lo as bigint) + 1n) & M64;
        v = (d.lo as bigint) + (span === 0n ? u(0) : u(0) % span);
      }
      if (d.kind === 'normal') {
        const x = Math.floor(d.mean + d.sd * normal() + 0.5);
        const [mn, mx] = RANGE[f.type]!;
        v = x >= Number(mx) ? mx : x <= Number(mn) ? mn : BigInt(x);
      }
      if (d.kind === 'seq') v = (d.start as bigint) + r * (d.step as bigint);
      if (d.kind === 'const') v = d.value as bigint;
      const w = WIDTH[f.type]!;
      const bits = BigInt.asUintN(8 * w, v);
      for (let b = 0; b < w; b++) out[pos + (le ? b : w - 1 - b)] = Number((bits >> BigInt(8 * b)) & 0xffn);
    });
  }
  return out;
}

const RS = 72;
const FIELDS: GenFieldSpec[] = [
  { offset: 0, size: 8, type: 'i64', dist: { kind: 'seq', start: 1_700_000_000_000_000_000n, step: 1_000_003n } },
  { offset: 8, size: 8, type: 'f64', dist: { kind: 'normal', mean: 100, sd: 10 } },
  { offset: 16, size: 4, type: 'i32', bigEndian: true, dist: { kind: 'uniform', lo: -7n, hi: 1_000_003n } },
  { offset: 20, size: 1, type: 'u8', dist: { kind: 'uniform', lo: 0n, hi: 2n } },
  { offset: 21, size: 1, type: 'i8', dist: { kind: 'normal', mean: 0, sd: 100 } }, // clamps
  { offset: 22, size: 2, type: 'u16', bigEndian: true, dist: { kind: 'seq', start: 65530n, step: 3n } }, // wraps
  { offset: 24, size: 4, type: 'f32', bigEndian: true, dist: { kind: 'uniform', lo: -1, hi: 1 } },
  { offset: 28, size: 8, type: 'u64', dist: { kind: 'uniform', lo: 5n, hi: 2n ** 64n - 3n } },
  { offset: 36, size: 11, type: 'bytes' },
  { offset: 48, size: 8, type: 'i64', bigEndian: true, dist: { kind: 'normal', mean: 1e19, sd: 1e19 } }, // clamps at 2^63−1
  { offset: 56, size: 4, type: 'f32', dist: { kind: 'seq', start: 0.1, step: 0.3 } },
  { offset: 60, size: 2, type: 'i16', dist: { kind: 'const', value: -2n } },
  { offset: 62, size: 8, type: 'u64', dist: { kind: 'uniform', lo: 0n, hi: 2n ** 64n - 1n } }, // full range
  { offset: 70, size: 1, type: 'u8', dist: { kind: 'uniform', lo: 0n, hi: 127n } }, // power of two
  // byte 71: padding
];

describe.runIf(addon)('native gen', () => {
  const a = addon!;

  it('matches the reference written from the spec, byte for byte', () => {
    for (const [first, n, seed] of [
      [0, 1500, 42n],
      [123_456_789_012, 300, 0xdeadbeefcafebaben],
      [2 ** 52, 50, M64],
    ] as const) {
      const got = new Uint8Array(n * RS).fill(0xee); // padding must come back zero
      a.gen(got, first, n, RS, FIELDS, seed);
      const want = genRef(first, n, RS, FIELDS, seed);
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
    }
  });

  it('gives the same records whatever the split into calls', () => {
    const n = 5000;
    const whole = new Uint8Array(n * RS);
    a.gen(whole, 0, n, RS, FIELDS, 7n);
    const pieces = new Uint8Array(n * RS);
    let r = 0;
    for (const len of [1, 1023, 1025, 337, 2000, 614]) {
      a.gen(pieces.subarray(r * RS), r, len, RS, FIELDS, 7n);
      r += len;
    }
    expect(r).toBe(n);
    expect(Buffer.from(pieces).equals(Buffer.from(whole))).toBe(true);
    // another seed gives other records
    const other = new Uint8Array(n * RS);
    a.gen(other, 0, n, RS, FIELDS, 8n);
    expect(Buffer.from(other).equals(Buffer.from(whole))).toBe(false);
  });

  it('keeps uniform integers within their inclusive bounds, hitting both ends', () => {
    const n = 20_000;
    const buf = new Uint8Array(n * 2);
    a.gen(buf, 0, n, 2, [{ offset: 0, size: 2, type: 'i16', dist: { kind: 'uniform', lo: -3n, hi: 3n } }], 1n);
    const dv = new DataView(buf.buffer);
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) seen.add(dv.getInt16(i * 2, true));
    expect([...seen].sort((x, y) => x - y)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
  });

  it('validates its arguments', () => {
    const t = new Uint8Array(10);
    const f: GenFieldSpec[] = [{ offset: 0, size: 1, type: 'u8', dist: { kind: 'const', value: 1n } }];
    expect(() => a.gen(t, 0, 11, 1, f, 0n)).toThrow(TypeError);
    expect(() =>
      a.gen(t, 0, 1, 1, [{ offset: 0, size: 2, type: 'u8', dist: { kind: 'const', value: 1n } }], 0n),
    ).toThrow(/size/);
    expect(() =>
      a.gen(t, 0, 1, 1, [{ offset: 0, size: 1, type: 'u8', dist: { kind: 'uniform', lo: 5n, hi: 4n } }], 0n),
    ).toThrow(/hi/);
    expect(() =>
      a.gen(t, 0, 1, 1, [{ offset: 0, size: 1, type: 'u8', dist: { kind: 'uniform', lo: 0n, hi: 256n } }], 0n),
    ).toThrow(/range of u8/);
    expect(() => a.gen(t, 0, 1, 1, [{ offset: 0, size: 1, type: 'u8', dist: { kind: 'zipf' } as never }], 0n)).toThrow(
      /kind/,
    );
    expect(() => a.gen([] as never, 0, 1, 1, f, 0n)).toThrow(/Uint8Array/);
  });
});
