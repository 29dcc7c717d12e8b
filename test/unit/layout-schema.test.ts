import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, test } from 'vitest';
import { formatSchema, loadSchemaOption, parseLayoutJson, parseSchema } from '../../src/layout/schema.js';
import { NUMERIC_TYPES, TYPE_SIZE, type Field, type Layout } from '../../src/layout/types.js';
import { BigprocError, EXIT } from '../../src/errors.js';
import { isName, namePrefix } from '../../src/layout/fields.js';

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

const shape = (l: Layout) => ({ recordSize: l.recordSize, bigEndian: l.bigEndian, fields: l.fields });

describe('parseSchema', () => {
  test('packs the contract example in order', () => {
    const l = parseSchema('ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16');
    expect(l).toEqual({
      recordSize: 24,
      bigEndian: false,
      headerBytes: 0,
      source: 'schema',
      fields: [
        { name: 'ts', type: 'i64', offset: 0, size: 8 },
        { name: 'price', type: 'f64', offset: 8, size: 8 },
        { name: 'qty', type: 'i32', offset: 16, size: 4 },
        { name: 'side', type: 'u8', offset: 20, size: 1 },
        { name: 'flags', type: 'u8', offset: 21, size: 1 },
        { name: 'venue', type: 'u16', offset: 22, size: 2 },
      ],
    });
  });

  test('every numeric type has its width', () => {
    const l = parseSchema(NUMERIC_TYPES.map((t) => `f_${t}:${t}`).join(','));
    let offset = 0;
    for (const [i, t] of NUMERIC_TYPES.entries()) {
      expect(l.fields[i]).toEqual({ name: `f_${t}`, type: t, offset, size: TYPE_SIZE[t] });
      offset += TYPE_SIZE[t];
    }
    expect(l.recordSize).toBe(offset);
  });

  test('bytes<N>, bare pad<N> and named pad<N>', () => {
    const l = parseSchema('ts:i64,pad<4>,id:bytes<16>,_gap:pad<2>,x:u8');
    expect(l.fields).toEqual([
      { name: 'ts', type: 'i64', offset: 0, size: 8 },
      { name: 'id', type: 'bytes', offset: 12, size: 16 },
      { name: 'x', type: 'u8', offset: 30, size: 1 },
    ]);
    expect(l.recordSize).toBe(31);
  });

  test('whitespace around tokens', () => {
    const l = parseSchema('  >  ts : i64 ,\tid: bytes < 3 > , pad <1>  ');
    expect(shape(l)).toEqual({
      recordSize: 12,
      bigEndian: true,
      fields: [
        { name: 'ts', type: 'i64', offset: 0, size: 8 },
        { name: 'id', type: 'bytes', offset: 8, size: 3 },
      ],
    });
  });

  test('leading > is big-endian, < and nothing little', () => {
    expect(parseSchema('>a:i32').bigEndian).toBe(true);
    expect(parseSchema('<a:i32').bigEndian).toBe(false);
    expect(parseSchema('a:i32').bigEndian).toBe(false);
  });

  test('a schema of only padding is an opaque record', () => {
    expect(shape(parseSchema('pad<8>'))).toEqual({ recordSize: 8, bigEndian: false, fields: [] });
  });

  test('throws: empty schema', () => {
    usageError(() => parseSchema(''), '--schema', 'record schema', 'received ""');
    usageError(() => parseSchema('   '), '--schema', 'received "   "');
    usageError(() => parseSchema('>'), '--schema', 'received ">"');
  });

  test('throws: empty item', () => {
    usageError(() => parseSchema('a:i8,,b:u8'), '--schema', 'item 2 is empty', '"a:i8,,b:u8"');
    usageError(() => parseSchema('a:i8,'), '--schema', 'item 2 is empty');
  });

  test("throws: missing ':'", () => {
    usageError(() => parseSchema('ts:i64,price'), '--schema', 'name:type', 'item 2', 'received "price"');
    usageError(() => parseSchema('i64'), '--schema', 'received "i64"');
  });

  test('throws: unknown type, listing the valid ones', () => {
    const msg = usageError(() => parseSchema('ts:i64,p:f16'), '--schema', 'field "p"', 'received "f16"');
    for (const t of [...NUMERIC_TYPES, 'bytes<N>', 'pad<N>']) expect(msg).toContain(t);
    usageError(() => parseSchema('p:I64'), 'received "I64"');
    usageError(() => parseSchema('p:bytes'), 'received "bytes"');
    usageError(() => parseSchema('a:i8:u8'), 'received "i8:u8"');
  });

  test('throws: bad N', () => {
    usageError(() => parseSchema('id:bytes<0>'), '--schema', 'bytes<N>', 'received "bytes<0>"');
    usageError(() => parseSchema('id:bytes<x>'), '--schema', 'received "bytes<x>"');
    usageError(() => parseSchema('id:bytes<-1>'), '--schema', 'received "bytes<-1>"');
    usageError(() => parseSchema('id:bytes<1.5>'), 'received "bytes<1.5>"');
    usageError(() => parseSchema('pad<>'), '--schema', 'pad<N>', 'received "pad<>"');
    usageError(() => parseSchema('id:bytes<99999999999>'), 'received "bytes<99999999999>"');
  });

  test('throws: record too large', () => {
    usageError(() => parseSchema('a:bytes<2000000000>,b:bytes<2000000000>'), '--schema', 'at most');
  });

  test('throws: bad field name', () => {
    usageError(() => parseSchema('1x:i8'), '--schema', 'field name', 'received "1x"');
    usageError(() => parseSchema('a-b:i8'), 'received "a-b"');
    usageError(() => parseSchema(':i8'), 'received ""');
  });

  test('throws: duplicate name, naming it', () => {
    usageError(() => parseSchema('ts:i64,px:f64,ts:i32'), 'Duplicate field name "ts"', '--schema');
  });

  test('the param name is configurable', () => {
    usageError(() => parseSchema('x', '--key-schema'), '--key-schema', 'received "x"');
  });
});

