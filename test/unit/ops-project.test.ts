// project: the native kernel against the JS oracle (byte for byte, random layouts, data, formats,
// predicates and chunk boundaries), number text against Number.prototype.toString, and every format
// parsed back and compared with the records it came from; columns written through ColumnsDir and read
// back file by file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernels } from './kernels.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import {
  openColumns,
  project,
  prepareProject,
  projectJs,
  type ProjectFormat,
  type ProjectSpec,
} from '../../src/ops/project.js';
import { Control } from '../../src/engine/control.js';
import { abortAllOutputs } from '../../src/engine/output.js';

const addon = loadKernels();
let dir: string;
let seq = 0;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'bigproc-project-'))));
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

/** Random bytes, with patches that make zeros, all-ones, NaNs, infinities and subnormals common. */
const dataArb = (recordSize: number) =>
  fc.integer({ min: 0, max: 200 }).chain((records) =>
    fc.uint8Array({ minLength: records * recordSize, maxLength: records * recordSize }).chain((bytes) =>
      fc
        .array(fc.tuple(fc.nat(Math.max(0, bytes.length - 1)), fc.constantFrom(0, 0xff, 0x7f, 0x80, 1, 0xf0)), {
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

/** Run project over the records split at the cuts, natively and in JS; return both outputs and counts. */
function both(spec: ProjectSpec, layout: Layout, bytes: Uint8Array, records: number, cuts: number[]) {
  const m = mapped(bytes);
  const ctl = new Control();
  const bounds = [0, ...[...new Set(cuts.map((c) => c % (records + 1)))].sort((a, b) => a - b), records];
  let nat = project.init(spec),
    js = project.init(spec);
  const natOut: Uint8Array[] = [],
    jsOut: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const first = bounds[i]!,
      n = bounds[i + 1]! - first;
    if (n === 0) continue;
    const off = first * layout.recordSize;
    const rn = project.native(
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
      true,
    )!;
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
  return { nat, js, natOut: Buffer.concat(natOut), jsOut: Buffer.concat(jsOut), natChunks: natOut, jsChunks: jsOut };
}

/** What the column files of a --format columns run must hold: each field's bytes of the selected records. */
function expectedColumns(spec: ProjectSpec, layout: Layout, bytes: Uint8Array, records: number): Buffer[] {
  // the bin output of the same selection (checked against the records below), transposed by hand
  const bin = projectJs(
    { ...spec, format: 'bin' },
    { bytes: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), records, recordSize: layout.recordSize },
  ).out;
  const n = bin.length / spec.recordSize;
  let at = 0;
  return spec.fields.map((f) => {
    const col = Buffer.alloc(n * f.size);
    for (let i = 0; i < n; i++)
      col.set(bin.subarray(i * spec.recordSize + at, i * spec.recordSize + at + f.size), i * f.size);
    at += f.size;
    return col;
  });
}

/** Write chunk outputs through the op's ColumnsDir, commit, and read every column file and the manifest back. */
function writeColumns(spec: ProjectSpec, chunks: Uint8Array[]) {
  const out = join(dir, `cols${seq++}`);
  const target = project.openOutput!(spec, out)!;
  for (const c of chunks) target.write(c);
  target.commit();
  const manifest = JSON.parse(readFileSync(join(out, '_schema.json'), 'utf8'));
  const files = spec.fields.map((f) => readFileSync(join(out, `${f.name}.bin`)));
  expect(readdirSync(out).sort()).toEqual(['_schema.json', ...spec.fields.map((f) => `${f.name}.bin`)].sort());
  return { out, manifest, files };
}

/** One f64 field: the native text of each value, one per line. */
function nativeDoubles(xs: number[], type: 'f64' | 'f32' = 'f64'): string[] {
  const layout = parseSchema(`x:${type}`);
  const bytes = new Uint8Array(xs.length * layout.recordSize);
  const dv = new DataView(bytes.buffer);
  xs.forEach((x, i) => {
    if (type === 'f64') dv.setFloat64(i * 8, x, true);
    else dv.setFloat32(i * 4, x, true);
  });
  const spec = prepareProject({ out: '-', format: 'csv' }, layout);
  const r = addon!.project(
    bytes,
    0,
    xs.length,
    layout.recordSize,
    { format: 'csv', fields: spec.fields, prefixes: spec.prefixes, lineEnd: spec.lineEnd },
    null,
    '',
    null,
  )!;
  return Buffer.from(r.out).toString().split('\n').slice(0, -1);
}

const lit = fc.oneof(
  fc.integer({ min: -300, max: 300 }).map(String),
  fc
    .double({ noNaN: false })
    .map((d) => (Number.isNaN(d) ? 'nan' : d === Infinity ? 'inf' : d === -Infinity ? '-inf' : String(d))),
  fc.constantFrom('0', '-0', '0.5', '-1.5', '255', '2147483648', '9223372036854775807'),
);

describe.skipIf(!addon)('project: native equals the JS oracle', () => {
  it('doubles print exactly as Number.prototype.toString', () => {
    const special = [
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      1,
      -1,
      0.1,
      0.2 + 0.1,
      1 / 3,
      100,
      123456789,
      1e21,
      1e20,
      123456789012345680000,
      1e-7,
      1e-6,
      1.5e-7,
      0.000001234,
      1.7976931348623157e308,
      -1.7976931348623157e308,
      5e-324,
      -5e-324,
      2.2250738585072014e-308,
      2.225073858507201e-308,
      2 ** 53,
      2 ** 53 + 2,
      2 ** 63,
      2 ** 64,
      // decimals no double holds, as a parser reads them (to 2^53, 1e20 and 1e21)
      Number('9007199254740993'),
      4.35,
      0.000001,
      0.0000001,
      1e300,
      1.2345e-300,
      Number('99999999999999999999'),
      Number('999999999999999999999'),
    ];
    const rnd = fc.sample(
      fc.oneof(
        fc.double(),
        fc.bigUint64Array({ minLength: 1, maxLength: 1 }).map((a) => new Float64Array(a.buffer)[0]!),
        fc.tuple(fc.integer({ min: -330, max: 310 }), fc.integer({ min: 1, max: 99999 })).map(([e, m]) => m * 10 ** e),
        fc.integer({ min: -25, max: 25 }).map((e) => 10 ** e),
      ),
      20000,
    );
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
    lines.forEach((l, i) => {
      expect(l.split(',').slice(0, 2)).toEqual([
        BigInt.asIntN(64, vals[i]!).toString(),
        BigInt.asUintN(64, vals[i]!).toString(),
      ]);
    });
  });

  it('long field names (NDJSON keys past the kernel short-prefix path) and big-endian layouts', () => {
    for (const schema of [
      'a_rather_long_field_name:f64,another_quite_long_name_here:bytes<2>,x:i16',
      '>ts:i64,price:f32,q:u16',
    ]) {
      const layout = parseSchema(schema);
      const n = 300;
      const bytes = new Uint8Array(n * layout.recordSize).map((_, i) => (i * 2654435761) >>> 24);
      for (const format of ['csv', 'ndjson', 'bin', 'columns'] as const) {
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
        layoutArb.chain((s) => {
          const l = parseSchema(s);
          return fc.tuple(fc.constant(l), dataArb(l.recordSize), fc.array(fc.nat(250), { maxLength: 4 }));
        }),
        fc.constantFrom<ProjectFormat>('csv', 'ndjson', 'bin', 'columns'),
        fc.array(fc.nat(), { minLength: 0, maxLength: 4 }),
        fc.option(
          fc.array(fc.tuple(fc.nat(), fc.constantFrom('<', '<=', '>', '>=', '==', '!='), lit), {
            minLength: 1,
            maxLength: 3,
          }),
        ),
        async ([layout, { records, bytes }, cuts], format, pick, leaves) => {
          const names = [...new Set(pick.map((p) => layout.fields[p % layout.fields.length]!.name))];
          const numeric = layout.fields.filter((f) => f.type !== 'bytes');
          const where = leaves
            ? leaves.map(([p, op, v]) => `(${numeric[p % numeric.length]!.name} ${op} ${v})`).join(' || ')
            : undefined;
          const spec = prepareProject(
            { out: 'x', format, fields: names.length ? names.join(',') : undefined, where },
            layout,
          );
          const r = both(spec, layout, bytes, records, cuts);
          expect(r.nat).toEqual(r.js);
          expect(r.natOut.equals(r.jsOut)).toBe(true);
          expect(r.nat.bytes).toBe(r.natOut.length);
          if (format === 'columns') {
            // each chunk's output is its columns one after another; the files are the whole columns
            const want = expectedColumns(spec, layout, bytes, records);
            for (const chunks of [r.natChunks, r.jsChunks]) {
              const { files, manifest, out } = writeColumns(spec, chunks);
              files.forEach((f, i) => {
                expect(f.equals(want[i]!)).toBe(true);
              });
              expect(manifest.records).toBe(r.nat.records);
              rmSync(out, { recursive: true });
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('columns: the transpose of bin, any chunk cuts, with and without --where', () => {
    const layout = parseSchema('>a:i16,b:bytes<3>,pad<1>,c:f64,d:u8,e:i32,g:bytes<16>,h:u64');
    const n = 5000;
    const bytes = new Uint8Array(n * layout.recordSize).map((_, i) => (i * 2654435761) >>> 23);
    for (const where of [undefined, 'd < 100 || a > 0', 'd > 300']) {
      const spec = prepareProject({ out: 'x', format: 'columns', fields: 'h,b,d,a,g,e', where }, layout);
      const r = both(spec, layout, bytes, n, [1, 999, 4095, 4097]);
      expect(r.natOut.equals(r.jsOut)).toBe(true);
      const want = expectedColumns(spec, layout, bytes, n);
      const { files, manifest } = writeColumns(spec, r.natChunks);
      files.forEach((f, i) => {
        expect(f.equals(want[i]!)).toBe(true);
      });
      expect(manifest.records).toBe(r.nat.records);
      if (where === 'd > 300') expect(r.nat.records).toBe(0);
    }
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
      case 'i64':
        return view.getBigInt64(p, true);
      case 'u64':
        return view.getBigUint64(p, true);
      case 'f64':
        return view.getFloat64(p, true);
      case 'f32':
        return view.getFloat32(p, true);
      case 'i8':
        return view.getInt8(p);
      case 'u16':
        return view.getUint16(p, true);
      case 'i32':
        return view.getInt32(p, true);
      case 'u32':
        return view.getUint32(p, true);
      default:
        return Buffer.from(bytes.subarray(p, p + f.size)).toString('hex');
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
        else if (typeof want === 'number')
          expect(Object.is(Number(text), want === 0 ? 0 : want) || (Number.isNaN(want) && text === 'NaN')).toBe(true);
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
    expect(result).toEqual({
      records: N,
      format: 'bin',
      fields: ['k', 'a', 'g', 'c'],
      bytes: N * 23,
      record_size: 23,
      schema: 'k:u32,a:i64,g:bytes<3>,c:f64',
    });
  });

  it('columns: one file per field, reread with a DataView; _schema.json describes them', () => {
    const { out, spec, records } = run('columns', 'k,a,g,c,e');
    expect(records).toBe(N);
    expect(out.length).toBe(N * (4 + 8 + 3 + 8 + 1));
    const { files, manifest } = writeColumns(spec, [out.subarray(0, 0), out]);
    const [k, a, g, c, e] = files.map((f) => new DataView(f.buffer, f.byteOffset, f.byteLength));
    for (let i = 0; i < N; i++) {
      expect(k!.getUint32(i * 4, true)).toBe(expectedValue('k', i));
      expect(a!.getBigInt64(i * 8, true)).toBe(expectedValue('a', i));
      expect(Buffer.from(files[2]!.subarray(i * 3, i * 3 + 3)).toString('hex')).toBe(expectedValue('g', i));
      expect(Object.is(c!.getFloat64(i * 8, true), expectedValue('c', i))).toBe(true);
      expect(e!.getInt8(i)).toBe(expectedValue('e', i));
    }
    expect(g!.byteLength).toBe(N * 3);
    expect(manifest).toEqual({
      format: 'bigproc-columns',
      version: 1,
      records: N,
      columns: [
        {
          name: 'k',
          file: 'k.bin',
          size: 4,
          type: 'u32',
          byte_order: 'little',
          dtype: '<u4',
          schema: 'k:u32',
          bytes: N * 4,
        },
        {
          name: 'a',
          file: 'a.bin',
          size: 8,
          type: 'i64',
          byte_order: 'little',
          dtype: '<i8',
          schema: 'a:i64',
          bytes: N * 8,
        },
        {
          name: 'g',
          file: 'g.bin',
          size: 3,
          type: 'bytes<3>',
          byte_order: 'little',
          dtype: '|V3',
          schema: 'g:bytes<3>',
          bytes: N * 3,
        },
        {
          name: 'c',
          file: 'c.bin',
          size: 8,
          type: 'f64',
          byte_order: 'little',
          dtype: '<f8',
          schema: 'c:f64',
          bytes: N * 8,
        },
        { name: 'e', file: 'e.bin', size: 1, type: 'i8', byte_order: 'little', dtype: '|i1', schema: 'e:i8', bytes: N },
      ],
    });
    const result = project.finalize(spec, { records, bytes: out.length });
    expect(result.columns).toEqual(
      manifest.columns.map((x: { name: string; file: string; schema: string }) => ({
        name: x.name,
        file: x.file,
        schema: x.schema,
      })),
    );
  });

  it('columns: refuses a non-empty directory or a file, replaces an empty one, and abort leaves nothing', () => {
    const spec = prepareProject({ out: 'x', format: 'columns', fields: 'e,f', where: 'e > 0' }, layout);
    const root = join(dir, `refuse${seq++}`);
    mkdirSync(root);
    const full = join(root, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep'), 'x');
    expect(() => openColumns(spec, full)).toThrow(/cannot write --out ".*full": the directory is not empty/);
    writeFileSync(join(root, 'afile'), 'x');
    expect(() => openColumns(spec, join(root, 'afile'))).toThrow(/not a directory/);
    expect(() => openColumns(spec, join(root, 'no', 'such', 'parent'))).toThrow(/ENOENT/);
    // an empty directory is replaced
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const r = projectJs(spec, { bytes: view, records: N, recordSize: layout.recordSize, firstRecord: 0 });
    const t = openColumns(spec, empty);
    t.write(r.out);
    t.commit();
    expect(readdirSync(empty).sort()).toEqual(['_schema.json', 'e.bin', 'f.bin']);
    expect(JSON.parse(readFileSync(join(empty, '_schema.json'), 'utf8'))).toMatchObject({
      records: r.records,
      where: 'e > 0',
    });
    // abort (an error) and abortAllOutputs (SIGINT) remove the temp directory and create nothing
    const a = openColumns(spec, join(root, 'a'));
    a.write(r.out);
    expect(readdirSync(root).some((f) => f.startsWith('.a.bigproc-'))).toBe(true);
    a.abort();
    const b = openColumns(spec, join(root, 'b'));
    b.write(r.out);
    abortAllOutputs();
    expect(readdirSync(root).sort()).toEqual(['afile', 'empty', 'full']);
    expect(existsSync(join(root, 'a')) || existsSync(join(root, 'b'))).toBe(false);
    // bytes that are not whole records are an error, not a silent misalignment
    const c = openColumns(spec, join(root, 'c'));
    expect(() => c.write(new Uint8Array(spec.recordSize + 1))).toThrow(/not whole records/);
    c.abort();
    expect(readdirSync(root).sort()).toEqual(['afile', 'empty', 'full']);
  });

  it('csv header only in the chunk that starts at record 0', () => {
    const spec = prepareProject({ out: 'x', format: 'csv', fields: 'e' }, layout);
    const later = projectJs(spec, { bytes: view, records: 2, recordSize: layout.recordSize, firstRecord: 7 });
    expect(Buffer.from(later.out).toString()).toBe(`${expectedValue('e', 0)}\n${expectedValue('e', 1)}\n`);
  });

  it('bad options: exit-2 errors naming the flag', () => {
    expect(() => prepareProject({ format: 'csv' }, layout)).toThrow(/--out/);
    expect(() => prepareProject({ out: 'x', format: 'xml' }, layout)).toThrow(
      'Expected one of csv, ndjson, bin, columns for --format but received "xml"',
    );
    expect(() => prepareProject({ out: '-', format: 'columns' }, layout)).toThrow(
      /^Expected a directory path with --format columns .* for --out but received "-"$/,
    );
    expect(() => prepareProject({ out: 'd', format: 'columns', manifest: 'm.json' }, layout)).toThrow(/--manifest/);
    expect(() => prepareProject({ out: 'x', fields: 'a,zz' }, layout)).toThrow(/for --fields but received "zz"/);
    expect(() => prepareProject({ out: 'x', fields: 'a,a' }, layout)).toThrow(/each field once for --fields/);
    expect(() => prepareProject({ out: 'x', where: 'nope > 1' }, layout)).toThrow(/--where/);
  });
});
