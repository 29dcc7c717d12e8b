import { describe, expect, test } from 'vitest';
import { BigprocError, EXIT } from '../../src/errors.js';
import {
  MAX_NPY_FIELDS,
  NPY_MAGIC,
  isNpy,
  npyDataOffset,
  parseNpyHeader,
  writeNpy,
  writeNpyRaw,
} from '../../src/layout/npy.js';
import { formatSchema } from '../../src/layout/schema.js';

/** Run `fn`, expect a usage error, check its message contains every fragment, and return it. */
function usageError(fn: () => unknown, ...fragments: string[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a usage error').toBeInstanceOf(BigprocError);
  const err = caught as BigprocError;
  expect(err.exitCode).toBe(EXIT.usage);
  expect(err.message).not.toContain('\n');
  for (const f of fragments) expect(err.message).toContain(f);
  return err.message;
}

const F = 'data.npy';
const empty = new Uint8Array(0);
const header = (dict: string, version: 1 | 2 | 3 = 1) => writeNpyRaw(dict, empty, version);
const dict = (descr: string, shape = '(3,)', fortran = 'False') =>
  `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
const schemaOf = (head: Uint8Array) => formatSchema(parseNpyHeader(head, F).layout);
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

// Headers written by numpy 2.4 (np.save), kept byte for byte.
const NUMPY_STRUCT =
  'k05VTVBZAQD2AHsnZGVzY3InOiBbKCdhJywgJzxmOCcsICgzLCkpLCAoJ24nLCBbKCd4JywgJzxpMicpLCAoJ3knLCAnfHUxJyldKSwgKCgnVCcsICd0JyksICc8aTQnKSwgKCdjJywgJzxjOCcpLCAoJ2QnLCAnPE04W25zXScpLCAoJ3MnLCAnfFM1JyksICgndScsICc8VTMnKSwgKCdtJywgJzxmNCcsICgyLCAyKSldLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCg==';
const NUMPY_ALIGNED =
  'k05VTVBZAQC2AHsnZGVzY3InOiBbKCdhJywgJ3x1MScpLCAoJycsICd8VjMnKSwgKCdiJywgJzxmOCcpLCAoJycsICd8VjQnKV0sICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgzLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAK';
const NUMPY_LATIN1 =
  'k05VTVBZAQB2AHsnZGVzY3InOiBbKCfpJywgJzxmOCcpXSwgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=';
const NUMPY_V2 =
  'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=';

describe('isNpy', () => {
  test('checks the magic', () => {
    expect(isNpy(writeNpy('<f8', [0], empty))).toBe(true);
    expect(isNpy(NPY_MAGIC)).toBe(true);
    expect(isNpy(NPY_MAGIC.subarray(0, 5))).toBe(false);
    expect(isNpy(new TextEncoder().encode('PK\x03\x04 zip'))).toBe(false);
    expect(isNpy(empty)).toBe(false);
  });
});

describe('writeNpy', () => {
  test.each([1, 2, 3] as const)('version %i: aligned header ending in newline, data after it', (version) => {
    const data = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const file = writeNpy('<f8', [1], data, version);
    const pre = version === 1 ? 10 : 12;
    expect(Array.from(file.subarray(0, 8))).toEqual([...NPY_MAGIC, version, 0]);
    const view = new DataView(file.buffer);
    const len = version === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
    expect((pre + len) % 64).toBe(0);
    expect(file[pre + len - 1]).toBe(0x0a);
    expect(Array.from(file.subarray(pre + len))).toEqual(Array.from(data));
    const { layout } = parseNpyHeader(file, F);
    expect(layout.headerBytes).toBe(pre + len);
    expect(npyDataOffset(file, F)).toBe(pre + len);
  });

  test('matches numpy byte for byte', () => {
    const numpy = b64(NUMPY_V2);
    expect(Buffer.from(writeNpy('<i8', [3], empty, 2)).equals(Buffer.from(numpy))).toBe(true);
  });

  test('writes structured descrs', () => {
    const file = writeNpy(
      [
        ['a', '<i4'],
        ["it's", '<f4'],
      ],
      [2],
      new Uint8Array(16),
    );
    expect(parseNpyHeader(file, F).layout.fields.map((f) => f.name)).toEqual(['a', 'it_s']);
  });

  test('refuses what the version cannot hold', () => {
    expect(() => writeNpy([['größe€', '<f8']], [1], empty, 1)).toThrow(RangeError);
    expect(() => writeNpyRaw(dict(`'${'x'.repeat(70000)}'`), empty, 1)).toThrow(RangeError);
  });
});

describe('parseNpyHeader: plain dtypes', () => {
  test('<f8, version 1: one field "value", data readable at headerBytes', () => {
    const data = new Float64Array([1.5, -2, 3.25]);
    const file = writeNpy('<f8', [3], new Uint8Array(data.buffer));
    const r = parseNpyHeader(file, F);
    expect(r.shape).toEqual([3]);
    expect(r.records).toBe(3);
    expect(r.layout).toEqual({
      recordSize: 8,
      bigEndian: false,
      fields: [{ name: 'value', type: 'f64', offset: 0, size: 8 }],
      headerBytes: 128,
      source: 'npy',
      expectedRecords: 3,
    });
    const view = new DataView(file.buffer, r.layout.headerBytes);
    expect([0, 1, 2].map((i) => view.getFloat64(i * 8, true))).toEqual([1.5, -2, 3.25]);
  });

  test.each([1, 2, 3] as const)('version %i parses the same', (version) => {
    const r = parseNpyHeader(writeNpy('>u2', [5], new Uint8Array(10), version), F);
    expect(r.layout).toMatchObject({ recordSize: 2, bigEndian: true, expectedRecords: 5 });
    expect(r.layout.fields).toEqual([{ name: 'value', type: 'u16', offset: 0, size: 2 }]);
  });

  test.each([
    ['<i1', 'value:i8'],
    ['|i1', 'value:i8'],
    ['i1', 'value:i8'],
    ['|u1', 'value:u8'],
    ['|b1', 'value:u8'],
    ['<i2', 'value:i16'],
    ['=u2', 'value:u16'],
    ['<i4', 'value:i32'],
    ['<u4', 'value:u32'],
    ['<i8', 'value:i64'],
    ['<u8', 'value:u64'],
    ['<f4', 'value:f32'],
    ['<f8', 'value:f64'],
    ['>f8', '>value:f64'],
    ['>i4', '>value:i32'],
    ['|S5', 'value:bytes<5>'],
    ['|V8', 'value:bytes<8>'],
    ['<U3', 'value:bytes<12>'],
    ['>U3', 'value:bytes<12>'],
    ['<M8[ns]', 'value:i64'],
    ['>M8[D]', '>value:i64'],
    ['<m8[s]', 'value:i64'],
    ['<c8', 'value_re:f32,value_im:f32'],
    ['>c16', '>value_re:f64,value_im:f64'],
  ])('%s → %s', (descr, schema) => {
    expect(schemaOf(header(dict(`'${descr}'`)))).toBe(schema);
  });

  test('a single-byte type is never big-endian, whatever its prefix', () => {
    expect(parseNpyHeader(header(dict("'>u1'")), F).layout.bigEndian).toBe(false);
  });

  test('shape (N, k) makes k fields value0…', () => {
    const r = parseNpyHeader(writeNpy('>i4', [3, 4], new Uint8Array(48)), F);
    expect(r.records).toBe(3);
    expect(formatSchema(r.layout)).toBe('>value0:i32,value1:i32,value2:i32,value3:i32');
    expect(r.layout.recordSize).toBe(16);
  });

  test('shape (N, j, k) flattens row-major; complex gets _re/_im', () => {
    expect(schemaOf(header(dict("'<f4'", '(7, 2, 2)')))).toBe('value0:f32,value1:f32,value2:f32,value3:f32');
    expect(schemaOf(header(dict("'<c8'", '(7, 2)')))).toBe('value0_re:f32,value0_im:f32,value1_re:f32,value1_im:f32');
  });

  test('shape (N, 1) is one indexed field', () => {
    expect(schemaOf(header(dict("'<f8'", '(3, 1)')))).toBe('value0:f64');
  });

  test('shape () is one record, shape (0,) none', () => {
    expect(parseNpyHeader(header(dict("'<f8'", '()')), F)).toMatchObject({
      shape: [],
      records: 1,
      layout: { expectedRecords: 1 },
    });
    expect(parseNpyHeader(header(dict("'<f8'", '(0,)')), F)).toMatchObject({
      shape: [0],
      records: 0,
      layout: { expectedRecords: 0 },
    });
  });

  test('too many values per record: one opaque field', () => {
    const r = parseNpyHeader(header(dict("'|u1'", '(10, 100, 100)')), F);
    expect(r.layout.recordSize).toBe(10000);
    expect(r.layout.fields).toEqual([{ name: 'value', type: 'bytes', offset: 0, size: 10000 }]);
    expect(parseNpyHeader(header(dict("'<f4'", `(2, ${MAX_NPY_FIELDS})`)), F).layout.fields).toHaveLength(
      MAX_NPY_FIELDS,
    );
  });
});

describe('parseNpyHeader: structured dtypes', () => {
  test('numpy header: subarrays, nested, titles, complex, datetime, strings', () => {
    const r = parseNpyHeader(b64(NUMPY_STRUCT), F);
    expect(r.records).toBe(2);
    expect(r.layout.headerBytes).toBe(256);
    expect(formatSchema(r.layout)).toBe(
      'a0:f64,a1:f64,a2:f64,n_x:i16,n_y:u8,t:i32,c_re:f32,c_im:f32,d:i64,s:bytes<5>,u:bytes<12>,m0:f32,m1:f32,m2:f32,m3:f32',
    );
    expect(r.layout.recordSize).toBe(80);
  });

  test("numpy header: aligned struct's ('', '|V3') entries are padding", () => {
    const r = parseNpyHeader(b64(NUMPY_ALIGNED), F);
    expect(formatSchema(r.layout)).toBe('a:u8,pad<3>,b:f64,pad<4>');
    expect(r.layout.recordSize).toBe(16);
  });

  // Issue 12 (#15): letters of any script are kept (they were renamed to '_' before).
  test('numpy header: latin1 names in version 1 keep their letters', () => {
    expect(schemaOf(b64(NUMPY_LATIN1))).toBe('é:f64');
  });

  test('version 3 headers are UTF-8', () => {
    expect(
      schemaOf(
        writeNpy(
          [
            ['größe', '<f8'],
            ['x', '<f8'],
          ],
          [1],
          empty,
          3,
        ),
      ),
    ).toBe('größe:f64,x:f64');
    expect(
      schemaOf(
        writeNpy(
          [
            ['名前', '<f8'],
            ['a b', '<f8'],
            ['3d', '<f8'],
          ],
          [1],
          empty,
          3,
        ),
      ),
    ).toBe('名前:f64,a_b:f64,_3d:f64');
  });

  test('big-endian struct', () => {
    const r = parseNpyHeader(
      writeNpy(
        [
          ['a', '>i4'],
          ['b', '>f8'],
          ['c', '|u1'],
        ],
        [2],
        new Uint8Array(26),
        2,
      ),
      F,
    );
    expect(formatSchema(r.layout)).toBe('>a:i32,b:f64,c:u8');
  });

  test('default names f0, f1 are real fields', () => {
    expect(schemaOf(header(dict("[('f0', '<i4'), ('f1', '<f8')]")))).toBe('f0:i32,f1:f64');
  });

  test('subarray shape as a bare int, multi-dim, and ()', () => {
    expect(schemaOf(header(dict("[('v', '<i2', 2), ('s', '<i2', ())]")))).toBe('v0:i16,v1:i16,s:i16');
    expect(schemaOf(header(dict("[('m', '<u1', (2, 3))]")))).toBe('m0:u8,m1:u8,m2:u8,m3:u8,m4:u8,m5:u8');
  });

  test('nested subarray of structs: outerI_inner', () => {
    expect(schemaOf(header(dict("[('p', [('x', '<f4'), ('y', '<f4')], (2,)), ('id', '<u4')]")))).toBe(
      'p0_x:f32,p0_y:f32,p1_x:f32,p1_y:f32,id:u32',
    );
  });

  test('nested padding and deep nesting', () => {
    expect(schemaOf(header(dict("[('a', [('b', [('c', '<i8')]), ('', '|V4')]), ('d', '|u1')]")))).toBe(
      'a_b_c:i64,pad<4>,d:u8',
    );
  });

  test('structured array with shape (N, k): field0, field1…', () => {
    expect(schemaOf(header(dict("[('a', '<i4'), ('b', '<f4')]", '(5, 2)')))).toBe('a0:i32,b0:f32,a1:i32,b1:f32');
  });

  test('Python literal details: double quotes, escapes, list shape, extra keys, no trailing comma', () => {
    const text = `{"descr": [("it\\'s", '<f8'), ('x\\ty', "<i4")], "shape": [4], 'fortran_order': False, 'extra': {'k': (None, True, 1.5, -2, [])}}`;
    const r = parseNpyHeader(header(text), F);
    expect(r.shape).toEqual([4]);
    expect(formatSchema(r.layout)).toBe('it_s:f64,x_y:i32');
  });

  test('ints with Python 2 L suffix', () => {
    expect(parseNpyHeader(header(dict("'<f8'", '(3L,)')), F).records).toBe(3);
  });
});

describe('parseNpyHeader: rejections', () => {
  test('throws: object dtype', () => {
    usageError(
      () => parseNpyHeader(header(dict("'|O'")), F),
      F,
      '"|O"',
      'object arrays hold Python pointers, not data',
    );
    usageError(() => parseNpyHeader(header(dict("[('a', '<f8'), ('o', '|O')]")), F), F, 'field "o"', 'Python pointers');
  });

  test('throws: half precision', () => {
    usageError(() => parseNpyHeader(header(dict("'<f2'")), F), F, '"<f2"', 'half-precision');
  });

  test('throws: long double and unknown codes', () => {
    usageError(() => parseNpyHeader(header(dict("'<f16'")), F), F, '"<f16"', 'long double');
    usageError(() => parseNpyHeader(header(dict("'<c32'")), F), F, '"<c32"', 'long double');
    usageError(() => parseNpyHeader(header(dict("'<x4'")), F), F, '"<x4"', 'b1, i1');
    usageError(() => parseNpyHeader(header(dict("'<i3'")), F), F, '"<i3"');
    usageError(() => parseNpyHeader(header(dict("'<f8[ns]'")), F), F, '"<f8[ns]"');
    usageError(() => parseNpyHeader(header(dict("'d'")), F), F, '"d"');
    usageError(() => parseNpyHeader(header(dict("'|S0'")), F), F, '"|S0"', 'at least 1');
  });

  test('throws: Fortran order with more than one non-trivial dimension', () => {
    usageError(
      () => parseNpyHeader(writeNpy('<f8', [3, 4], new Uint8Array(96), 1, true), F),
      F,
      'Fortran-ordered arrays are not record-contiguous',
      'np.ascontiguousarray',
    );
    usageError(() => parseNpyHeader(header(dict("'<f8'", '(3, 1, 4)', 'True')), F), 'Fortran');
  });

  test('Fortran order is fine when at most one dimension exceeds 1', () => {
    expect(parseNpyHeader(writeNpy('<f8', [3], new Uint8Array(24), 1, true), F).records).toBe(3);
    expect(schemaOf(header(dict("'<f8'", '(3, 1)', 'True')))).toBe('value0:f64');
    expect(schemaOf(header(dict("'<f8'", '(1, 2)', 'True')))).toBe('value0:f64,value1:f64');
  });

  test('throws: mixed byte orders, naming the fields', () => {
    usageError(
      () => parseNpyHeader(header(dict("[('a', '>i4'), ('b', '<i4'), ('c', '|u1'), ('d', '>f8')]")), F),
      F,
      'mix byte orders',
      'big-endian: a, d',
      'little-endian: b',
    );
  });

  test('single-byte and bytes fields never count as mixed', () => {
    expect(schemaOf(header(dict("[('a', '>i4'), ('b', '<u1'), ('s', '<U2')]")))).toBe('>a:i32,b:u8,s:bytes<8>');
  });

  test('throws: names that clash once made identifiers', () => {
    usageError(
      () => parseNpyHeader(header(dict("[('a b', '<i4'), ('a_b', '<i4')]")), F),
      F,
      '"a b" and "a_b" both become "a_b"',
    );
    usageError(() => parseNpyHeader(header(dict("[('p', '<i4', 2), ('p0', '<i4')]")), F), F, '"p0" appears twice');
    usageError(() => parseNpyHeader(header(dict("[('c', '<c8'), ('c_re', '<f4')]")), F), F, '"c_re"');
  });

  test('throws: zero-byte records', () => {
    usageError(() => parseNpyHeader(header(dict("'<f8'", '(3, 0)')), F), F, 'zero bytes');
    usageError(() => parseNpyHeader(header(dict('[]')), F), F, 'zero bytes');
  });

  test('throws: records larger than the cap', () => {
    usageError(() => parseNpyHeader(header(dict("'<f8'", '(2, 100000, 100000)')), F), F, 'larger than');
  });

  test('throws: bad magic', () => {
    const file = writeNpy('<f8', [1], new Uint8Array(8));
    file[1] = 0x4f;
    usageError(() => parseNpyHeader(file, F), F, 'not an .npy file', '93 4f 55 4d');
    usageError(() => parseNpyHeader(empty, F), F, 'not an .npy file', 'nothing');
  });

  test('throws: unknown version', () => {
    const file = writeNpy('<f8', [1], new Uint8Array(8));
    file[6] = 4;
    usageError(() => parseNpyHeader(file, F), F, 'version 4.0', '1.0, 2.0 or 3.0');
  });

  test('throws: truncated header', () => {
    const file = writeNpy('<f8', [1], new Uint8Array(8));
    usageError(() => parseNpyHeader(file.subarray(0, 100), F), F, 'truncated', 'byte 128', 'only 100');
    usageError(() => parseNpyHeader(file.subarray(0, 9), F), F, 'truncated');
    usageError(() => parseNpyHeader(writeNpy('<f8', [1], empty, 2).subarray(0, 11), F), F, 'truncated');
  });

  test('throws: a header that is not a dict', () => {
    usageError(() => parseNpyHeader(header("['<f8', False, (3,)]"), F), F, 'expected a dict', "('<f8', False, (3,))");
  });

  test('throws: missing keys', () => {
    usageError(() => parseNpyHeader(header("{'descr': '<f8', 'fortran_order': False}"), F), F, "'shape' is missing");
    usageError(() => parseNpyHeader(header("{'shape': (3,), 'fortran_order': False}"), F), F, "'descr' is missing");
  });

  test('throws: bad values', () => {
    usageError(() => parseNpyHeader(header(dict("'<f8'", '(3, -1)')), F), F, "'shape'", 'non-negative', '(3, -1)');
    usageError(() => parseNpyHeader(header(dict("'<f8'", '3')), F), F, "'shape'", 'not 3');
    usageError(() => parseNpyHeader(header(dict("'<f8'", '(2.5,)')), F), F, "'shape'");
    usageError(() => parseNpyHeader(header(dict("'<f8'", '(3,)', '0')), F), F, "'fortran_order'", 'True or False');
    usageError(() => parseNpyHeader(header(dict('5')), F), F, "'descr'", 'not 5');
    usageError(() => parseNpyHeader(header(dict("[('a',)]")), F), F, '(name, dtype)');
    usageError(() => parseNpyHeader(header(dict("[(1, '<f8')]")), F), F, 'field name');
    usageError(() => parseNpyHeader(header(dict("[('a', '<f8', (-2,))]")), F), F, 'subarray shape of field "a"');
  });

  test('throws: garbled headers, never evaluated', () => {
    usageError(() => parseNpyHeader(header("{'descr': '<f8', 'shape': (3,"), F), F, 'malformed .npy header');
    usageError(() => parseNpyHeader(header("{'descr': '<f8}"), F), F, 'unterminated string');
    usageError(
      () => parseNpyHeader(header("{'descr': __import__('os').system('x')}"), F),
      F,
      'unknown name "__import__"',
    );
    usageError(() => parseNpyHeader(header("{'descr': '<f8'} trailing"), F), F, 'unexpected text');
    usageError(() => parseNpyHeader(header("{'descr' '<f8'}"), F), F, "expected ':'");
    usageError(() => parseNpyHeader(header("{('a',): 1}"), F), F, 'dict key');
    usageError(() => parseNpyHeader(header(`{'x': ${'['.repeat(100)}${']'.repeat(100)}}`), F), F, 'too deep');
    usageError(() => parseNpyHeader(header("{'descr': '\\x4'}"), F), F, 'bad \\x escape');
    usageError(() => parseNpyHeader(header(''), F), F, 'unexpected end');
  });
});

describe('parseNpyHeader: padding-only records', () => {
  test('a huge subarray of padding is quick and has no fields', () => {
    const r = parseNpyHeader(header(dict("[('a', [('', '|V1')], (100000000,)), ('b', '<u1')]", '(2,)')), F);
    expect(formatSchema(r.layout)).toBe('pad<100000000>,b:u8');
    expect(parseNpyHeader(header(dict("[('', '|V4')]", '(2, 100000)')), F).layout).toMatchObject({
      recordSize: 400000,
      fields: [],
    });
  });
});