describe('formatSchema', () => {
  test('writes pads for gaps and trailing bytes, > for big-endian', () => {
    const l: Layout = {
      recordSize: 40,
      bigEndian: true,
      headerBytes: 0,
      source: 'json',
      fields: [
        { name: 'a', type: 'i64', offset: 0, size: 8 },
        { name: 'id', type: 'bytes', offset: 12, size: 16 },
        { name: 'b', type: 'u16', offset: 28, size: 2 },
      ],
    };
    expect(formatSchema(l)).toBe('>a:i64,pad<4>,id:bytes<16>,b:u16,pad<10>');
    expect(shape(parseSchema(formatSchema(l)))).toEqual(shape(l));
  });

  test('opaque records format as one pad', () => {
    const l: Layout = { recordSize: 12, bigEndian: false, fields: [], headerBytes: 0, source: 'record-size' };
    expect(formatSchema(l)).toBe('pad<12>');
  });

  test('round-trips the contract example', () => {
    const text = 'ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16';
    expect(formatSchema(parseSchema(text))).toBe(text);
  });

  test('overlapping fields are a programming error', () => {
    const l: Layout = {
      recordSize: 8,
      bigEndian: false,
      headerBytes: 0,
      source: 'json',
      fields: [
        { name: 'a', type: 'i64', offset: 0, size: 8 },
        { name: 'b', type: 'u8', offset: 4, size: 1 },
      ],
    };
    expect(() => formatSchema(l)).toThrow(RangeError);
  });

  const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
  const item = fc.record({
    gap: fc.nat({ max: 5 }),
    type: fc.oneof(fc.constantFrom(...NUMERIC_TYPES), fc.integer({ min: 1, max: 40 })),
  });
  const layouts = fc
    .record({
      names: fc.uniqueArray(name, { maxLength: 12 }),
      items: fc.array(item, { maxLength: 12 }),
      tail: fc.nat({ max: 7 }),
      bigEndian: fc.boolean(),
    })
    .map(({ names, items, tail, bigEndian }): Layout => {
      const fields: Field[] = [];
      let offset = 0;
      names.forEach((n, i) => {
        const it = items[i] ?? { gap: 0, type: 'u8' as const };
        offset += it.gap;
        const f: Field =
          typeof it.type === 'number'
            ? { name: n, type: 'bytes', offset, size: it.type }
            : { name: n, type: it.type, offset, size: TYPE_SIZE[it.type] };
        fields.push(f);
        offset += f.size;
      });
      return { recordSize: Math.max(offset + tail, 1), bigEndian, fields, headerBytes: 0, source: 'schema' };
    });

  test('property: parseSchema(formatSchema(layout)) gives the layout back', () => {
    fc.assert(
      fc.property(layouts, (l) => {
        expect(parseSchema(formatSchema(l))).toEqual(l);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseLayoutJson', () => {
  const P = '--schema @layout.json';

  test('fields, endian, pads and sized bytes', () => {
    const l = parseLayoutJson(
      {
        endian: 'big',
        fields: [
          { name: 'ts', type: 'i64' },
          { type: 'pad<4>' },
          { name: 'id', type: 'bytes<16>' },
          { type: 'pad', size: 2 },
          { name: 'tag', type: 'bytes', size: 3 },
          { name: 'n', type: 'u16', size: 2 },
        ],
      },
      P,
    );
    expect(l).toEqual({
      recordSize: 35,
      bigEndian: true,
      headerBytes: 0,
      source: 'json',
      fields: [
        { name: 'ts', type: 'i64', offset: 0, size: 8 },
        { name: 'id', type: 'bytes', offset: 12, size: 16 },
        { name: 'tag', type: 'bytes', offset: 30, size: 3 },
        { name: 'n', type: 'u16', offset: 33, size: 2 },
      ],
    });
  });

  test('endian defaults to little; record_size adds trailing padding; header_bytes', () => {
    const l = parseLayoutJson({ fields: [{ name: 'a', type: 'f32' }], record_size: 16, header_bytes: 100 }, P);
    expect(l).toMatchObject({ recordSize: 16, bigEndian: false, headerBytes: 100, source: 'json' });
    expect(parseLayoutJson({ endian: 'little', fields: [{ name: 'a', type: 'f32' }] }, P).bigEndian).toBe(false);
    expect(parseLayoutJson({ fields: [], record_size: 8 }, P).recordSize).toBe(8);
  });

  test('a named pad is accepted and not listed', () => {
    expect(
      parseLayoutJson(
        {
          fields: [
            { name: 'skip', type: 'pad<3>' },
            { name: 'a', type: 'u8' },
          ],
        },
        P,
      ).fields,
    ).toEqual([{ name: 'a', type: 'u8', offset: 3, size: 1 }]);
  });

  test('throws: not an object', () => {
    usageError(() => parseLayoutJson(5, P), `for ${P} but`, 'JSON object', 'received 5');
    usageError(() => parseLayoutJson([1], P), `for ${P} but`, 'received [1]');
  });

  test('throws: missing or wrong fields', () => {
    usageError(() => parseLayoutJson({}, P), `for ${P} fields but`, 'array of fields', 'received nothing');
    usageError(() => parseLayoutJson({ fields: {} }, P), `${P} fields`, 'received {}');
    usageError(() => parseLayoutJson({ fields: ['ts:i64'] }, P), `${P} fields[0]`, 'received "ts:i64"');
  });

  test('throws: unknown type names the JSON path', () => {
    const fields = [
      { name: 'a', type: 'i64' },
      { name: 'b', type: 'u8' },
      { name: 'c', type: 'float' },
    ];
    usageError(() => parseLayoutJson({ fields }, P), `for ${P} fields[2].type but`, 'received "float"', 'bytes<N>');
    usageError(() => parseLayoutJson({ fields: [{ name: 'a', type: 7 }] }, P), `${P} fields[0].type`, 'received 7');
    usageError(() => parseLayoutJson({ fields: [{ name: 'a' }] }, P), `${P} fields[0].type`, 'received nothing');
  });

  test('throws: bad endian', () => {
    usageError(
      () => parseLayoutJson({ endian: 'mid', fields: [] }, P),
      `${P} endian`,
      '"little", "big"',
      'received "mid"',
    );
  });

  test('throws: unknown keys', () => {
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'a', type: 'u8' }], recordSize: 4 }, P),
      `for ${P} but`,
      'record_size',
      'received "recordSize"',
    );
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'a', type: 'u8', offset: 4 }] }, P),
      `${P} fields[0]`,
      'received "offset"',
    );
  });

  test('throws: missing or bad name', () => {
    usageError(() => parseLayoutJson({ fields: [{ type: 'u8' }] }, P), `${P} fields[0].name`, 'received nothing');
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'a b', type: 'u8' }] }, P),
      `${P} fields[0].name`,
      'received "a b"',
    );
    usageError(() => parseLayoutJson({ fields: [{ name: 3, type: 'u8' }] }, P), `${P} fields[0].name`, 'received 3');
  });

  test('throws: sizes', () => {
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'id', type: 'bytes' }] }, P),
      `${P} fields[0].size`,
      'bytes<N>',
      'received nothing',
    );
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'id', type: 'bytes', size: 0 }] }, P),
      `${P} fields[0].size`,
      'received 0',
    );
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'id', type: 'bytes', size: 1.5 }] }, P),
      `${P} fields[0].size`,
      'received 1.5',
    );
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'a', type: 'i32', size: 8 }] }, P),
      `${P} fields[0].size`,
      '4 (the size of i32)',
      'received 8',
    );
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'id', type: 'bytes<4>', size: 5 }] }, P),
      `${P} fields[0].size`,
      'received 5',
    );
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'id', type: 'bytes<0>' }] }, P),
      `${P} fields[0].type`,
      'received "bytes<0>"',
    );
  });

  test('throws: record_size below the packed size', () => {
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'a', type: 'i64' }], record_size: 4 }, P),
      `${P} record_size`,
      'from 8',
      'received 4',
    );
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'a', type: 'i64' }], record_size: 'big' }, P),
      `${P} record_size`,
      'received "big"',
    );
  });

  test('throws: negative header_bytes', () => {
    usageError(
      () => parseLayoutJson({ fields: [{ name: 'a', type: 'u8' }], header_bytes: -1 }, P),
      `${P} header_bytes`,
      'received -1',
    );
  });

  test('throws: zero-size record', () => {
    usageError(() => parseLayoutJson({ fields: [] }, P), `${P} fields`, 'at least one byte', 'received []');
  });

  test('throws: duplicate name', () => {
    usageError(
      () =>
        parseLayoutJson(
          {
            fields: [
              { name: 'a', type: 'u8' },
              { name: 'a', type: 'u16' },
            ],
          },
          P,
        ),
      'Duplicate field name "a"',
      P,
    );
  });
});

