// The filter op's JS path: matched counts and output bytes (matching records, in order, byte for
// byte), option errors, and merge invariance over chunkings.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type FilterSpec, filter } from '../../src/ops/filter.js';
import { compilePredicate, parsePredicate } from '../../src/ops/lib/predicate.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import { BigprocError } from '../../src/errors.js';

// 24-byte records with a bytes field and padding, so "byte for byte" covers opaque bytes too
const L: Layout = parseSchema('ts:i64,price:f64,qty:i32,side:u8,pad<1>,tag:bytes<2>');

interface Row {
  ts: bigint;
  price: number;
  qty: number;
  side: number;
}

/** Records written independently of src; the pad and tag bytes carry distinct garbage per record. */
function write(rows: Row[], layout: Layout = L): Uint8Array {
  const buf = new Uint8Array(layout.recordSize * rows.length);
  const dv = new DataView(buf.buffer);
  const le = !layout.bigEndian;
  rows.forEach((r, i) => {
    const p = i * layout.recordSize;
    dv.setBigInt64(p, r.ts, le);
    dv.setFloat64(p + 8, r.price, le);
    dv.setInt32(p + 16, r.qty, le);
    dv.setUint8(p + 20, r.side);
    dv.setUint8(p + 21, (i * 7 + 3) & 0xff);
    dv.setUint8(p + 22, (i * 13 + 5) & 0xff);
    dv.setUint8(p + 23, (i >> 8) & 0xff);
  });
  return buf;
}

function chunk(buf: Uint8Array, first: number, count: number, recordSize = L.recordSize) {
  return {
    bytes: new DataView(buf.buffer, buf.byteOffset + first * recordSize, count * recordSize),
    records: count,
    recordSize,
  };
}

async function spec(where: string, layout: Layout = L): Promise<FilterSpec> {
  return filter.prepare({ where }, layout, async () => {
    throw new Error('no pre-pass');
  });
}

/** the expected output: the matching records' bytes, concatenated in order */
function expectedOutput(buf: Uint8Array, rows: Row[], pred: (r: Row) => boolean): Uint8Array {
  const parts: number[] = [];
  rows.forEach((r, i) => {
    if (pred(r)) parts.push(...buf.subarray(i * L.recordSize, (i + 1) * L.recordSize));
  });
  return Uint8Array.from(parts);
}

const ROWS: Row[] = [
  { ts: 1n, price: 100, qty: 10, side: 0 },
  { ts: 2n, price: 111.5, qty: 3, side: 1 },
  { ts: 3n, price: 110, qty: 1, side: 0 },
  { ts: 4n, price: 120, qty: 7, side: 1 },
  { ts: 5n, price: NaN, qty: 2, side: 1 },
  { ts: 6n, price: 115, qty: 4, side: 0 },
  { ts: 2n ** 62n, price: -Infinity, qty: -5, side: 2 },
];

describe('filter: prepare', () => {
  it('compiles the expression against the layout', async () => {
    const s = await spec('price > 110 && (side == 1 || qty < 5)');
    expect(s.where).toBe('price > 110 && (side == 1 || qty < 5)');
    expect(s.program).toEqual(compilePredicate(parsePredicate('price > 110 && (side == 1 || qty < 5)'), L));
  });

  it('needs --where', async () => {
    for (const options of [{}, { where: '' }, { where: '   ' }]) {
      try {
        await filter.prepare(options, L, async () => null);
        throw new Error('expected an error');
      } catch (e) {
        expect(e).toBeInstanceOf(BigprocError);
        expect((e as BigprocError).exitCode).toBe(2);
        expect((e as BigprocError).message).toContain('--where');
      }
    }
  });

  it('passes parse and layout errors through (exit 2)', async () => {
    for (const where of ['price >', 'nope > 1', 'tag == 1', 'price == qty']) {
      await expect(spec(where)).rejects.toMatchObject({ exitCode: 2 });
    }
  });
});

