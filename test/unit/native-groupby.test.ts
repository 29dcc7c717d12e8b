// Property tests for `groupby`: the native kernel against the JS oracle on random layouts (both byte
// orders), random bytes with many repeated keys, random aggregates, --where and chunk boundaries; both
// against a plain Map-based reference; the exact float accumulators past their flush points; and
// --max-groups / option errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernels } from './kernels.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import { isFloat, isNumeric } from '../../src/layout/types.js';
import { groupby, type GroupbySpec, type GroupbyPartial } from '../../src/ops/groupby.js';
import { stats } from '../../src/ops/stats.js';
import { Control } from '../../src/engine/control.js';
import { BigprocError } from '../../src/errors.js';

const addon = loadKernels();
let dir: string;
let seq = 0;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bigproc-groupby-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TYPES = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64'] as const;
const FNS = ['count', 'sum', 'mean', 'min', 'max', 'std'] as const;

const layoutArb = fc
  .record({
    big: fc.boolean(),
    fields: fc.array(fc.record({ t: fc.constantFrom(...TYPES, 'pad', 'bytes'), n: fc.integer({ min: 1, max: 10 }) }), {
      minLength: 1,
      maxLength: 6,
    }),
  })
  .filter((l) => l.fields.some((f) => f.t !== 'pad' && f.t !== 'bytes' && f.t !== 'f32' && f.t !== 'f64'))
  .map(
    (l) =>
      (l.big ? '>' : '') +
      l.fields
        .map((f, i) => (f.t === 'pad' ? `pad<${f.n}>` : f.t === 'bytes' ? `b${i}:bytes<${f.n}>` : `f${i}:${f.t}`))
        .join(','),
  );

/**
 * Records as random bytes; with `ties` most bytes come from a tiny alphabet so keys repeat and groups
 * hold many records (and floats hit ±0, NaN, ±Inf, subnormals and extremes).
 */
const dataArb = (recordSize: number, ties: boolean) =>
  fc.integer({ min: 0, max: 400 }).chain((records) =>
    (ties
      ? fc
          .array(fc.constantFrom(0, 0, 0, 0x80, 0xff, 0x7f, 1, 0x40), {
            minLength: records * recordSize,
            maxLength: records * recordSize,
          })
          .map((a) => Uint8Array.from(a))
      : fc.uint8Array({ minLength: records * recordSize, maxLength: records * recordSize })
    ).map((bytes) => ({ records, bytes })),
  );

function mapped(bytes: Uint8Array) {
  const file = join(dir, `d${seq++}.bin`);
  writeFileSync(file, bytes);
  return new addon!.Mapping(file);
}

/** Run groupby over [0, records) split at the cuts, natively and in JS; return both merged partials. */
function both(spec: GroupbySpec, layout: Layout, bytes: Uint8Array, records: number, cuts: number[]) {
  const m = mapped(bytes);
  const ctl = new Control();
  const bounds = [0, ...[...new Set(cuts.map((c) => c % (records + 1)))].sort((a, b) => a - b), records];
  let nat = groupby.init(spec),
    js = groupby.init(spec);
  try {
    for (let i = 0; i + 1 < bounds.length; i++) {
      const first = bounds[i]!,
        n = bounds[i + 1]! - first;
      if (n === 0) continue;
      const off = first * layout.recordSize;
      const rn = groupby.native(
        spec,
        { addon: addon!, mapping: m, byteOffset: off, records: n, recordSize: layout.recordSize, ctl: ctl.sab },
        false,
      )!;
      const rj = groupby.js(
        spec,
        {
          bytes: new DataView(bytes.buffer, bytes.byteOffset + off, n * layout.recordSize),
          records: n,
          recordSize: layout.recordSize,
        },
        false,
      );
      expect(rn.partial).toEqual(rj.partial);
      nat = groupby.merge(spec, nat, rn.partial);
      js = groupby.merge(spec, js, rj.partial);
    }
  } finally {
    m.close();
  }
  return { nat, js };
}

const noPre = () => Promise.reject(new Error('no pre-pass'));

