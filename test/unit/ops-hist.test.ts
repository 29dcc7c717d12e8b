// The hist op: numpy.histogram semantics (linspace edges, half-open bins but the last, closed),
// below/above/nan counts, the range from a pre-pass, option errors, and merge invariance.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type HistSpec, binEdges, binIndex, hist } from '../../src/ops/hist.js';
import { stats } from '../../src/ops/stats.js';
import { minmax } from '../../src/ops/minmax.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import type { OpOptions, PrePass } from '../../src/ops/types.js';
import { BigprocError } from '../../src/errors.js';

const F64 = parseSchema('x:f64');

function buffer(layout: Layout, field: string, xs: (number | bigint)[]): Uint8Array {
  const f = layout.fields.find((q) => q.name === field)!;
  const buf = new Uint8Array(layout.recordSize * xs.length);
  const dv = new DataView(buf.buffer);
  const le = !layout.bigEndian;
  xs.forEach((x, i) => {
    const p = i * layout.recordSize + f.offset;
    switch (f.type) {
      case 'f64':
        dv.setFloat64(p, Number(x), le);
        break;
      case 'f32':
        dv.setFloat32(p, Number(x), le);
        break;
      case 'u8':
        dv.setUint8(p, Number(x));
        break;
      case 'i16':
        dv.setInt16(p, Number(x), le);
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
      default:
        throw new Error(`test helper: ${f.type}`);
    }
  });
  return buf;
}

function chunk(buf: Uint8Array, recordSize: number, first = 0, count = buf.length / recordSize) {
  return {
    bytes: new DataView(buf.buffer, buf.byteOffset + first * recordSize, count * recordSize),
    records: count,
    recordSize,
  };
}

const noPrePass: PrePass = async () => {
  throw new Error('no pre-pass expected when --range is given');
};

/**
 * A pre-pass that really runs the minmax op over the same records (hist's range pass), and checks on
 * the way that its count, min and max are stats' (what the pre-pass was before minmax existed).
 */
function rangePrePass(layout: Layout, buf: Uint8Array): PrePass & { calls: [string, OpOptions][] } {
  const calls: [string, OpOptions][] = [];
  const fn = (async (op: string, options: OpOptions) => {
    calls.push([op, options]);
    expect(op).toBe('minmax');
    const spec = await minmax.prepare(options, layout, noPrePass);
    const result = minmax.finalize(spec, minmax.js(spec, chunk(buf, layout.recordSize), false).partial);
    const st = stats.finalize(spec, stats.js(spec, chunk(buf, layout.recordSize), false).partial);
    for (const [name, f] of Object.entries(result.fields)) {
      const s = st.fields[name]!;
      expect([f.count, f.min, f.max]).toEqual([s.count, s.min, s.max]);
    }
    return result;
  }) as PrePass & { calls: [string, OpOptions][] };
  fn.calls = calls;
  return fn;
}

/** A fake pre-pass returning a minmax-shaped result (stats' has the same count, min and max). */
function fakePrePass(
  field: string,
  fs: { count: number; min: number | string | null; max: number | string | null },
): PrePass {
  return async () => ({ fields: { [field]: { type: 'f64', nan: 0, ...fs } } });
}

async function histogram(xs: (number | bigint)[], options: OpOptions, layout: Layout = F64, prePass?: PrePass) {
  const field = String(options.field ?? 'x');
  const buf = buffer(layout, field, xs);
  const spec = await hist.prepare({ field, ...options }, layout, prePass ?? rangePrePass(layout, buf));
  return { spec, result: hist.finalize(spec, hist.js(spec, chunk(buf, layout.recordSize), false).partial) };
}

async function usageError(p: unknown): Promise<BigprocError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BigprocError);
    expect((e as BigprocError).exitCode).toBe(2);
    return e as BigprocError;
  }
  throw new Error('expected a usage error');
}

