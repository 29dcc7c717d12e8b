// project: the native kernel against the JS oracle (byte for byte, random layouts, data, formats,
// predicates and chunk boundaries), number text against Number.prototype.toString, and every format
// parsed back and compared with the records it came from.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../../src/native/addon.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import { project, prepareProject, projectJs, type ProjectFormat, type ProjectSpec } from '../../src/ops/project.js';
import { Control } from '../../src/engine/control.js';

const addon = loadAddon();
let dir: string;
let seq = 0;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bigproc-project-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TYPES = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64'] as const;

const layoutArb = fc
  .record({
    big: fc.boolean(),
    fields: fc.array(fc.record({ t: fc.constantFrom(...TYPES, 'pad', 'bytes'), n: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 6 }),
  })
  .filter((l) => l.fields.some((f) => f.t !== 'pad' && f.t !== 'bytes'))
  .map((l) => (l.big ? '>' : '') + l.fields.map((f, i) => (f.t === 'pad' ? `pad<${f.n}>` : f.t === 'bytes' ? `b${i}:bytes<${f.n}>` : `f${i}:${f.t}`)).join(','));

/** Random bytes, with patches that make zeros, all-ones, NaNs, infinities and subnormals common. */
const dataArb = (recordSize: number) =>
  fc.integer({ min: 0, max: 200 }).chain((records) =>
    fc.uint8Array({ minLength: records * recordSize, maxLength: records * recordSize }).chain((bytes) =>
      fc.array(fc.tuple(fc.nat(Math.max(0, bytes.length - 1)), fc.constantFrom(0, 0xff, 0x7f, 0x80, 1, 0xf0)), { maxLength: bytes.length }).map((patches) => {
        for (const [i, v] of patches) bytes[i] = v;
        return { records, bytes };
      })),
  );

function mapped(bytes: Uint8Array) {
  const file = join(dir, `d${seq++}.bin`);
  writeFileSync(file, bytes);
  return new addon!.Mapping(file);
}

/** Run project over the records split at the cuts, natively and in JS; return both outputs and counts. */
function both(spec: ProjectSpec, layout: Layout, bytes: Uint8Array, records: number, cuts: number[]) {
  const m = mapped(bytes);
  const ctl = new Control();
  const bounds = [0, ...[...new Set(cuts.map((c) => c % (records + 1)))].sort((a, b) => a - b), records];
  let nat = project.init(spec), js = project.init(spec);
  const natOut: Uint8Array[] = [], jsOut: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const first = bounds[i]!, n = bounds[i + 1]! - first;
    if (n === 0) continue;
    const off = first * layout.recordSize;
    const rn = project.native(spec, { addon: addon!, mapping: m, byteOffset: off, records: n, recordSize: layout.recordSize, ctl: ctl.sab, firstRecord: first }, true)!;
    const dv = new DataView(bytes.buffer, bytes.byteOffset + off, n * layout.recordSize);
    const rj = project.js(spec, { bytes: dv, records: n, recordSize: layout.recordSize, firstRecord: first }, true);
    nat = project.merge(spec, nat, rn.partial);
    js = project.merge(spec, js, rj.partial);
    natOut.push(rn.output!);
    jsOut.push(rj.output!);
    // the native output owns its ArrayBuffer, so the worker can transfer it without a copy
    expect(rn.output!.byteOffset === 0 && rn.output!.byteLength === rn.output!.buffer.byteLength).toBe(true);
  }
  m.close();
  return { nat, js, natOut: Buffer.concat(natOut), jsOut: Buffer.concat(jsOut) };
}

/** One f64 field: the native text of each value, one per line. */
function nativeDoubles(xs: number[], type: 'f64' | 'f32' = 'f64'): string[] {
  const layout = parseSchema(`x:${type}`);
  const bytes = new Uint8Array(xs.length * layout.recordSize);
  const dv = new DataView(bytes.buffer);
  xs.forEach((x, i) => (type === 'f64' ? dv.setFloat64(i * 8, x, true) : dv.setFloat32(i * 4, x, true)));
  const spec = prepareProject({ out: '-', format: 'csv' }, layout);
  const r = addon!.project(bytes, 0, xs.length, layout.recordSize, { format: 'csv', fields: spec.fields, prefixes: spec.prefixes, lineEnd: spec.lineEnd }, null, '', null)!;
  return Buffer.from(r.out).toString().split('\n').slice(0, -1);
}

