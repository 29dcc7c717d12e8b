// Property tests: the native kernels against the JS oracle on random layouts, random bytes (so NaNs,
// infinities, subnormals and extremes all occur), random predicates and random chunk boundaries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../../src/native/addon.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import { stats } from '../../src/ops/stats.js';
import { hist } from '../../src/ops/hist.js';
import { minmax } from '../../src/ops/minmax.js';
import { filter } from '../../src/ops/filter.js';
import type { OpDef } from '../../src/ops/types.js';
import { Control } from '../../src/engine/control.js';
import { genFields, genJs } from '../../src/gen/generate.js';

const addon = loadAddon();
let dir: string;
let seq = 0;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bigproc-nvj-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TYPES = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64'] as const;

const layoutArb = fc
  .record({
    big: fc.boolean(),
    fields: fc.array(fc.record({ t: fc.constantFrom(...TYPES, 'pad', 'bytes'), n: fc.integer({ min: 1, max: 5 }) }), {
      minLength: 1,
      maxLength: 6,
    }),
  })
  .filter((l) => l.fields.some((f) => f.t !== 'pad' && f.t !== 'bytes'))
  .map(
    (l) =>
      (l.big ? '>' : '') +
      l.fields
        .map((f, i) => (f.t === 'pad' ? `pad<${f.n}>` : f.t === 'bytes' ? `b${i}:bytes<${f.n}>` : `f${i}:${f.t}`))
        .join(','),
  );

/** Random bytes, biased so a good share of values are "interesting" (zeros, all-ones, small numbers). */
const dataArb = (recordSize: number) =>
  fc.integer({ min: 0, max: 300 }).chain((records) =>
    fc.uint8Array({ minLength: records * recordSize, maxLength: records * recordSize }).chain((bytes) =>
      fc
        .array(fc.tuple(fc.nat(Math.max(0, bytes.length - 1)), fc.constantFrom(0, 0xff, 0x7f, 0x80, 1)), {
          maxLength: bytes.length,
        })
        .map((patches) => {
          for (const [i, v] of patches) bytes[i] = v;
          return { records, bytes };
        }),
    ),
  );

function mapped(bytes: Uint8Array) {
  const file = join(dir, `d${seq++}.bin`);
  writeFileSync(file, bytes);
  return new addon!.Mapping(file);
}

/** Run an op over [0, records) split at the given boundaries, natively and in JS; return both merged partials. */
function both<S, P>(
  op: OpDef<S, P, unknown>,
  spec: S,
  layout: Layout,
  bytes: Uint8Array,
  records: number,
  cuts: number[],
  wantOutput = false,
) {
  const m = mapped(bytes);
  const ctl = new Control();
  const bounds = [0, ...[...new Set(cuts.map((c) => c % (records + 1)))].sort((a, b) => a - b), records];
  let nat = op.init(spec),
    js = op.init(spec);
  const natOut: Uint8Array[] = [],
    jsOut: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const first = bounds[i]!,
      n = bounds[i + 1]! - first;
    if (n === 0) continue;
    const off = first * layout.recordSize;
    const rn = op.native(
      spec,
      { addon: addon!, mapping: m, byteOffset: off, records: n, recordSize: layout.recordSize, ctl: ctl.sab },
      wantOutput,
    )!;
    const dv = new DataView(bytes.buffer, bytes.byteOffset + off, n * layout.recordSize);
    const rj = op.js(spec, { bytes: dv, records: n, recordSize: layout.recordSize }, wantOutput);
    nat = op.merge(spec, nat, rn.partial);
    js = op.merge(spec, js, rj.partial);
    if (rn.output) natOut.push(rn.output);
    if (rj.output) jsOut.push(rj.output);
  }
  m.close();
  return { nat, js, natOut: Buffer.concat(natOut), jsOut: Buffer.concat(jsOut) };
}

const noPre = () => Promise.reject(new Error('no pre-pass in this test'));