describe('hist: numpy.histogram reference outputs', () => {
  it('np.histogram([0..10], bins=5, range=(0,10)) → [2,2,2,2,3]', async () => {
    const { result } = await histogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { bins: 5, range: '0:10' }, F64, noPrePass);
    expect(result).toEqual({
      field: 'x',
      bins: 5,
      range: [0, 10],
      counts: [2, 2, 2, 2, 3],
      below: 0,
      above: 0,
      nan: 0,
    });
  });

  it('np.histogram([0.1,0.2,0.3], bins=3, range=(0.1,0.3)) → [1,1,1]', async () => {
    const { result } = await histogram([0.1, 0.2, 0.3], { bins: 3, range: '0.1:0.3' }, F64, noPrePass);
    expect(result.counts).toEqual([1, 1, 1]);
    expect(result.range).toEqual([0.1, 0.3]);
    expect(result.below + result.above + result.nan).toBe(0);
  });

  it('np.histogram([1,2,2,3,3,3], bins=3) → [1,2,3] over (1,3), range from a minmax pre-pass', async () => {
    const buf = buffer(F64, 'x', [1, 2, 2, 3, 3, 3]);
    const pre = rangePrePass(F64, buf);
    const spec = await hist.prepare({ field: 'x', bins: '3' }, F64, pre);
    expect(pre.calls).toEqual([['minmax', { fields: 'x' }]]);
    expect(spec).toMatchObject({ name: 'x', lo: 1, hi: 3, bins: 3 });
    const r = hist.finalize(spec, hist.js(spec, chunk(buf, 8), false).partial);
    expect(r.counts).toEqual([1, 2, 3]);
    expect(r.range).toEqual([1, 3]);
  });

  it('linspace edges: np.linspace(0,1,11) has 0.30000000000000004, 0.6000000000000001, 0.7000000000000001', async () => {
    const e = binEdges(0, 1, 10);
    expect(Array.from(e)).toEqual([
      0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9, 1,
    ]);
    // so 0.3, 0.6 and 0.7 fall one bin lower than a naive floor(x·10) would say
    const { result } = await histogram(
      [0.3, 0.6, 0.7, 0.30000000000000004],
      { bins: 10, range: '0:1' },
      F64,
      noPrePass,
    );
    expect(result.counts).toEqual([0, 0, 1, 1, 0, 1, 1, 0, 0, 0]);
  });

  it('the last bin is closed, the others half-open; lo and hi themselves are inside', async () => {
    const { result } = await histogram(
      [-1, 0, 4.999999999999999, 5, 10, 10.000000000000002, NaN, -Infinity, Infinity],
      { bins: 2, range: '0:10' },
      F64,
      noPrePass,
    );
    expect(result.counts).toEqual([2, 2]);
    expect(result.below).toBe(2);
    expect(result.above).toBe(2);
    expect(result.nan).toBe(1);
  });

  it('negative ranges and a single bin', async () => {
    const r = await histogram([-3, -2.5, -2, -1], { bins: 1, range: '-3:-2' }, F64, noPrePass);
    expect(r.result.counts).toEqual([3]);
    expect(r.result.above).toBe(1);
    const r2 = await histogram([-10, -5, 0, 5, 10], { bins: 4, range: '-10:10' }, F64, noPrePass);
    expect(r2.result.counts).toEqual([1, 1, 1, 2]);
  });

  it('binEdges with a zero step (lo == hi) and tiny ranges', () => {
    expect(Array.from(binEdges(5, 5, 4))).toEqual([5, 5, 5, 5, 5]);
    const e = binEdges(1, 1 + 2 ** -50, 4);
    expect(e[0]).toBe(1);
    expect(e[4]).toBe(1 + 2 ** -50);
    for (let i = 0; i < 4; i++) expect(e[i]! <= e[i + 1]!).toBe(true);
  });
});