/** A random groupby over the layout: 1..3 distinct key fields (ints or bytes), random aggregates. */
const queryArb = (layout: Layout) => {
  const keyable = layout.fields.filter((f) => !isFloat(f.type)).map((f) => f.name);
  const numeric = layout.fields.filter((f) => isNumeric(f.type)).map((f) => f.name);
  return fc
    .record({
      keys: fc.shuffledSubarray(keyable, { minLength: 1, maxLength: Math.min(3, keyable.length) }),
      aggs: fc.array(fc.tuple(fc.constantFrom(...FNS), fc.constantFrom(...numeric)), { minLength: 1, maxLength: 5 }),
    })
    .map(({ keys, aggs }) => ({
      key: keys.join(','),
      agg: aggs.map(([fn, f]) => (fn === 'count' ? 'count' : `${fn}(${f})`)).join(','),
    }));
};

describe.skipIf(!addon)('groupby: native equals the JS oracle', () => {
  for (const ties of [true, false]) {
    it(`random layouts and queries, ${ties ? 'many repeated keys' : 'random bytes'}, any chunk boundaries`, async () => {
      await fc.assert(
        fc.asyncProperty(
          layoutArb.chain((s) => {
            const l = parseSchema(s);
            return fc.tuple(
              fc.constant(l),
              dataArb(l.recordSize, ties),
              fc.array(fc.nat(500), { maxLength: 5 }),
              queryArb(l),
            );
          }),
          async ([layout, { records, bytes }, cuts, q]) => {
            const spec = (await groupby.prepare(q, layout, noPre)) as GroupbySpec;
            const { nat, js } = both(spec, layout, bytes, records, cuts);
            expect(nat).toEqual(js);
            expect(JSON.stringify(groupby.finalize(spec, nat))).toBe(JSON.stringify(groupby.finalize(spec, js)));
            // the groups' counts add up to the records, and keys are strictly increasing
            expect(js.counts.reduce((s, c) => s + c, 0)).toBe(records);
            const w = js.n === 0 ? 0 : js.keys.length / js.n;
            const hex = (i: number) => Buffer.from(js.keys.subarray(i * w, (i + 1) * w)).toString('hex');
            for (let i = 1; i < js.n; i++) expect(hex(i - 1) < hex(i)).toBe(true);
          },
        ),
        { numRuns: ties ? 150 : 100 },
      );
    });
  }

  it("every group's aggregates equal stats over that group's records alone (NaN, ±Inf, ±0, extremes)", async () => {
    await fc.assert(
      fc.asyncProperty(
        layoutArb.chain((s) => {
          const l = parseSchema(s);
          return fc.tuple(
            fc.constant(l),
            dataArb(l.recordSize, true),
            fc.array(fc.nat(500), { maxLength: 3 }),
            queryArb(l),
          );
        }),
        async ([layout, { records, bytes }, cuts, q]) => {
          const spec = (await groupby.prepare(q, layout, noPre)) as GroupbySpec;
          const { nat } = both(spec, layout, bytes, records, cuts);
          const res = groupby.finalize(spec, nat);
          // records by canonical key, computed here independently
          const buckets = new Map<string, number[]>();
          for (let r = 0; r < records; r++) {
            let hex = '';
            for (const k of spec.keys) {
              const raw = bytes.slice(r * layout.recordSize + k.offset, r * layout.recordSize + k.offset + k.size);
              if (k.kind === 'int' && !k.bigEndian) raw.reverse();
              if (k.kind === 'int' && k.type!.startsWith('i')) raw[0]! ^= 0x80;
              hex += Buffer.from(raw).toString('hex');
            }
            buckets.set(hex, [...(buckets.get(hex) ?? []), r]);
          }
          expect(res.groups.length).toBe(buckets.size);
          const w = nat.n === 0 ? 0 : nat.keys.length / nat.n;
          for (const [i, g] of res.groups.entries()) {
            const rows = buckets.get(Buffer.from(nat.keys.subarray(i * w, (i + 1) * w)).toString('hex'))!;
            expect(nat.counts[i]).toBe(rows.length);
            if (spec.fields.length === 0) continue;
            const sub = new Uint8Array(rows.length * layout.recordSize);
            rows.forEach((r, j) => {
              sub.set(bytes.subarray(r * layout.recordSize, (r + 1) * layout.recordSize), j * layout.recordSize);
            });
            const sspec = await stats.prepare({ fields: spec.fields.map((f) => f.name).join(',') }, layout, noPre);
            const st = stats.finalize(
              sspec,
              stats.js(
                sspec,
                { bytes: new DataView(sub.buffer), records: rows.length, recordSize: layout.recordSize },
                false,
              ).partial,
            );
            for (const a of spec.aggs) {
              if (a.fn === 'count') continue;
              expect(g[a.label]).toEqual(st.fields[spec.fields[a.field!]!.name]![a.fn]);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('with --where: only matching records are grouped, natively as in JS', async () => {
    await fc.assert(
      fc.asyncProperty(
        layoutArb.chain((s) => {
          const l = parseSchema(s);
          const numeric = l.fields.filter((f) => isNumeric(f.type)).map((f) => f.name);
          return fc.tuple(
            fc.constant(l),
            dataArb(l.recordSize, true),
            fc.array(fc.nat(500), { maxLength: 4 }),
            queryArb(l),
            fc.constantFrom(...numeric),
            fc.constantFrom('<', '>=', '==', '!='),
            fc.integer({ min: -2, max: 130 }),
          );
        }),
        async ([layout, { records, bytes }, cuts, q, wf, op, v]) => {
          const spec = (await groupby.prepare({ ...q, where: `${wf} ${op} ${v}` }, layout, noPre)) as GroupbySpec;
          const { nat, js } = both(spec, layout, bytes, records, cuts);
          expect(nat).toEqual(js);
        },
      ),
      { numRuns: 80 },
    );
  });

  it("float sums stay exact past the accumulators' flush points and across wide exponent ranges", async () => {
    const layout = parseSchema('k:u8,x:f64,y:f32');
    const n = 40_000;
    const buf = new ArrayBuffer(n * 13);
    const dv = new DataView(buf);
    let s = 12345;
    const rnd = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
    for (let i = 0; i < n; i++) {
      dv.setUint8(i * 13, i % 3);
      // group 0: values near 100 (one long window), group 1: exponents all over the range, group 2: mixed signs
      const x =
        i % 3 === 0
          ? 100 + rnd()
          : i % 3 === 1
            ? (rnd() - 0.5) * 2 ** Math.floor(rnd() * 2000 - 1000)
            : (rnd() < 0.5 ? -1 : 1) * rnd() * 1e6;
      dv.setFloat64(i * 13 + 1, x, true);
      dv.setFloat32(i * 13 + 9, x, true);
    }
    const spec = (await groupby.prepare(
      { key: 'k', agg: 'count,sum(x),mean(x),std(x),sum(y),std(y),min(x),max(y)' },
      layout,
      noPre,
    )) as GroupbySpec;
    const { nat, js } = both(spec, layout, new Uint8Array(buf), n, [10_001, 33_333]);
    expect(nat).toEqual(js);
    // each group's float accumulators equal stats over that group's records alone
    const res = groupby.finalize(spec, nat);
    for (const g of res.groups) {
      const k = g.key[0] as number;
      const rows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 === k);
      const sub = new Uint8Array(rows.length * 13);
      rows.forEach((r, j) => {
        sub.set(new Uint8Array(buf, r * 13, 13), j * 13);
      });
      const sspec = await stats.prepare({ fields: 'x,y' }, layout, noPre);
      const st = stats.finalize(
        sspec,
        stats.js(sspec, { bytes: new DataView(sub.buffer), records: rows.length, recordSize: 13 }, false).partial,
      );
      expect(g['sum(x)']).toBe(st.fields.x!.sum);
      expect(g['mean(x)']).toBe(st.fields.x!.mean);
      expect(g['std(x)']).toBe(st.fields.x!.std);
      expect(g['sum(y)']).toBe(st.fields.y!.sum);
      expect(g['std(y)']).toBe(st.fields.y!.std);
      expect(g['min(x)']).toBe(st.fields.x!.min);
      expect(g['max(y)']).toBe(st.fields.y!.max);
    }
  });
});

/** A plain reference: decode every record, group in a Map by the decoded key values, aggregate naively. */
describe.skipIf(!addon)('groupby: both backends equal a plain Map-based reference', () => {
  it('blocks of narrow exponent range (the aligned float path) and the blocks next to them stay exact', async () => {
    const layout = parseSchema('k:u8,x:f64,y:f32');
    const n = 24_000;
    const buf = new ArrayBuffer(n * 13);
    const dv = new DataView(buf);
    let s = 777;
    const rnd = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
    const sign = () => (rnd() < 0.3 ? -1 : 1);
    for (let i = 0; i < n; i++) {
      dv.setUint8(i * 13, (i * 7) % 5);
      // kinds change every 1500 records, so the kernel's blocks of 2048 see one kind, two, or a seam
      const kind = Math.floor(i / 1500) % 6;
      const x =
        kind === 0
          ? sign() * (100 + rnd() * 50) // two exponents, both signs
          : kind === 1
            ? sign() * rnd() * 2 ** -1020 // subnormals and the smallest normals
            : kind === 2
              ? sign() * (1 + rnd() * 62.9) // exponents 0..5 above 1: the widest aligned span
              : kind === 3
                ? sign() * (1 + rnd() * 126) // one exponent more: the per-value path
                : kind === 4
                  ? i % 1000 === 0
                    ? -0
                    : 3 + rnd() // a ±0 in the block: the per-value path
                  : (100 + rnd()) * (i % 997 === 0 ? 1e-3 : 1); // group minima and maxima that move late
      dv.setFloat64(i * 13 + 1, x, true);
      dv.setFloat32(i * 13 + 9, x, true);
    }
    const spec = (await groupby.prepare(
      { key: 'k', agg: 'count,sum(x),mean(x),std(x),sum(y),mean(y),min(x),max(x),min(y),max(y)' },
      layout,
      noPre,
    )) as GroupbySpec;
    const { nat, js } = both(spec, layout, new Uint8Array(buf), n, [5_000, 5_001, 17_777]);
    expect(nat).toEqual(js);
    const sumOnly = (await groupby.prepare({ key: 'k', agg: 'mean(x),sum(y)' }, layout, noPre)) as GroupbySpec;
    const r = both(sumOnly, layout, new Uint8Array(buf), n, [12_345]);
    expect(r.nat).toEqual(r.js);
    // non-negative subnormals and ±0 in one narrow block: a group's minimum is -0 only when it saw a -0
    const m = 3000;
    const zbuf = new ArrayBuffer(m * 13);
    const zv = new DataView(zbuf);
    for (let i = 0; i < m; i++) {
      zv.setUint8(i * 13, i % 2);
      const x = i % 700 === 0 ? -0 : i % 901 === 0 ? 0 : rnd() * 2 ** -1070;
      zv.setFloat64(i * 13 + 1, x, true);
      zv.setFloat32(i * 13 + 9, x, true);
    }
    const z = both(spec, layout, new Uint8Array(zbuf), m, []);
    expect(z.nat).toEqual(z.js);
    expect(Object.is(groupby.finalize(spec, z.nat).groups[0]!['min(x)'], -0)).toBe(true);
  });

  /**
   * Records for the fused path (one 1- or 2-byte key, one f64 summed): `lead` gives the value of
   * records [0, lead.n), the rest cycle through kinds of value every 16 384 records, so the kernel's
   * blocks of 8192 fit its window of 11 exponents, miss it, or straddle a seam; keys 0..6 at first, all
   * 40 from record 57 000 on (new groups inside a block that fits). Checked to fail when the kernel accepts
   * blocks that do not fit, or values one exponent below its window, drops the negative sums, misses
   * the groups a block made, or skips the groups' min/max; and when the count-only path misses the
   * groups a block made or keeps a block's counts.
   */
  function fusedRecords(
    layout: Layout,
    n: number,
    seed: number,
    lead?: { n: number; value: (i: number, rnd: () => number) => number },
  ) {
    const rs = layout.recordSize;
    const [k, x] = [layout.fields.find((f) => f.name === 'k')!, layout.fields.find((f) => f.name === 'x')!];
    const le = !layout.bigEndian;
    const dv = new DataView(new ArrayBuffer(n * rs));
    let s = seed;
    const rnd = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 2 ** 32;
    };
    const sign = () => (rnd() < 0.3 ? -1 : 1);
    const kinds = [
      () => 100 + (rnd() - 0.5) * 60, // prices: two or three exponents
      () => sign() * (1 + rnd() * 2000), // both signs, exponents 0..10: the widest window
      () => sign() * 2 ** 1016 * (1 + rnd() * 100), // next to the top of the range
      () => (rnd() < 0.001 ? 1e-3 : 1) * (300 + rnd()), // group minima that move late
      () => (rnd() < 0.01 ? [NaN, Infinity, -Infinity, -0, 0, 2 ** -1074][Math.floor(rnd() * 6)]! : 5 + rnd()),
      () => (1 + rnd()) * 2 ** Math.floor(rnd() * 12), // twelve exponents: no fit
      () => (rnd() < 0.003 ? 2 ** 12 : 1) * (100 + rnd()), // past the window: no fit
    ];
    for (let i = 0; i < n; i++) {
      const key = i < 57_000 ? i % 7 : (i * 13) % 40;
      if (k.type === 'i8') dv.setInt8(i * rs + k.offset, key - 20);
      else if (k.type === 'u8') dv.setUint8(i * rs + k.offset, key);
      else if (k.type === 'i16') dv.setInt16(i * rs + k.offset, key * 700 - 14_000, le);
      else dv.setUint16(i * rs + k.offset, key * 1500, le);
      const value = lead && i < lead.n ? lead.value(i, rnd) : kinds[Math.floor(i / 16_384) % kinds.length]!();
      dv.setFloat64(i * rs + x.offset, value, le);
    }
    return new Uint8Array(dv.buffer);
  }

  it('one 1- or 2-byte key and one f64 summed, or count only (the fused paths): every key type, both byte orders', async () => {
    const n = 7 * 16_384;
    for (const schema of ['k:u16,x:f64', '>k:i16,pad<3>,x:f64', 'x:f64,k:i8', '>x:f64,k:u8']) {
      const layout = parseSchema(schema);
      const bytes = fusedRecords(layout, n, schema.length);
      for (const agg of ['count,mean(x)', 'sum(x),min(x),max(x)', 'count']) {
        const spec = (await groupby.prepare({ key: 'k', agg }, layout, noPre)) as GroupbySpec;
        const { nat, js } = both(spec, layout, bytes, n, [40_000, 40_001]);
        expect(nat).toEqual(js);
        expect(nat.n).toBe(40);
      }
    }
    const tl = parseSchema('k:u8,x:f64');
    const ts = (await groupby.prepare({ key: 'k', agg: 'count,mean(x)' }, tl, noPre)) as GroupbySpec;
    const leads = [
      // the top exponent with an Inf every 9000 records
      (i: number, rnd: () => number) => (i % 9000 === 8999 ? Infinity : -(2 ** 1023) * (1 + rnd())),
      // a block of exponents 8..18 sets the window; the next one reaches one exponent below it (odd mantissas)
      (i: number, rnd: () => number) =>
        (1 + rnd() + rnd() * 2 ** -32) * 2 ** ((i < 8192 ? 8 : 7) + Math.floor(rnd() * 11)),
    ];
    for (const value of leads) {
      const t = both(ts, tl, fusedRecords(tl, 20_000, 3, { n: 20_000, value }), 20_000, []);
      expect(t.nat).toEqual(t.js);
    }
    // a new key past --max-groups inside a block that fits the window
    const layout = parseSchema('k:u16,x:f64');
    for (const agg of ['mean(x)', 'count']) {
      const spec = (await groupby.prepare({ key: 'k', agg, maxGroups: '39' }, layout, noPre)) as GroupbySpec;
      expect(() => both(spec, layout, fusedRecords(layout, n, 5), n, [])).toThrow(/^--max-groups 39 exceeded/);
    }
  });

  it('multi-key (signed int + bytes) groups, exact integer aggregates, float aggregates on exact data', async () => {
    const layout = parseSchema('>a:i16,b:bytes<3>,q:i64,p:f64,u:u32');
    const rs = layout.recordSize;
    const n = 5000;
    const bytes = new Uint8Array(n * rs);
    const dv = new DataView(bytes.buffer);
    let s = 99;
    const rnd = (m: number) => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s % m;
    };
    for (let i = 0; i < n; i++) {
      const o = i * rs;
      dv.setInt16(o, rnd(7) - 3);
      bytes.set([rnd(2) * 0xff, 0x10, rnd(3)], o + 2);
      dv.setBigInt64(o + 5, BigInt(rnd(1000) - 500) * 2n ** 52n + BigInt(rnd(1000)));
      dv.setFloat64(o + 13, (rnd(100000) - 50000) / 8); // sums of these are exact in doubles
      dv.setUint32(o + 21, rnd(2 ** 31) * 2 + 1);
    }
    const ref = new Map<string, { a: number; b: string; n: number; q: bigint[]; p: number[]; u: bigint[] }>();
    for (let i = 0; i < n; i++) {
      const o = i * rs;
      const a = dv.getInt16(o);
      const b = Buffer.from(bytes.subarray(o + 2, o + 5)).toString('hex');
      const k = `${a}/${b}`;
      let g = ref.get(k);
      if (!g) {
        g = { a, b, n: 0, q: [], p: [], u: [] };
        ref.set(k, g);
      }
      g.n++;
      g.q.push(dv.getBigInt64(o + 5));
      g.p.push(dv.getFloat64(o + 13));
      g.u.push(BigInt(dv.getUint32(o + 21)));
    }
    const expected = [...ref.values()]
      .sort((x, y) => x.a - y.a || (x.b < y.b ? -1 : x.b > y.b ? 1 : 0))
      .map((g) => {
        const sumq = g.q.reduce((x, y) => x + y, 0n);
        const sump = g.p.reduce((x, y) => x + y, 0);
        const sumu = g.u.reduce((x, y) => x + y, 0n);
        const big = (v: bigint) => (v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : String(v));
        return {
          key: [g.a, g.b],
          count: g.n,
          'sum(q)': big(sumq),
          'min(q)': big(g.q.reduce((x, y) => (y < x ? y : x))),
          'max(q)': big(g.q.reduce((x, y) => (y > x ? y : x))),
          'sum(p)': sump,
          'mean(p)': sump / g.n,
          'min(p)': Math.min(...g.p),
          'max(p)': Math.max(...g.p),
          'sum(u)': big(sumu),
          'mean(u)': Number(sumu) / g.n,
          std: Math.sqrt(g.p.reduce((acc, x) => acc + (x - sump / g.n) ** 2, 0) / g.n),
        };
      });
    const spec = (await groupby.prepare(
      { key: 'a,b', agg: 'count,sum(q),min(q),max(q),sum(p),mean(p),min(p),max(p),sum(u),mean(u),std(p)' },
      layout,
      noPre,
    )) as GroupbySpec;
    const { nat, js } = both(spec, layout, bytes, n, [777, 2500, 4999]);
    expect(nat).toEqual(js);
    const res = groupby.finalize(spec, nat);
    expect(res.keys).toEqual(['a', 'b']);
    expect(res.groups.length).toBe(expected.length);
    res.groups.forEach((g, i) => {
      const { std, ...exact } = expected[i]!;
      const { 'std(p)': gotStd, ...rest } = g;
      expect(rest).toEqual(exact);
      expect(Math.abs((gotStd as number) - std)).toBeLessThanOrEqual(1e-9 * std + 1e-12);
    });
  });
});

describe.skipIf(!addon)('groupby: many groups (hash tables growing)', () => {
  it('thousands of 4-byte and 9-byte keys: native equals JS, counts match a Map', async () => {
    const layout = parseSchema('k:i32,b:bytes<9>,v:i16');
    const rs = layout.recordSize;
    const n = 16_000;
    const bytes = new Uint8Array(n * rs);
    const dv = new DataView(bytes.buffer);
    let s = 7;
    const rnd = (m: number) => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s % m;
    };
    const ref = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const k = rnd(8_000) - 4_000;
      dv.setInt32(i * rs, k, true);
      dv.setUint32(i * rs + 4, rnd(3), true);
      dv.setUint32(i * rs + 8, k * 7, false);
      dv.setUint8(i * rs + 12, rnd(2));
      dv.setInt16(i * rs + 13, rnd(65536) - 32768, true);
      ref.set(String(k), (ref.get(String(k)) ?? 0) + 1);
    }
    for (const key of ['k', 'b', 'k,b']) {
      const spec = (await groupby.prepare({ key, agg: 'count,sum(v),std(v),min(v)' }, layout, noPre)) as GroupbySpec;
      const { nat, js } = both(spec, layout, bytes, n, [3_333, 11_000]);
      expect(nat).toEqual(js);
      if (key === 'k') {
        const res = groupby.finalize(spec, nat);
        expect(res.groups.map((g) => [g.key[0], g.count])).toEqual(
          [...ref.entries()].map(([k, c]) => [Number(k), c]).sort((x, y) => x[0]! - y[0]!),
        );
      }
    }
  });
});

describe.skipIf(!addon)('groupby: --max-groups and options', () => {
  const layout = parseSchema('k:u32,v:f64');
  const bytes = new Uint8Array(100 * 12);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < 100; i++) dv.setUint32(i * 12, i % 10, true);

  it('a chunk with more distinct keys than --max-groups is an exit-2 error naming the flag and value', async () => {
    const spec = (await groupby.prepare({ key: 'k', maxGroups: '9' }, layout, noPre)) as GroupbySpec;
    for (const cuts of [[], [50]]) {
      try {
        both(spec, layout, bytes, 100, cuts);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(BigprocError);
        expect((e as BigprocError).exitCode).toBe(2);
        expect((e as Error).message).toMatch(/^--max-groups 9 exceeded/);
      }
    }
    // 10 keys fit exactly
    const ok = (await groupby.prepare({ key: 'k', maxGroups: '10' }, layout, noPre)) as GroupbySpec;
    expect(both(ok, layout, bytes, 100, [50]).nat.n).toBe(10);
  });

  it('too many groups only after merging is the same error', async () => {
    const spec = (await groupby.prepare({ key: 'k', maxGroups: '6' }, layout, noPre)) as GroupbySpec;
    const part = (keys: number[]): GroupbyPartial => {
      const kb = new Uint8Array(keys.length * 4);
      keys.forEach((k, i) => {
        new DataView(kb.buffer).setUint32(i * 4, k);
      });
      return { n: keys.length, keys: kb, counts: new Float64Array(keys.length).fill(1), accs: [] };
    };
    expect(() => groupby.merge(spec, part([1, 2, 3, 4]), part([5, 6, 7]))).toThrow(
      /--max-groups 6 exceeded.*across chunks/,
    );
    const m = groupby.merge(spec, part([1, 2, 3, 4]), part([3, 4, 5, 6]));
    expect(m.n).toBe(6);
    expect([...m.counts]).toEqual([1, 1, 2, 2, 1, 1]);
    expect(groupby.finalize(spec, m).groups.map((g) => g.key[0])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects bad options with the flag and the value', async () => {
    const l = parseSchema('a:i32,f:f64,b:bytes<4>');
    const bad: [Record<string, string>, RegExp][] = [
      [{}, /--key/],
      [{ key: 'nope' }, /--key.*"nope"/],
      [{ key: 'f' }, /float keys.*--key.*"f"/],
      [{ key: 'a,a' }, /--key/],
      [{ key: 'a', agg: 'sum(' }, /--agg.*"sum\("/],
      [{ key: 'a', agg: 'median(f)' }, /--agg.*"median\(f\)"/],
      [{ key: 'a', agg: 'sum()' }, /--agg.*"sum\(\)"/],
      [{ key: 'a', agg: 'count,mean(zz)' }, /--agg.*"zz"/],
      [{ key: 'a', agg: 'sum(b)' }, /--agg.*"b"/],
      [{ key: 'a', agg: '' }, /--agg/],
      [{ key: 'a', maxGroups: '0' }, /--max-groups.*"0"/],
      [{ key: 'a', maxGroups: 'many' }, /--max-groups.*"many"/],
    ];
    for (const [opts, re] of bad) await expect(async () => groupby.prepare(opts, l, noPre)).rejects.toThrow(re);
    const spec = (await groupby.prepare(
      { key: 'b,a', agg: ' count , SUM( f ),std(f), count' },
      l,
      noPre,
    )) as GroupbySpec;
    expect(spec.aggs.map((a) => a.label)).toEqual(['count', 'sum(f)', 'std(f)']);
    expect(spec.fields).toHaveLength(1);
  });
});
