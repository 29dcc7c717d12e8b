// Native hist: NumPy binning (x == hi in the last bin, values on inner edges, the ±1 fix-up),
// below/above/NaN, integer fields converted to double, step == 0, many bins.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernels } from './kernels.js';
import type { FieldArg as FieldSpec } from '../../src/ops/lib/fields.js';
import type { HistPartial } from '../../src/ops/hist.js';

const addon = loadKernels();
// Created on first use (a skipped file leaves nothing behind), removed after the file's tests.
let tempDir: string | undefined;
const dir = (): string => (tempDir ??= mkdtempSync(join(tmpdir(), 'bigproc-native-hist-')));
afterAll(() => {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});
let counter = 0;

function histOf(
  bytes: Buffer,
  recordSize: number,
  field: FieldSpec,
  lo: number,
  hi: number,
  bins: number,
): HistPartial {
  const p = join(dir(), `h${counter++}.bin`);
  writeFileSync(p, bytes);
  const m = new addon!.Mapping(p);
  try {
    return addon!.hist(m, 0, bytes.length / recordSize, recordSize, field, lo, hi, bins)!;
  } finally {
    m.close();
  }
}

function f64(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => {
    b.writeDoubleLE(v, i * 8);
  });
  return b;
}

/** Reference written from the spec (numpy.histogram with uniform bins). */
function histRef(values: number[], lo: number, hi: number, bins: number): HistPartial {
  const step = (hi - lo) / bins;
  const e = (i: number) => (i === bins ? hi : step === 0 ? (i / bins) * (hi - lo) + lo : i * step + lo);
  const out: HistPartial = { counts: new Array(bins).fill(0), below: 0, above: 0, nan: 0 };
  for (const x of values) {
    if (Number.isNaN(x)) out.nan++;
    else if (x < lo) out.below++;
    else if (x > hi) out.above++;
    else {
      let k = Math.trunc(((x - lo) / (hi - lo)) * bins);
      if (k === bins) k = bins - 1;
      if (x < e(k)) k -= 1;
      else if (k !== bins - 1 && x >= e(k + 1)) k += 1;
      out.counts[k]++;
    }
  }
  return out;
}