describe('hist: prepare', () => {
  it('defaults to 10 bins', async () => {
    const spec = await hist.prepare({ field: 'x', range: '0:1' }, F64, noPrePass);
    expect(spec).toEqual({ name: 'x', field: { offset: 0, type: 'f64', bigEndian: false }, lo: 0, hi: 1, bins: 10 });
  });

  it('--range forms', async () => {
    const p = (range: string) => hist.prepare({ field: 'x', range }, F64, noPrePass);
    expect(await p('80:120')).toMatchObject({ lo: 80, hi: 120 });
    expect(await p(' -5:-1 ')).toMatchObject({ lo: -5, hi: -1 });
    expect(await p('1e3:2.5e3')).toMatchObject({ lo: 1000, hi: 2500 });
    expect(await p('5:5')).toMatchObject({ lo: 4.5, hi: 5.5 }); // numpy widens an empty range by ±0.5
  });

  it('without --range: min and max from the pre-pass, widened when equal, [0,1] when empty', async () => {
    expect(await hist.prepare({ field: 'x' }, F64, fakePrePass('x', { count: 3, min: -2, max: 7 }))).toMatchObject({
      lo: -2,
      hi: 7,
    });
    expect(await hist.prepare({ field: 'x' }, F64, fakePrePass('x', { count: 3, min: 4, max: 4 }))).toMatchObject({
      lo: 3.5,
      hi: 4.5,
    });
    expect(await hist.prepare({ field: 'x' }, F64, fakePrePass('x', { count: 0, min: null, max: null }))).toMatchObject(
      { lo: 0, hi: 1 },
    );
    // u64 extremes come back from stats as decimal strings
    const big = await hist.prepare(
      { field: 'x' },
      F64,
      fakePrePass('x', { count: 2, min: '9007199254740993', max: '18446744073709551615' }),
    );
    // as doubles: 2^53 + 1 rounds down to 2^53, 2^64 - 1 up to 2^64
    expect(big).toMatchObject({ lo: 2 ** 53, hi: 2 ** 64 });
  });

  it('a non-finite autodetected range needs an explicit --range', async () => {
    const err = await usageError(
      hist.prepare({ field: 'x' }, F64, fakePrePass('x', { count: 2, min: 1, max: 'Infinity' })),
    );
    expect(err.message).toContain('--range');
    await usageError(hist.prepare({ field: 'x' }, F64, fakePrePass('x', { count: 2, min: '-Infinity', max: 1 })));
    // real data: an infinity in the field
    const buf = buffer(F64, 'x', [1, Infinity]);
    await usageError(hist.prepare({ field: 'x' }, F64, rangePrePass(F64, buf)));
  });

  it('option errors (exit 2) name the option', async () => {
    const L = parseSchema('x:f64,id:bytes<4>');
    expect((await usageError(hist.prepare({}, L, noPrePass))).message).toContain('--field');
    expect((await usageError(hist.prepare({ field: 'nope', range: '0:1' }, L, noPrePass))).message).toContain('"nope"');
    expect((await usageError(hist.prepare({ field: 'id', range: '0:1' }, L, noPrePass))).message).toContain('bytes<4>');
    for (const bins of ['0', '-1', '2.5', 'ten', 0, 2 ** 24 + 1]) {
      expect((await usageError(hist.prepare({ field: 'x', bins, range: '0:1' }, L, noPrePass))).message).toContain(
        '--bins',
      );
    }
    expect(await hist.prepare({ field: 'x', bins: 2 ** 24, range: '0:1' }, L, noPrePass)).toMatchObject({
      bins: 2 ** 24,
    });
    for (const range of ['abc', '3:1', '1:inf', '1:', ':1', '1:2:3', 'nan:1', '1-2']) {
      const err = await usageError(hist.prepare({ field: 'x', range }, L, noPrePass));
      expect(err.message).toContain('--range');
      expect(err.message).toContain(JSON.stringify(range));
    }
  });
});

describe('hist: js on other field types', () => {
  it('integer fields are binned as doubles', async () => {
    const L = parseSchema('pad<3>,v:i16');
    const r = await histogram([-5, 0, 1, 2, 3, 4, 5, 6], { field: 'v', bins: 5, range: '0:5' }, L, noPrePass);
    expect(r.result.counts).toEqual([1, 1, 1, 1, 2]);
    expect(r.result.below).toBe(1);
    expect(r.result.above).toBe(1);
  });

  it('u64 values near 2^64 round to doubles and can land on hi', async () => {
    const L = parseSchema('v:u64');
    const r = await histogram(
      [2n ** 64n - 1n, 0n, 2n ** 63n],
      { field: 'v', bins: 2, range: '0:18446744073709551616' },
      L,
      noPrePass,
    );
    expect(r.result.counts).toEqual([1, 2]);
    // and the autodetected range of u64 data
    const r2 = await histogram([2n ** 64n - 1n, 2n ** 53n + 1n], { field: 'v', bins: 2 }, L);
    expect(r2.result.range).toEqual([2 ** 53, 2 ** 64]);
    expect(r2.result.counts).toEqual([1, 1]);
  });

  it('big-endian f32', async () => {
    const L = parseSchema('>a:u8,v:f32');
    const r = await histogram([0.5, 1.5, 2.5, NaN], { field: 'v', bins: 3, range: '0:3' }, L, noPrePass);
    expect(r.result.counts).toEqual([1, 1, 1]);
    expect(r.result.nan).toBe(1);
  });

  it('format marks the last bin closed and reports below/above/nan', async () => {
    const { spec, result } = await histogram([0, 5, 10, 11, NaN], { bins: 2, range: '0:10' }, F64, noPrePass);
    const text = hist.format(spec, result);
    expect(text).toContain('[0, 5)');
    expect(text).toContain('[5, 10]');
    expect(text).toContain('below 0');
    expect(text).toContain('above 1');
    expect(text).toContain('nan 1');
  });
});