describe.skipIf(!addon)('native kernels equal the JS oracle', () => {
  it('stats: partials and finalized results are identical', async () => {
    await fc.assert(
      fc.asyncProperty(
        layoutArb.chain((s) => {
          const l = parseSchema(s);
          return fc.tuple(fc.constant(l), dataArb(l.recordSize), fc.array(fc.nat(400), { maxLength: 4 }));
        }),
        async ([layout, { records, bytes }, cuts]) => {
          const spec = await stats.prepare({}, layout, noPre);
          const r = both(stats, spec, layout, bytes, records, cuts);
          expect(r.nat).toEqual(r.js);
          expect(JSON.stringify(stats.finalize(spec, r.nat))).toBe(JSON.stringify(stats.finalize(spec, r.js)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('minmax: partials and finalized results are identical', async () => {
    await fc.assert(
      fc.asyncProperty(
        layoutArb.chain((s) => {
          const l = parseSchema(s);
          return fc.tuple(fc.constant(l), dataArb(l.recordSize), fc.array(fc.nat(400), { maxLength: 4 }));
        }),
        async ([layout, { records, bytes }, cuts]) => {
          const spec = await minmax.prepare({}, layout, noPre);
          const r = both(minmax, spec, layout, bytes, records, cuts);
          expect(r.nat).toEqual(r.js);
          expect(JSON.stringify(minmax.finalize(spec, r.nat))).toBe(JSON.stringify(minmax.finalize(spec, r.js)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('hist: identical counts for random ranges and bin counts', async () => {
    await fc.assert(
      fc.asyncProperty(
        layoutArb.chain((s) => {
          const l = parseSchema(s);
          return fc.tuple(fc.constant(l), dataArb(l.recordSize), fc.array(fc.nat(400), { maxLength: 4 }));
        }),
        // Small integer ranges put many values exactly on bin edges, where numpy's corrections matter.
        fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -3, max: 3 })),
        fc.oneof(fc.double({ min: 1e-9, max: 1e6, noNaN: true }), fc.integer({ min: 1, max: 300 })),
        fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 10 })),
        fc.nat(),
        async ([layout, { records, bytes }, cuts], lo, width, bins, pick) => {
          const numeric = layout.fields.filter((f) => f.type !== 'bytes');
          const field = numeric[pick % numeric.length]!;
          const hi = lo + width;
          fc.pre(hi > lo && Number.isFinite(hi));
          const spec = await hist.prepare({ field: field.name, bins, range: `${lo}:${hi}` }, layout, noPre);
          const r = both(hist, spec, layout, bytes, records, cuts);
          expect(r.nat).toEqual(r.js);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('filter: same count and the same output bytes for random predicates', async () => {
    const lit = fc.oneof(
      fc.integer({ min: -300, max: 300 }).map(String),
      fc
        .double({ noNaN: false })
        .map((d) => (Number.isNaN(d) ? 'nan' : d === Infinity ? 'inf' : d === -Infinity ? '-inf' : String(d))),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
      fc.constantFrom(
        '0',
        '-0',
        '0.5',
        '-1.5',
        '255',
        '256',
        '65535.5',
        '2147483648',
        '9223372036854775807',
        '18446744073709551615',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        layoutArb.chain((s) => {
          const l = parseSchema(s);
          return fc.tuple(fc.constant(l), dataArb(l.recordSize), fc.array(fc.nat(400), { maxLength: 4 }));
        }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('<', '<=', '>', '>=', '==', '!='), lit), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(fc.constantFrom('&&', '||'), { minLength: 3, maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        async ([layout, { records, bytes }, cuts], leaves, joins, nots) => {
          const numeric = layout.fields.filter((f) => f.type !== 'bytes');
          const where = leaves
            .map(([p, op, v], i) => `${nots[i] ? '!' : ''}(${numeric[p % numeric.length]!.name} ${op} ${v})`)
            .reduce((acc, leaf, i) => (i === 0 ? leaf : `(${acc} ${joins[i - 1]} ${leaf})`), '');
          const spec = await filter.prepare({ where }, layout, noPre);
          const r = both(filter, spec, layout, bytes, records, cuts, true);
          expect(r.nat).toEqual(r.js);
          expect(r.natOut.equals(r.jsOut)).toBe(true);
          expect(r.natOut.length).toBe(r.nat.matched * layout.recordSize);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gen: the native generator equals its JS twin for random layouts and distributions', () => {
    fc.assert(
      fc.property(
        layoutArb,
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 50 }),
        fc.nat(),
        (schema, seed, first, records, distPick) => {
          const layout = parseSchema(schema);
          const dists = new Map();
          layout.fields.forEach((f, i) => {
            if (f.type === 'bytes') return;
            const float = f.type === 'f32' || f.type === 'f64';
            const k = (distPick + i) % 4;
            if (k === 0) dists.set(f.name, { kind: 'normal', mean: float ? 5.5 : 100, sd: float ? 2.25 : 1e9 });
            else if (k === 1)
              dists.set(
                f.name,
                float ? { kind: 'seq', start: -3.5, step: 0.1 } : { kind: 'seq', start: -5n, step: 3n },
              );
            else if (k === 2) dists.set(f.name, float ? { kind: 'const', value: -0 } : { kind: 'const', value: 1n });
          });
          const fields = genFields(layout, dists);
          const a = new Uint8Array(records * layout.recordSize);
          const b = new Uint8Array(records * layout.recordSize);
          addon!.gen(a, first, records, layout.recordSize, fields as never, seed);
          genJs(b, first, records, layout.recordSize, fields, seed);
          expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});
