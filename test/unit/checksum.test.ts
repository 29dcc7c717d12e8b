// checksum / count: known vectors, native == JS oracle on random buffers, crc32c combine == one shot,
// and the ops' native and JS paths equal on random layouts and chunk boundaries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernels } from './kernels.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import { crc32c, crc32cCombine, hex, xxh64 } from '../../src/ops/lib/hash.js';
import { checksum } from '../../src/ops/checksum.js';
import { count } from '../../src/ops/count.js';
import type { OpDef } from '../../src/ops/types.js';
import { Control } from '../../src/engine/control.js';

const addon = loadKernels();
let dir: string;
let seq = 0;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bigproc-ck-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const enc = (s: string) => new TextEncoder().encode(s);
const noPre = () => Promise.reject(new Error('no pre-pass in this test'));

describe('hash vectors (JS)', () => {
  it('xxh64', () => {
    expect(hex(xxh64(enc('')), 16)).toBe('ef46db3751d8e999');
    expect(hex(xxh64(enc('a')), 16)).toBe('d24ec4f1a98c6e5b');
    expect(hex(xxh64(enc('abc')), 16)).toBe('44bc2cf5ad770999');
    expect(hex(xxh64(enc('Nobody inspects the spammish repetition')), 16)).toBe('fbcea83c8a378bf1');
  });
  it('crc32c', () => {
    expect(hex(crc32c(enc('123456789')), 8)).toBe('e3069283');
    expect(hex(crc32c(enc('')), 8)).toBe('00000000');
    expect(hex(crc32c(new Uint8Array(32)), 8)).toBe('8a9136aa');
  });
  it('crc32c combine equals one shot for random splits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(2000), { maxLength: 5 }), (bytes, cuts) => {
        const bounds = [
          0,
          ...[...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b),
          bytes.length,
        ];
        let crc = 0;
        for (let i = 0; i + 1 < bounds.length; i++) {
          const part = bytes.subarray(bounds[i]!, bounds[i + 1]!);
          crc = crc32cCombine(crc, crc32c(part), part.length);
        }
        expect(crc).toBe(crc32c(bytes));
      }),
    );
  });
  it('crc32c combine handles lengths beyond 2^32', () => {
    // crc(A || 0^n) for a zero-CRC A is 0 whatever n; the combine must stay exact for huge n
    expect(crc32cCombine(0, 0, 2 ** 40 + 3)).toBe(0);
    const a = crc32c(enc('abc'));
    expect(crc32cCombine(a, crc32c(new Uint8Array(0)), 0)).toBe(a);
  });
});

describe.skipIf(!addon)('native checksum', () => {
  const nat = (b: Uint8Array, algo: 'xxh64' | 'crc32c') => addon!.checksum(b, 0, b.length, 1, algo, null);
  it('vectors', () => {
    expect(nat(enc(''), 'xxh64')).toBe('ef46db3751d8e999');
    expect(nat(enc('a'), 'xxh64')).toBe('d24ec4f1a98c6e5b');
    expect(nat(enc('abc'), 'xxh64')).toBe('44bc2cf5ad770999');
    expect(nat(enc('Nobody inspects the spammish repetition'), 'xxh64')).toBe('fbcea83c8a378bf1');
    expect(nat(enc('123456789'), 'crc32c')).toBe('e3069283');
    expect(nat(enc(''), 'crc32c')).toBe('00000000');
    expect(nat(new Uint8Array(32), 'crc32c')).toBe('8a9136aa');
  });
  it('equals the JS oracle on random buffers of random lengths', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(40), (bytes, skip) => {
        const off = Math.min(skip, bytes.length);
        const b = bytes.subarray(off);
        expect(nat(b, 'xxh64')).toBe(hex(xxh64(b), 16));
        expect(nat(b, 'crc32c')).toBe(hex(crc32c(b), 8));
      }),
      { numRuns: 300 },
    );
  });
  it('equals the JS oracle across progress blocks (> 1 MiB, odd length)', () => {
    const b = new Uint8Array((3 << 20) + 77);
    for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
    expect(nat(b, 'xxh64')).toBe(hex(xxh64(b), 16));
    expect(nat(b, 'crc32c')).toBe(hex(crc32c(b), 8));
  });
  it('rejects an unknown algo', () => {
    expect(() => addon!.checksum(new Uint8Array(4), 0, 4, 1, 'md5' as never, null)).toThrow(/algo/);
  });
});