describe.runIf(addon)('native hist', () => {
  const F: FieldSpec = { offset: 0, type: 'f64' };

  it('hand-checked bins: x == hi goes to the last bin, inner edges go up, outside values apart', () => {
    const vals = [0, 1, 9.999, 10, 10.0001, -1, NaN, 5, 2, -0, Infinity, -Infinity];
    expect(histOf(f64(vals), 8, F, 0, 10, 10)).toEqual({
      counts: [2, 1, 1, 0, 0, 1, 0, 0, 0, 2],
      below: 2,
      above: 2,
      nan: 1,
    });
  });

  it('edges from i*step + lo: 0.3 lands in bin 2 (e[3] = 0.30000000000000004), like numpy', () => {
    // 0.1 → 1, 0.2 → 2 (e[2] = 0.2), 0.3 → 2, 0.6 → 5 (e[6] = 0.6000000000000001), 0.7 → 6
    const r = histOf(f64([0.3, 0.6, 0.7, 0.1, 0.2]), 8, F, 0, 1, 10);
    expect(r.counts).toEqual([0, 1, 2, 0, 0, 1, 1, 0, 0, 0]);
    const vals = Array.from({ length: 101 }, (_, i) => i / 100).concat(Array.from({ length: 11 }, (_, i) => i * 0.1));
    expect(histOf(f64(vals), 8, F, 0, 1, 10)).toEqual(histRef(vals, 0, 1, 10));
  });

  it('matches the reference on values placed on and around every edge', () => {
    const lo = -3.7,
      hi = 12.9,
      bins = 37;
    const step = (hi - lo) / bins;
    const vals: number[] = [];
    for (let i = 0; i <= bins; i++) {
      const e = i === bins ? hi : i * step + lo;
      vals.push(e, e - Number.EPSILON * Math.abs(e), e + Number.EPSILON * Math.abs(e), (i * (hi - lo)) / bins + lo);
    }
    for (let i = 0; i < 10_000; i++) vals.push(lo - 1 + (((i * 7919) % 10007) / 10007) * (hi - lo + 2));
    expect(histOf(f64(vals), 8, F, lo, hi, bins)).toEqual(histRef(vals, lo, hi, bins));
  });

  it('the multiply guess and the exact fallback: every edge ± 1..3 ulps, ranges wide and narrow for their magnitude', () => {
    const view = new DataView(new ArrayBuffer(8));
    const ulps = (x: number, k: number): number => {
      // Step x by k units in the last place (k may be negative); finite x only.
      view.setFloat64(0, x);
      const bits = view.getBigInt64(0);
      view.setBigInt64(0, bits + BigInt(x < 0 ? -k : k));
      return view.getFloat64(0);
    };
    // [lo, hi, bins, extra values]: the first ones take the multiply guess (magnitude·bins/span <
    // 2^40); the others are ranges so narrow for their magnitude that the kernel must keep NumPy's
    // divide (the extra values are ones where the multiply guess would end in another bin).
    const cases: Array<[number, number, number, number[]?]> = [
      [0, 1, 10],
      [-3.7, 12.9, 37],
      [80, 120, 64],
      [0.1, 0.7, 3],
      [-1e300, 1e300, 1000],
      [1e6, 1e6 + 0.01, 1000],
      [1e6, 1e6 + 1e-4, 1000],
      [1, 1 + 2 ** -40, 7],
      [1.4845246438305715, 1.484524643830745, 4970, [1.4845246438306936]],
      [0.23518243390665172, 0.23518243390665772, 3636, [0.23518243390665255]],
      [2979.941582560031, 2979.94158256062, 2646, [2979.94158256014]],
    ];
    for (const [lo, hi, bins, extra = []] of cases) {
      const step = (hi - lo) / bins;
      const vals: number[] = [...extra];
      for (let i = 0; i <= bins; i++) {
        const e = i === bins ? hi : i * step + lo;
        for (let k = -3; k <= 3; k++) vals.push(ulps(e, k));
        vals.push((i * (hi - lo)) / bins + lo);
      }
      expect(histOf(f64(vals), 8, F, lo, hi, bins), `${lo}:${hi} ${bins} bins`).toEqual(histRef(vals, lo, hi, bins));
    }
  });

  it('one bin, and the step == 0 case (a subnormal range)', () => {
    expect(histOf(f64([1, 2, 3, 0]), 8, F, 1, 3, 1)).toEqual({ counts: [3], below: 1, above: 0, nan: 0 });
    const vals = [0, 5e-324, 1e-323, -0];
    expect(histOf(f64(vals), 8, F, 0, 5e-324, 4)).toEqual(histRef(vals, 0, 5e-324, 4));
  });

  it('integer fields are converted to double (u64 near 2^64, big-endian i16)', () => {
    const b = Buffer.alloc(4 * 10);
    const u = [0n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n - 1025n];
    const s = [-32768, 1, 300, -2];
    u.forEach((v, i) => {
      b.writeBigUInt64LE(v, i * 10);
      b.writeInt16BE(s[i]!, i * 10 + 8);
    });
    const r = histOf(b, 10, { offset: 0, type: 'u64' }, 0, 2 ** 64, 4);
    expect(r).toEqual(histRef(u.map(Number), 0, 2 ** 64, 4));
    expect(r.counts).toEqual([1, 0, 1, 2]); // 2^64−1 and 2^64−1025 round to 2^64 == hi
    expect(histOf(b, 10, { offset: 8, type: 'i16', bigEndian: true }, -100, 100, 2)).toEqual({
      counts: [1, 1],
      below: 1,
      above: 1,
      nan: 0,
    });
  });

  it('many bins (single count array) and many blocks', () => {
    const n = 60_000;
    const vals = Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1_000_003) / 1000.003);
    const bins = 100_000;
    expect(histOf(f64(vals), 8, F, 0, 1000, bins)).toEqual(histRef(vals, 0, 1000, bins));
    const f32 = Buffer.alloc(n * 4);
    vals.forEach((v, i) => {
      f32.writeFloatLE(v, i * 4);
    });
    expect(histOf(f32, 4, { offset: 0, type: 'f32' }, 100, 900, 7)).toEqual(
      histRef(vals.map(Math.fround), 100, 900, 7),
    );
  });
});