describe('filter: js', () => {
  it('counts matches and writes the matching records byte for byte, in order', async () => {
    const buf = write(ROWS);
    const s = await spec('price > 110 && (side == 1 || qty < 5)');
    const r = filter.js(s, chunk(buf, 0, ROWS.length), true);
    expect(r.partial).toEqual({ matched: 3 });
    expect(r.output).toEqual(expectedOutput(buf, ROWS, (x) => x.ts === 2n || x.ts === 4n || x.ts === 6n));
    expect(r.output!.length).toBe(3 * 24);
    const out = new DataView(r.output!.buffer, r.output!.byteOffset);
    expect([0, 24, 48].map((o) => out.getBigInt64(o, true))).toEqual([2n, 4n, 6n]);
  });

  it('without --out there is no output, and the count is the same', async () => {
    const buf = write(ROWS);
    const s = await spec('price > 110 && (side == 1 || qty < 5)');
    const r = filter.js(s, chunk(buf, 0, ROWS.length), false);
    expect(r.partial).toEqual({ matched: 3 });
    expect(r.output).toBeUndefined();
  });

  it('NaN never compares, except with !=', async () => {
    const buf = write(ROWS);
    expect(filter.js(await spec('price != 1e9'), chunk(buf, 0, ROWS.length), false).partial.matched).toBe(7);
    expect(filter.js(await spec('price < 1e9'), chunk(buf, 0, ROWS.length), false).partial.matched).toBe(6);
    expect(filter.js(await spec('!(price < 1e9)'), chunk(buf, 0, ROWS.length), false).partial.matched).toBe(1);
  });

  it('all and none', async () => {
    const buf = write(ROWS);
    const all = filter.js(await spec('true'), chunk(buf, 0, ROWS.length), true);
    expect(all.partial.matched).toBe(ROWS.length);
    expect(all.output).toEqual(buf);
    const none = filter.js(await spec('qty > 2147483647'), chunk(buf, 0, ROWS.length), true);
    expect(none.partial.matched).toBe(0);
    expect(none.output).toEqual(new Uint8Array(0));
    const empty = filter.js(await spec('true'), chunk(buf, 0, 0), true);
    expect(empty.partial.matched).toBe(0);
    expect(empty.output!.length).toBe(0);
  });

  it('the output does not alias the input', async () => {
    const buf = write(ROWS);
    const r = filter.js(await spec('true'), chunk(buf, 0, ROWS.length), true);
    buf.fill(0);
    expect(r.output!.some((b) => b !== 0)).toBe(true);
  });

  it('a chunk in the middle of a buffer (non-zero byteOffset) reads its own records', async () => {
    const buf = write(ROWS);
    const s = await spec('side == 1');
    const r = filter.js(s, chunk(buf, 3, 3), true);
    expect(r.partial.matched).toBe(2); // ts 4 and 5
    expect(r.output).toEqual(buf.slice(3 * 24, 5 * 24));
  });

  it('big-endian layouts', async () => {
    const BE = parseSchema('>ts:i64,price:f64,qty:i32,side:u8,pad<1>,tag:bytes<2>');
    const buf = write(ROWS, BE);
    const s = await spec('qty < 0 || ts == 4', BE);
    const r = filter.js(s, chunk(buf, 0, ROWS.length), true);
    expect(r.partial.matched).toBe(2);
    expect(r.output).toEqual(Uint8Array.from([...buf.subarray(3 * 24, 4 * 24), ...buf.subarray(6 * 24, 7 * 24)]));
  });

  it('merge and finalize add counts', async () => {
    const s = await spec('true');
    expect(filter.merge(s, { matched: 3 }, { matched: 4 })).toEqual({ matched: 7 });
    expect(filter.merge(s, filter.init(s), { matched: 4 })).toEqual({ matched: 4 });
    expect(filter.finalize(s, { matched: 9 })).toEqual({ matched: 9 });
    expect(filter.format(s, { matched: 9 })).toContain('9');
  });
});

describe('filter: properties', () => {
  const rowArb: fc.Arbitrary<Row> = fc.record({
    ts: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -5n, max: 5n })),
    price: fc.oneof(fc.double(), fc.integer({ min: 90, max: 130 }), fc.constantFrom(NaN, 110, 110.5)),
    qty: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -3, max: 10 })),
    side: fc.integer({ min: 0, max: 255 }),
  });
  const WHERES: [string, (r: Row) => boolean][] = [
    ['price > 110 && (side == 1 || qty < 5)', (r) => r.price > 110 && (r.side === 1 || r.qty < 5)],
    ['ts < 0 or not (qty >= 3)', (r) => r.ts < 0n || !(r.qty >= 3)],
    ['side != 0 && price <= 110.5', (r) => r.side !== 0 && r.price <= 110.5],
    ['qty < 2.5', (r) => r.qty <= 2],
    ['-1 <= ts && ts <= 1', (r) => r.ts >= -1n && r.ts <= 1n],
  ];

  it('matched count and output equal a direct scan; any chunking gives the same concatenated output', async () => {
    const specs = await Promise.all(WHERES.map(([w]) => spec(w)));
    fc.assert(
      fc.property(
        fc
          .array(rowArb, { maxLength: 50 })
          .chain((rows) =>
            fc.tuple(fc.constant(rows), fc.array(fc.integer({ min: 0, max: rows.length }), { maxLength: 6 })),
          ),
        fc.integer({ min: 0, max: WHERES.length - 1 }),
        ([rows, cuts], w) => {
          const s = specs[w]!;
          const pred = WHERES[w]![1];
          const buf = write(rows);
          const want = expectedOutput(buf, rows, pred);
          const whole = filter.js(s, chunk(buf, 0, rows.length), true);
          expect(whole.partial.matched).toBe(rows.filter(pred).length);
          expect(whole.output).toEqual(want);
          const bounds = [0, ...[...cuts].sort((a, b) => a - b), rows.length];
          let merged = filter.init(s);
          const outs: number[] = [];
          for (let i = 0; i + 1 < bounds.length; i++) {
            const r = filter.js(s, chunk(buf, bounds[i]!, bounds[i + 1]! - bounds[i]!), true);
            merged = filter.merge(s, merged, r.partial);
            outs.push(...r.output!);
          }
          expect(merged).toEqual(whole.partial);
          expect(filter.finalize(s, merged)).toEqual(filter.finalize(s, whole.partial));
          expect(Uint8Array.from(outs)).toEqual(want);
        },
      ),
      { numRuns: 200 },
    );
  });
});