const TYPES = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64'] as const;
const layoutArb = fc
  .array(fc.record({ t: fc.constantFrom(...TYPES, 'pad'), n: fc.integer({ min: 1, max: 5 }) }), {
    minLength: 1,
    maxLength: 5,
  })
  .filter((fs) => fs.some((f) => f.t !== 'pad'))
  .map((fs) => fs.map((f, i) => (f.t === 'pad' ? `pad<${f.n}>` : `f${i}:${f.t}`)).join(','));

/** Run an op over [0, records) split at cuts, natively and in JS; return both merged partials. */
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
      { addon: addon!, mapping: m, byteOffset: off, records: n, recordSize: layout.recordSize, ctl: ctl.sab },
      false,
    )!;
    const rj = op.js(
      spec,
      {
        bytes: new DataView(bytes.buffer, bytes.byteOffset + off, n * layout.recordSize),
        records: n,
        recordSize: layout.recordSize,
      },
      false,
    );
    nat = op.merge(spec, nat, rn.partial);
    js = op.merge(spec, js, rj.partial);
  }
  m.close();
  return { nat, js };
}

const caseArb = layoutArb.chain((s) => {
  const l = parseSchema(s);
  return fc.tuple(
    fc.constant(l),
    fc
      .integer({ min: 0, max: 200 })
      .chain((r) =>
        fc.tuple(fc.constant(r), fc.uint8Array({ minLength: r * l.recordSize, maxLength: r * l.recordSize })),
      ),
    fc.array(fc.nat(300), { maxLength: 4 }),
  );
});

describe.skipIf(!addon)('ops: native equals JS', () => {
  it('checksum (both algos): chunk digests and whole digest; crc32c whole digest is the one-shot CRC', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.constantFrom('xxh64', 'crc32c'), async ([layout, [records, bytes], cuts], algo) => {
        const spec = await checksum.prepare({ algo }, layout, noPre);
        const { nat, js } = both(checksum, spec, layout, bytes, records, cuts);
        expect(nat).toEqual(js);
        const r = checksum.finalize(spec, nat);
        expect(r).toEqual(checksum.finalize(spec, js));
        if (algo === 'crc32c') expect(r.digest).toBe(hex(crc32c(bytes), 8));
        expect(r.chunks.length).toBe(nat.chunks.length);
      }),
      { numRuns: 60 },
    );
  });
  it('count with and without --where', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ([layout, [records, bytes], cuts]) => {
        const f = layout.fields[0]!;
        const plain = await count.prepare({}, layout, noPre);
        const a = both(count, plain, layout, bytes, records, cuts);
        expect(a.nat).toEqual(a.js);
        expect(count.finalize(plain, a.nat)).toEqual({ records });
        const where = await count.prepare({ where: `${f.name} > 3` }, layout, noPre);
        const b = both(count, where, layout, bytes, records, cuts);
        expect(b.nat).toEqual(b.js);
        expect(count.finalize(where, b.nat).records).toBe(records);
        expect(count.finalize(where, b.nat)).toHaveProperty('matched');
      }),
      { numRuns: 40 },
    );
  });
});

describe('checksum options', () => {
  const layout = parseSchema('a:u32');
  it('rejects an unknown --algo', () => {
    expect(() => checksum.prepare({ algo: 'md5' }, layout, noPre)).toThrow(/--algo/);
  });
  it('chunk_size is whole records of --chunk-size', async () => {
    const spec = await checksum.prepare({ chunkSize: '10' }, parseSchema('a:u32,b:u8'), noPre);
    expect(spec.chunkSize).toBe(10);
    const spec2 = await checksum.prepare({ chunkSize: '11' }, layout, noPre);
    expect(spec2.chunkSize).toBe(8);
  });
});