const lit = fc.oneof(
  fc.integer({ min: -300, max: 300 }).map(String),
  fc.double({ noNaN: false }).map((d) => (Number.isNaN(d) ? 'nan' : d === Infinity ? 'inf' : d === -Infinity ? '-inf' : String(d))),
  fc.constantFrom('0', '-0', '0.5', '-1.5', '255', '2147483648', '9223372036854775807'),
);

describe.skipIf(!addon)('project: native equals the JS oracle', () => {
  it('doubles print exactly as Number.prototype.toString', () => {
    const special = [
      0, -0, NaN, Infinity, -Infinity, 1, -1, 0.1, 0.2 + 0.1, 1 / 3, 100, 123456789, 1e21, 1e20, 123456789012345680000, 1e-7, 1e-6, 1.5e-7,
      0.000001234, 1.7976931348623157e308, -1.7976931348623157e308, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
      2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 9007199254740993, 4.35, 0.000001, 0.0000001, 1e300, 1.2345e-300, 99999999999999999999, 999999999999999999999,
    ];
    const rnd = fc.sample(fc.oneof(
      fc.double(),
      fc.bigUint64Array({ minLength: 1, maxLength: 1 }).map((a) => new Float64Array(a.buffer)[0]!),
      fc.tuple(fc.integer({ min: -330, max: 310 }), fc.integer({ min: 1, max: 99999 })).map(([e, m]) => m * 10 ** e),
      fc.integer({ min: -25, max: 25 }).map((e) => 10 ** e),
    ), 20000);
    const xs = [...special, ...rnd];
    expect(nativeDoubles(xs)).toEqual(xs.map((x) => String(x)));
    // f32: printed as the double they widen to
    const fs = [...special, ...fc.sample(fc.float(), 5000)].map((x) => Math.fround(x));
    expect(nativeDoubles(fs, 'f32')).toEqual(fs.map((x) => String(x)));
  });

  it('integers at every power-of-ten boundary and the type limits', () => {
    const layout = parseSchema('a:i64,b:u64,c:i32,d:u32,e:i16,f:u8');
    const vals: bigint[] = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 32n - 1n, -(2n ** 31n)];
    for (let k = 0n, p = 1n; k <= 19n; k++, p *= 10n) vals.push(p - 1n, p, p + 1n, -p, -p + 1n, -p - 1n);
    const n = vals.length;
    const bytes = new Uint8Array(n * layout.recordSize);
    const dv = new DataView(bytes.buffer);
    vals.forEach((v, i) => {
      const b = i * layout.recordSize;
      dv.setBigInt64(b, BigInt.asIntN(64, v), true);
      dv.setBigUint64(b + 8, BigInt.asUintN(64, v), true);
      dv.setInt32(b + 16, Number(BigInt.asIntN(32, v)), true);
      dv.setUint32(b + 20, Number(BigInt.asUintN(32, v)), true);
      dv.setInt16(b + 24, Number(BigInt.asIntN(16, v)), true);
      dv.setUint8(b + 26, Number(BigInt.asUintN(8, v)));
    });
    const spec = prepareProject({ out: 'x', format: 'csv' }, layout);
    const r = both(spec, layout, bytes, n, []);
    expect(r.natOut.equals(r.jsOut)).toBe(true);
    const lines = r.natOut.toString().trimEnd().split('\n').slice(1);
    lines.forEach((l, i) => expect(l.split(',').slice(0, 2)).toEqual([BigInt.asIntN(64, vals[i]!).toString(), BigInt.asUintN(64, vals[i]!).toString()]));
  });

  it('long field names (NDJSON keys past the kernel short-prefix path) and big-endian layouts', () => {
    for (const schema of ['a_rather_long_field_name:f64,another_quite_long_name_here:bytes<2>,x:i16', '>ts:i64,price:f32,q:u16']) {
      const layout = parseSchema(schema);
      const n = 300;
      const bytes = new Uint8Array(n * layout.recordSize).map((_, i) => (i * 2654435761) >>> 24);
      for (const format of ['csv', 'ndjson', 'bin'] as const) {
        const spec = prepareProject({ out: 'x', format }, layout);
        const r = both(spec, layout, bytes, n, [7, 150]);
        expect(r.natOut.equals(r.jsOut)).toBe(true);
        expect(r.nat).toEqual({ records: n, bytes: r.natOut.length });
      }
    }
  });

  it('random layouts, data, formats, predicates and chunk cuts: identical bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        layoutArb.chain((s) => { const l = parseSchema(s); return fc.tuple(fc.constant(l), dataArb(l.recordSize), fc.array(fc.nat(250), { maxLength: 4 })); }),
        fc.constantFrom<ProjectFormat>('csv', 'ndjson', 'bin'),
        fc.array(fc.nat(), { minLength: 0, maxLength: 4 }),
        fc.option(fc.array(fc.tuple(fc.nat(), fc.constantFrom('<', '<=', '>', '>=', '==', '!='), lit), { minLength: 1, maxLength: 3 })),
        async ([layout, { records, bytes }, cuts], format, pick, leaves) => {
          const names = [...new Set(pick.map((p) => layout.fields[p % layout.fields.length]!.name))];
          const numeric = layout.fields.filter((f) => f.type !== 'bytes');
          const where = leaves ? leaves.map(([p, op, v]) => `(${numeric[p % numeric.length]!.name} ${op} ${v})`).join(' || ') : undefined;
          const spec = prepareProject({ out: 'x', format, fields: names.length ? names.join(',') : undefined, where }, layout);
          const r = both(spec, layout, bytes, records, cuts);
          expect(r.nat).toEqual(r.js);
          expect(r.natOut.equals(r.jsOut)).toBe(true);
          expect(r.nat.bytes).toBe(r.natOut.length);
        }),
      { numRuns: 300 },
    );
  });
});