describe('hist: properties', () => {
  /** reference bin: the k with edges[k] <= x < edges[k+1] (x <= edges[bins] in the last bin) */
  function refBin(x: number, edges: Float64Array): number {
    const bins = edges.length - 1;
    for (let k = 0; k < bins; k++) {
      if (x >= edges[k]! && (x < edges[k + 1]! || (k === bins - 1 && x <= edges[bins]!))) return k;
    }
    return -1;
  }

  // well-conditioned ranges: the first guess is never off by more than one bin
  const rangeArb = fc
    .tuple(
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      fc.integer({ min: 1, max: 2_000_000 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 1, max: 1000 }),
    )
    .map(([lo, width, decimals, bins]) => ({ lo: lo / 10 ** decimals, hi: (lo + width) / 10 ** decimals, bins }));

  it('every in-range value lands in the bin its edges say (numpy semantics)', () => {
    fc.assert(
      fc.property(
        rangeArb,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        ({ lo, hi, bins }, ts, edgePicks) => {
          const edges = binEdges(lo, hi, bins);
          expect(edges[0]).toBe(lo);
          expect(edges[bins]).toBe(hi);
          const xs = [
            ...ts.map((t) => Math.min(hi, lo + t * (hi - lo))),
            ...edgePicks.map((k) => edges[k % (bins + 1)]!),
            lo,
            hi,
          ];
          for (const x of xs) {
            if (x < lo || x > hi) continue;
            const k = binIndex(x, lo, hi, bins, edges);
            const want = refBin(x, edges);
            if (k !== want) throw new Error(`x=${x} lo=${lo} hi=${hi} bins=${bins}: got bin ${k}, edges say ${want}`);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  const valueArb = fc.oneof(
    { weight: 6, arbitrary: fc.double({ min: -20, max: 120, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 100, 10, 5e-324) },
    { weight: 1, arbitrary: fc.double() },
  );

  it('counts add up: sum(counts) + below + above + nan = records', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(valueArb, { maxLength: 60 }), rangeArb, async (xs, { lo, hi, bins }) => {
        const { result } = await histogram(xs, { bins, range: `${lo}:${hi}` }, F64, noPrePass);
        const inRange = result.counts.reduce((a, b) => a + b, 0);
        expect(inRange + result.below + result.above + result.nan).toBe(xs.length);
        expect(result.nan).toBe(xs.filter((x) => Number.isNaN(x)).length);
        expect(result.below).toBe(xs.filter((x) => x < lo).length);
        expect(result.above).toBe(xs.filter((x) => x > hi).length);
        expect(result.counts).toHaveLength(bins);
      }),
      { numRuns: 200 },
    );
  });

  it('merge invariance: any chunking merged in order gives the same partial and result', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(valueArb, { maxLength: 60 })
          .chain((xs) => fc.tuple(fc.constant(xs), fc.array(fc.integer({ min: 0, max: xs.length }), { maxLength: 6 }))),
        fc.integer({ min: 1, max: 40 }),
        async ([xs, cuts], bins) => {
          const spec: HistSpec = await hist.prepare({ field: 'x', bins, range: '0:100' }, F64, noPrePass);
          const buf = buffer(F64, 'x', xs);
          const whole = hist.js(spec, chunk(buf, 8), false).partial;
          const bounds = [0, ...[...cuts].sort((a, b) => a - b), xs.length];
          let merged = hist.init(spec);
          for (let i = 0; i + 1 < bounds.length; i++) {
            merged = hist.merge(
              spec,
              merged,
              hist.js(spec, chunk(buf, 8, bounds[i]!, bounds[i + 1]! - bounds[i]!), false).partial,
            );
          }
          expect(merged).toEqual(whole);
          expect(hist.finalize(spec, merged)).toEqual(hist.finalize(spec, whole));
        },
      ),
      { numRuns: 200 },
    );
  });
});
