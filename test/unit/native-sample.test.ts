// Property tests for `sample`: the native kernel against the JS oracle, and both against a plain
// "key every record, sort, take n" reference, on random layouts and chunk boundaries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../../src/native/addon.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import { sample, sampleKey, parseSeed, type SampleSpec } from '../../src/ops/sample.js';
import { recordRow } from '../../src/ops/lib/rows.js';
import { splitmix64 } from '../../src/gen/generate.js';
import type { OpDef } from '../../src/ops/types.js';
import { Control } from '../../src/engine/control.js';

const addon = loadAddon();
let dir: string;
let seq = 0;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bigproc-sample-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const layoutArb = fc
  .array(
    fc.record({
      t: fc.constantFrom('i8', 'u16', 'i32', 'u64', 'f32', 'f64', 'pad', 'bytes'),
      n: fc.integer({ min: 1, max: 5 }),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((fs) =>
    fs
      .map((f, i) => (f.t === 'pad' ? `pad<${f.n}>` : f.t === 'bytes' ? `b${i}:bytes<${f.n}>` : `f${i}:${f.t}`))
      .join(','),
  );

const dataArb = (recordSize: number) =>
  fc
    .integer({ min: 0, max: 400 })
    .chain((records) =>
      fc
        .uint8Array({ minLength: records * recordSize, maxLength: records * recordSize })
        .map((bytes) => ({ records, bytes })),
    );

function both<S, P>(
  op: OpDef<S, P, unknown>,
  spec: S,
  layout: Layout,
  bytes: Uint8Array,
  records: number,
  cuts: number[],
) {
  const file = join(dir, `d${seq++}.bin`);
  writeFileSync(file, bytes);
  const m = new addon!.Mapping(file);
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

function reference(spec: SampleSpec, bytes: Uint8Array, records: number, rs: number) {
  const all = Array.from({ length: records }, (_, i) => ({ i, key: sampleKey(spec.seed, i) }));
  all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i));
  return all
    .slice(0, spec.n)
    .map((x) => x.i)
    .sort((a, b) => a - b)
    .map((i) => recordRow(spec, { index: i, bytes: bytes.slice(i * rs, (i + 1) * rs) }));
}

const noPre = () => Promise.reject(new Error('no pre-pass'));

describe.skipIf(!addon)('sample: native equals the JS oracle equals a full sort of keys', () => {
  it('random layouts, seeds, n and chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(
        layoutArb.chain((s) => {
          const l = parseSchema(s);
          return fc.tuple(fc.constant(l), dataArb(l.recordSize), fc.array(fc.nat(500), { maxLength: 5 }));
        }),
        fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 600 })),
        fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
        async ([layout, { records, bytes }, cuts], n, seed) => {
          const spec = (await sample.prepare(
            { sampleSize: String(n), seed: seed.toString() },
            layout,
            noPre,
          )) as SampleSpec;
          const { nat, js } = both(sample, spec, layout, bytes, records, cuts);
          expect(nat).toEqual(js);
          const r = sample.finalize(spec, js);
          expect(r.rows).toEqual(reference(spec, bytes, records, layout.recordSize));
          expect(r.rows.length).toBe(Math.min(n, records));
          expect(r.seed).toBe(BigInt.asUintN(64, seed).toString());
        },
      ),
      { numRuns: 120 },
    );
  });

  it('keys are splitmix64(seed ^ (i * golden mod 2^64))', () => {
    const seed = parseSeed('12345');
    for (const i of [0, 1, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
      expect(sampleKey(seed, i)).toBe(splitmix64(12345n ^ ((BigInt(i) * 0x9e3779b97f4a7c15n) & ((1n << 64n) - 1n))));
    }
    expect(parseSeed('-1')).toBe(2n ** 64n - 1n);
    expect(() => parseSeed('1.5')).toThrow(/--seed/);
  });

  it('rejects bad options', async () => {
    const layout = parseSchema('a:i32');
    await expect(async () => sample.prepare({}, layout, noPre)).rejects.toThrow(/-n/);
    await expect(async () => sample.prepare({ sampleSize: '0' }, layout, noPre)).rejects.toThrow(/--sample-size/);
    await expect(async () => sample.prepare({ sampleSize: '3', seed: 'abc' }, layout, noPre)).rejects.toThrow(/--seed/);
  });
});