describe('project: output parsed back equals the records', () => {
  const layout = parseSchema('a:i64,b:u64,c:f64,d:f32,e:i8,pad<3>,f:u16,g:bytes<3>,h:i32,k:u32');
  const N = 500;
  const bytes = new Uint8Array(N * layout.recordSize);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  // a few extreme values
  dv.setFloat64(layout.fields[2]!.offset, NaN, true);
  dv.setFloat64(layout.recordSize + layout.fields[2]!.offset, -0, true);
  dv.setFloat64(2 * layout.recordSize + layout.fields[2]!.offset, 5e-324, true);
  dv.setFloat32(3 * layout.recordSize + layout.fields[3]!.offset, -Infinity, true);
  dv.setBigInt64(4 * layout.recordSize, -(2n ** 63n), true);
  dv.setBigUint64(4 * layout.recordSize + 8, 2n ** 64n - 1n, true);
  const view = new DataView(bytes.buffer);

  const expectedValue = (name: string, i: number): string | number | bigint => {
    const f = layout.fields.find((x) => x.name === name)!;
    const p = i * layout.recordSize + f.offset;
    switch (f.type) {
      case 'i64': return view.getBigInt64(p, true);
      case 'u64': return view.getBigUint64(p, true);
      case 'f64': return view.getFloat64(p, true);
      case 'f32': return view.getFloat32(p, true);
      case 'i8': return view.getInt8(p);
      case 'u16': return view.getUint16(p, true);
      case 'i32': return view.getInt32(p, true);
      case 'u32': return view.getUint32(p, true);
      default: return Buffer.from(bytes.subarray(p, p + f.size)).toString('hex');
    }
  };
  const run = (format: ProjectFormat, fields?: string) => {
    const spec = prepareProject({ out: 'x', format, fields }, layout);
    return { spec, ...projectJs(spec, { bytes: view, records: N, recordSize: layout.recordSize, firstRecord: 0 }) };
  };

  it('csv: header once, then one line per record', () => {
    const { out, records } = run('csv');
    expect(records).toBe(N);
    const lines = Buffer.from(out).toString().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe('a,b,c,d,e,f,g,h,k');
    expect(lines.length).toBe(N + 1);
    const names = lines[0]!.split(',');
    lines.slice(1).forEach((line, i) => {
      line.split(',').forEach((text, j) => {
        const want = expectedValue(names[j]!, i);
        if (typeof want === 'bigint') expect(BigInt(text)).toBe(want);
        else if (typeof want === 'number') expect(Object.is(Number(text), want === 0 ? 0 : want) || (Number.isNaN(want) && text === 'NaN')).toBe(true);
        else expect(text).toBe(want);
      });
    });
  });

  it('ndjson: one object per line; 64-bit integers as bare numbers with every digit', () => {
    const { out } = run('ndjson');
    const lines = Buffer.from(out).toString().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(N);
    lines.forEach((line, i) => {
      const o = JSON.parse(line);
      expect(Object.keys(o)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'k']);
      expect(BigInt(/"a":(-?\d+)/.exec(line)![1]!)).toBe(expectedValue('a', i));
      expect(BigInt(/"b":(\d+)/.exec(line)![1]!)).toBe(expectedValue('b', i));
      for (const k of ['c', 'd']) {
        const want = expectedValue(k, i) as number;
        if (Number.isFinite(want)) expect(o[k]).toBe(want === 0 ? 0 : want);
        else expect(o[k]).toBe(String(want));
      }
      for (const k of ['e', 'f', 'g', 'h', 'k']) expect(o[k]).toBe(expectedValue(k, i));
    });
  });

  it('bin: the chosen fields packed per record, reread with a DataView', () => {
    const { out, spec, records } = run('bin', 'k,a,g,c');
    expect(records).toBe(N);
    expect(spec.recordSize).toBe(4 + 8 + 3 + 8);
    expect(out.length).toBe(N * 23);
    const o = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let i = 0; i < N; i++) {
      const p = i * 23;
      expect(o.getUint32(p, true)).toBe(expectedValue('k', i));
      expect(o.getBigInt64(p + 4, true)).toBe(expectedValue('a', i));
      expect(Buffer.from(out.subarray(p + 12, p + 15)).toString('hex')).toBe(expectedValue('g', i));
      expect(Object.is(o.getFloat64(p + 15, true), expectedValue('c', i))).toBe(true);
    }
    const result = project.finalize(spec, { records, bytes: out.length });
    expect(result).toEqual({ records: N, format: 'bin', fields: ['k', 'a', 'g', 'c'], bytes: N * 23, record_size: 23, schema: 'k:u32,a:i64,g:bytes<3>,c:f64' });
  });

  it('csv header only in the chunk that starts at record 0', () => {
    const spec = prepareProject({ out: 'x', format: 'csv', fields: 'e' }, layout);
    const later = projectJs(spec, { bytes: view, records: 2, recordSize: layout.recordSize, firstRecord: 7 });
    expect(Buffer.from(later.out).toString()).toBe(`${expectedValue('e', 0)}\n${expectedValue('e', 1)}\n`);
  });

  it('bad options: exit-2 errors naming the flag', () => {
    expect(() => prepareProject({ format: 'csv' }, layout)).toThrow(/--out/);
    expect(() => prepareProject({ out: 'x', format: 'xml' }, layout)).toThrow('Expected one of csv, ndjson, bin for --format but received "xml"');
    expect(() => prepareProject({ out: 'x', fields: 'a,zz' }, layout)).toThrow(/for --fields but received "zz"/);
    expect(() => prepareProject({ out: 'x', fields: 'a,a' }, layout)).toThrow(/each field once for --fields/);
    expect(() => prepareProject({ out: 'x', where: 'nope > 1' }, layout)).toThrow(/--where/);
  });
});