describe('loadSchemaOption', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bigproc-layout-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('inline text is the grammar', () => {
    expect(loadSchemaOption('a:u8').source).toBe('schema');
  });

  test('@file reads a JSON layout (BOM tolerated)', () => {
    const file = join(dir, 'layout.json');
    writeFileSync(
      file,
      `\uFEFF${JSON.stringify({ endian: 'big', fields: [{ name: 'ts', type: 'i64' }], header_bytes: 16 })}`,
    );
    expect(loadSchemaOption(`@${file}`)).toEqual({
      recordSize: 8,
      bigEndian: true,
      headerBytes: 16,
      source: 'json',
      fields: [{ name: 'ts', type: 'i64', offset: 0, size: 8 }],
    });
  });

  test('errors in the file name the file and the JSON path', () => {
    const file = join(dir, 'bad-type.json');
    writeFileSync(
      file,
      JSON.stringify({
        fields: [
          { name: 'a', type: 'u8' },
          { name: 'b', type: 'u9' },
        ],
      }),
    );
    usageError(() => loadSchemaOption(`@${file}`), `for --schema @${file} fields[1].type but`, 'received "u9"');
  });

  test('throws: missing file', () => {
    const file = join(dir, 'nope.json');
    usageError(() => loadSchemaOption(`@${file}`), '--schema', JSON.stringify(file), 'no such file');
  });

  test('throws: a directory', () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    usageError(() => loadSchemaOption(`@${sub}`), '--schema', JSON.stringify(sub), 'directory');
  });

  test('throws: invalid JSON, with the parse message', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"fields": [');
    usageError(() => loadSchemaOption(`@${file}`), '--schema', JSON.stringify(file), 'not valid JSON', 'JSON');
  });

  test('throws: @ without a path', () => {
    usageError(() => loadSchemaOption('@'), '--schema', 'file path', 'received "@"');
  });
});

describe('field names: the ASCII fast path agrees with the Unicode rule', () => {
  const prefix = /^[\p{L}\p{Nl}_][\p{L}\p{M}\p{N}_]*/u;
  const whole = /^[\p{L}\p{Nl}_][\p{L}\p{M}\p{N}_]*$/u;
  const chars = fc.constantFrom(
    'a',
    'Z',
    '_',
    '0',
    '9',
    ' ',
    '>',
    '.',
    '-',
    'é',
    '\u0301',
    'Ⅻ',
    '٣',
    '𝒳',
    'ß',
    '\u00a0',
  );
  test('namePrefix and isName equal the Unicode patterns on mixed strings', () => {
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 8 }), (cs) => {
        const s = cs.join('');
        expect(namePrefix(s)).toBe(prefix.exec(s)?.[0] ?? '');
        expect(isName(s)).toBe(whole.test(s));
      }),
      { numRuns: 3000 },
    );
    expect(namePrefix('température > 3')).toBe('température');
    expect(namePrefix('price>3')).toBe('price');
    expect(isName('')).toBe(false);
  });
});
