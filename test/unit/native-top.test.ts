// Property tests for `top`: the native kernel against the JS oracle, and both against a plain
// sort-everything reference, on random layouts, random bytes, heavy ties and random chunk boundaries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../../src/native/addon.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import { isNumeric } from '../../src/layout/types.js';
import { top, type TopSpec } from '../../src/ops/top.js';
import { recordRow } from '../../src/ops/lib/rows.js';
import { bigReader, numberReader } from '../../src/ops/lib/fields.js';
import type { OpDef } from '../../src/ops/types.js';
import { Control } from '../../src/engine/control.js';

const addon = loadAddon();
let dir: string;
let seq = 0;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bigproc-top-'))));
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

/** Random bytes; with `ties`, most bytes are drawn from a tiny alphabet so equal values are common. */
const dataArb = (recordSize: number, ties: boolean) =>
  fc.integer({ min: 0, max: 300 }).chain((records) =>
    (ties
      ? fc
          .array(fc.constantFrom(0, 0, 0, 0x80, 0xff, 0x7f, 1), {
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

function both<S, P>(
  op: OpDef<S, P, unknown>,
  spec: S,
  layout: Layout,
  bytes: Uint8Array,
  records: number,
  cuts: number[],
) {
  const m = mapped(bytes);
  const ctl = new Control();
  const bounds = [0, ...[...new Set(cuts.map((c) => c % (records + 1)))].sort((a, b) => a - b), records];
  let nat = op.init(spec),
    js = op.init(spec);
  for (let i = 0; i + 1 < bounds.length; i++) {
    const first = bounds[i]!,
      n = bounds[i + 1]! - first;
    if (n === 0) continue;
    const off = first * layout.recordSize;
    const rn = op.native(
      spec,
      {
        addon: addon!,
        mapping: m,
        byteOffset: off,
        records: n,
        recordSize: layout.recordSize,
        ctl: ctl.sab,
        firstRecord: first,
      },
      false,
    )!;
    const dv = new DataView(bytes.buffer, bytes.byteOffset + off, n * layout.recordSize);
    const rj = op.js(spec, { bytes: dv, records: n, recordSize: layout.recordSize, firstRecord: first }, false);
    nat = op.merge(spec, nat, rn.partial);
    js = op.merge(spec, js, rj.partial);
  }
  m.close();
  return { nat, js };
}

/** Sort every non-NaN record, then take k. */
function reference(spec: TopSpec, bytes: Uint8Array, records: number, recordSize: number) {
  const f = spec.field;
  const read =
    f.type === 'i64' || f.type === 'u64' ? bigReader(f.type, f.bigEndian) : numberReader(f.type, f.bigEndian);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const all: { v: number | bigint; i: number }[] = [];
  for (let i = 0; i < records; i++) {
    const v = read(dv, i * recordSize + f.offset);
    if (!Number.isNaN(v)) all.push({ v, i });
  }
  all.sort((a, b) => (a.v === b.v ? a.i - b.i : (spec.asc ? a.v < b.v : a.v > b.v) ? -1 : 1));
  return all
    .slice(0, spec.k)
    .map(({ i }) => recordRow(spec, { index: i, bytes: bytes.slice(i * recordSize, (i + 1) * recordSize) }));
}

const noPre = () => Promise.reject(new Error('no pre-pass'));

describe.skipIf(!addon)('top: native equals the JS oracle equals a full sort', () => {
  for (const ties of [false, true]) {
    it(`random layouts, ${ties ? 'many ties' : 'random bytes'}, any k and chunk boundaries`, async () => {
      await fc.assert(
        fc.asyncProperty(
          layoutArb.chain((s) => {
            const l = parseSchema(s);
            const numeric = l.fields.filter((f) => isNumeric(f.type)).map((f) => f.name);
            return fc.tuple(
              fc.constant(l),
              dataArb(l.recordSize, ties),
              fc.array(fc.nat(400), { maxLength: 5 }),
              fc.constantFrom(...numeric),
              fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 500 })),
              fc.boolean(),
            );
          }),
          async ([layout, { records, bytes }, cuts, by, k, asc]) => {
            const spec = (await top.prepare(
              { by, topK: String(k), ...(asc ? { asc: true } : {}) },
              layout,
              noPre,
            )) as TopSpec;
            const { nat, js } = both(top, spec, layout, bytes, records, cuts);
            const rn = top.finalize(spec, nat),
              rj = top.finalize(spec, js);
            expect(rn).toEqual(rj);
            expect(rj.rows).toEqual(reference(spec, bytes, records, layout.recordSize));
            expect(rj.rows.length).toBeLessThanOrEqual(k);
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('ties go to the earlier record; NaN never ranks; -0 equals +0', () => {
    const layout = parseSchema('x:f64');
    const vals = [1, NaN, -0, 2, 0, 2, NaN, 1, Infinity, -Infinity];
    const bytes = new Uint8Array(new Float64Array(vals).buffer);
    for (const asc of [false, true]) {
      const spec: TopSpec = {
        by: 'x',
        field: { offset: 0, type: 'f64', bigEndian: false },
        k: 20,
        asc,
        fields: layout.fields,
        bigEndian: false,
      };
      const { nat, js } = both(top, spec, layout, bytes, vals.length, [3, 5]);
      const idx = top.finalize(spec, js).rows.map((r) => r.index);
      expect(top.finalize(spec, nat).rows.map((r) => r.index)).toEqual(idx);
      expect(idx).toEqual(asc ? [9, 2, 4, 0, 7, 3, 5, 8] : [8, 3, 5, 0, 7, 2, 4, 9]);
    }
  });

  it('rejects bad options', async () => {
    const layout = parseSchema('a:i32,b:bytes<4>');
    await expect(async () => top.prepare({}, layout, noPre)).rejects.toThrow(/--by/);
    await expect(async () => top.prepare({ by: 'b' }, layout, noPre)).rejects.toThrow(/--by/);
    await expect(async () => top.prepare({ by: 'a', topK: '0' }, layout, noPre)).rejects.toThrow(/--top-k/);
    await expect(async () => top.prepare({ by: 'a', topK: 'x' }, layout, noPre)).rejects.toThrow(/--top-k/);
  });
});
