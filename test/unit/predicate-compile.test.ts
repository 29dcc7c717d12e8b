// compilePredicate + programToTest against a layout: exact integer lowering, float IEEE semantics,
// field errors, and a property test against an independent reference evaluator.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Instr, compilePredicate, parsePredicate, programToTest } from '../../src/ops/lib/predicate.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import { BigprocError } from '../../src/errors.js';

const SCHEMA = 'a:u8,b:i64,c:f32,d:f64,e:u64,id:bytes<4>,g:i8,h:i16,k:u16,m:i32,n:u32';
const LE = parseSchema(SCHEMA);
const BE = parseSchema(`>${SCHEMA}`);

type IntType = 'u8' | 'i8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'u64';
type FieldType = IntType | 'f32' | 'f64';
const NUMERIC = LE.fields.filter((f) => f.type !== 'bytes').map((f) => ({ name: f.name, type: f.type as FieldType }));
const RANGE: Record<IntType, [bigint, bigint]> = {
  i8: [-128n, 127n],
  u8: [0n, 255n],
  i16: [-32768n, 32767n],
  u16: [0n, 65535n],
  i32: [-(2n ** 31n), 2n ** 31n - 1n],
  u32: [0n, 2n ** 32n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u64: [0n, 2n ** 64n - 1n],
};

const compile = (src: string, layout: Layout = LE): Instr[] => compilePredicate(parsePredicate(src), layout);

type Values = Record<string, number | bigint>;

/** One record written independently of src (DataView setters). */
function writeRecord(layout: Layout, v: Values, idBytes = [1, 2, 3, 4]): DataView {
  const dv = new DataView(new ArrayBuffer(layout.recordSize));
  const le = !layout.bigEndian;
  for (const f of layout.fields) {
    const x = v[f.name];
    switch (f.type) {
      case 'u8':
        dv.setUint8(f.offset, Number(x ?? 0));
        break;
      case 'i8':
        dv.setInt8(f.offset, Number(x ?? 0));
        break;
      case 'u16':
        dv.setUint16(f.offset, Number(x ?? 0), le);
        break;
      case 'i16':
        dv.setInt16(f.offset, Number(x ?? 0), le);
        break;
      case 'u32':
        dv.setUint32(f.offset, Number(x ?? 0), le);
        break;
      case 'i32':
        dv.setInt32(f.offset, Number(x ?? 0), le);
        break;
      case 'u64':
        dv.setBigUint64(f.offset, BigInt(x ?? 0n), le);
        break;
      case 'i64':
        dv.setBigInt64(f.offset, BigInt(x ?? 0n), le);
        break;
      case 'f32':
        dv.setFloat32(f.offset, Number(x ?? 0), le);
        break;
      case 'f64':
        dv.setFloat64(f.offset, Number(x ?? 0), le);
        break;
      case 'bytes':
        idBytes.forEach((b, i) => {
          dv.setUint8(f.offset + i, b);
        });
        break;
    }
  }
  return dv;
}

function run(src: string, v: Values, layout: Layout = LE): boolean {
  return programToTest(compile(src, layout))(writeRecord(layout, v), 0);
}

function compileError(src: string): BigprocError {
  try {
    compile(src);
  } catch (e) {
    expect(e).toBeInstanceOf(BigprocError);
    expect((e as BigprocError).exitCode).toBe(2);
    return e as BigprocError;
  }
  throw new Error(`expected ${src} to be rejected`);
}

describe('compilePredicate: integer lowering is exact', () => {
  it('u8: a < 2.5 is a <= 2, a > 2.5 is a >= 3', () => {
    expect(compile('a < 2.5')).toEqual(compile('a <= 2'));
    expect(compile('a <= 2.5')).toEqual(compile('a <= 2'));
    expect(compile('a > 2.5')).toEqual(compile('a >= 3'));
    expect(compile('a >= 2.5')).toEqual(compile('a >= 3'));
    expect(compile('a < 3')).toEqual(compile('a <= 2'));
    expect(compile('a > 2')).toEqual(compile('a >= 3'));
    expect(compile('a < -2.5')).toEqual(compile('a <= -3'));
    expect(compile('g < -2.5')).toEqual(compile('g <= -3'));
    expect(compile('g > -2.5')).toEqual(compile('g >= -2'));
    for (const x of [0, 1, 2, 3, 4, 255]) {
      expect(run('a < 2.5', { a: x })).toBe(x <= 2);
      expect(run('a > 2.5', { a: x })).toBe(x >= 3);
      expect(run('a == 2.5', { a: x })).toBe(false);
      expect(run('a != 2.5', { a: x })).toBe(true);
    }
  });

  it.each([
    ['a > 300', false],
    ['a >= 256', false],
    ['a == 256', false],
    ['a != 256', true],
    ['a < 256', true],
    ['a <= 255', true],
    ['a > 255', false],
    ['a >= -1', true],
    ['a >= 0', true],
    ['a > -1', true],
    ['a < 0', false],
    ['a <= -1', false],
    ['a == -1', false],
    ['a != -1', true],
    ['a == 2.5', false],
    ['a != 2.5', true],
    ['a < inf', true],
    ['a <= Infinity', true],
    ['a > inf', false],
    ['a > -inf', true],
    ['a < -inf', false],
    ['a != inf', true],
    ['a == nan', false],
    ['a != nan', true],
    ['a < nan', false],
    ['a >= nan', false],
    ['g >= -128', true],
    ['g < -128', false],
    ['g <= 127', true],
    ['h > 32767', false],
    ['k < 65536', true],
    ['m >= -2147483648', true],
    ['n <= 4294967295', true],
    ['n > 4294967295', false],
    ['b < 9223372036854775808', true],
    ['b <= 9223372036854775807', true],
    ['b > 9223372036854775807', false],
    ['b >= -9223372036854775808', true],
    ['b < -9223372036854775808', false],
    ['e <= 18446744073709551615', true],
    ['e > 18446744073709551615', false],
    ['e >= 18446744073709551616', false],
    ['e < 0x10000000000000000', true],
    ['e >= 0', true],
    ['e < 1e300', true],
    ['b > -1e300', true],
  ])('%s folds to the constant %s', (src, value) => {
    expect(compile(src)).toEqual([{ op: 'const', value }]);
  });

  it('i64 and u64 comparisons with literals beyond 2^53 are exact', () => {
    expect(compile('b == 9007199254740993')).toEqual([
      { op: 'cmp', offset: 1, type: 'i64', bigEndian: false, cmp: 'eq', value: 9007199254740993n },
    ]);
    expect(run('b == 9007199254740993', { b: 9007199254740993n })).toBe(true);
    expect(run('b == 9007199254740993', { b: 9007199254740992n })).toBe(false);
    expect(run('b > 9007199254740992', { b: 9007199254740993n })).toBe(true);
    expect(run('b < 9007199254740993', { b: 9007199254740992n })).toBe(true);
    expect(run('b < -9223372036854775807', { b: -(2n ** 63n) })).toBe(true);
    expect(run('b < -9223372036854775807', { b: -(2n ** 63n) + 1n })).toBe(false);
    expect(run('e > 18446744073709551614', { e: 2n ** 64n - 1n })).toBe(true);
    expect(run('e > 18446744073709551614', { e: 2n ** 64n - 2n })).toBe(false);
    expect(run('e == 0xFFFFFFFFFFFFFFFF', { e: 2n ** 64n - 1n })).toBe(true);
    expect(run('e != 18446744073709551615', { e: 2n ** 64n - 1n })).toBe(false);
    expect(run('e >= 9223372036854775808', { e: 2n ** 63n })).toBe(true);
    expect(run('e >= 9223372036854775808', { e: 2n ** 63n - 1n })).toBe(false);
    expect(run('e == 12345678901234567890', { e: 12345678901234567890n })).toBe(true);
    expect(run('e == 12345678901234567890', { e: 12345678901234567891n })).toBe(false);
    expect(run('b > 9007199254740992.5', { b: 9007199254740993n })).toBe(true);
  });

  it('a literal on the left flips the comparison in the program too', () => {
    expect(compile('2 < a')).toEqual(compile('a > 2'));
    expect(compile('2.5 >= a')).toEqual(compile('a <= 2'));
    expect(compile('-1 <= a')).toEqual([{ op: 'const', value: true }]);
    expect(compile('0x10 == e')).toEqual(compile('e == 16'));
  });

  it('hex and signed literals', () => {
    expect(run('a == 0xff', { a: 255 })).toBe(true);
    expect(run('g == -0x80', { g: -128 })).toBe(true);
    expect(run('g == +5', { g: 5 })).toBe(true);
    expect(run('m > -0x7fffffff', { m: -2147483647 })).toBe(false);
    expect(run('m > -0x7fffffff', { m: -2147483646 })).toBe(true);
  });
});

describe('compilePredicate: inexact decimal literals against integer fields', () => {
  // The README promises exact integer comparisons: the literal's decimal value, not the double
  // nearest to it, decides. Each of these differs between the two readings.
  it.each([
    ['b == 9007199254740993.0', { b: 9007199254740993n }, true],
    ['b != 9007199254740993.0', { b: 9007199254740993n }, false],
    ['b > 9007199254740993.0', { b: 9007199254740993n }, false],
    ['b == 9007199254740993.5', { b: 9007199254740994n }, false],
    ['b == 9.223372036854775807e18', { b: 2n ** 63n - 1n }, true],
    ['b < 9.223372036854775807e18', { b: 2n ** 63n - 1n }, false],
    ['e == 1.8446744073709551615e19', { e: 2n ** 64n - 1n }, true],
    ['a < 1e-400', { a: 0 }, true],
    ['a > -1e-400', { a: 0 }, true],
    ['g >= -1e-400', { g: 0 }, true],
  ] as const)('%s with %o is %s', (src, values, want) => {
    expect(run(src, values as Values)).toBe(want);
  });
});

describe('compilePredicate: floats compare as doubles', () => {
  it('f64 and f32 compare with Number(literal)', () => {
    expect(compile('d < 2.5')).toEqual([
      { op: 'cmp', offset: 13, type: 'f64', bigEndian: false, cmp: 'lt', value: 2.5 },
    ]);
    expect(compile('c == 0.1')).toEqual([
      { op: 'cmp', offset: 9, type: 'f32', bigEndian: false, cmp: 'eq', value: 0.1 },
    ]);
    expect(compile('d < 0x10')).toEqual([
      { op: 'cmp', offset: 13, type: 'f64', bigEndian: false, cmp: 'lt', value: 16 },
    ]);
    expect(compile('d > -0x10')[0]).toMatchObject({ value: -16 });
    expect(compile('d < 18446744073709551617')[0]).toMatchObject({ value: 2 ** 64 });
    expect(compile('d < -inf')[0]).toMatchObject({ value: -Infinity });
    expect(compile('d != nan')[0]).toMatchObject({ cmp: 'ne' });
    expect(Number.isNaN((compile('d != nan')[0] as { value: number }).value)).toBe(true);
    expect(compile('d < 2.5', BE)[0]).toMatchObject({ bigEndian: true });
  });

  it('IEEE semantics: NaN, infinities, signed zeros, f32 rounding', () => {
    expect(run('d == nan', { d: NaN })).toBe(false);
    expect(run('d != nan', { d: NaN })).toBe(true);
    expect(run('d != 1', { d: NaN })).toBe(true);
    expect(run('d < 1', { d: NaN })).toBe(false);
    expect(run('d >= 1', { d: NaN })).toBe(false);
    expect(run('!(d < 1)', { d: NaN })).toBe(true);
    expect(run('d == inf', { d: Infinity })).toBe(true);
    expect(run('d > 1e308', { d: Infinity })).toBe(true);
    expect(run('d < -1e308', { d: -Infinity })).toBe(true);
    expect(run('d == 0', { d: -0 })).toBe(true);
    expect(run('d == -0', { d: 0 })).toBe(true);
    expect(run('d < 0', { d: -0 })).toBe(false);
    expect(run('d == 0.1', { d: 0.1 })).toBe(true);
    expect(run('c == 0.1', { c: 0.1 })).toBe(false); // f32(0.1) != 0.1
    expect(run('c > 0.1', { c: 0.1 })).toBe(true); // f32(0.1) = 0.100000001490116…
    expect(run('c == 0.5', { c: 0.5 })).toBe(true);
    expect(run('c == 0.100000001490116119384765625', { c: 0.1 })).toBe(true);
    expect(run('d < 2.5', { d: 2.4999999999999996 })).toBe(true);
    expect(run('d <= 5e-324', { d: 5e-324 })).toBe(true);
    expect(run('d > 0', { d: 5e-324 })).toBe(true);
  });

  it('big-endian layouts read big-endian', () => {
    const v = { a: 7, b: -5n, c: 1.5, d: -2.25, e: 2n ** 64n - 3n, h: -300, k: 60000, m: -70000, n: 4000000000 };
    for (const src of [
      'a == 7',
      'b == -5',
      'c == 1.5',
      'd == -2.25',
      'e == 18446744073709551613',
      'h == -300',
      'k == 60000',
      'm == -70000',
      'n == 4000000000',
    ]) {
      expect(run(src, v, BE)).toBe(true);
      expect(run(src, v, LE)).toBe(true);
    }
    // the same bytes read with the other endianness do not match
    const dv = writeRecord(BE, v);
    expect(programToTest(compile('h == -300', LE))(dv, 0)).toBe(false);
  });

  it('evaluates at any record base offset', () => {
    const rec = writeRecord(LE, { a: 9 });
    const buf = new Uint8Array(LE.recordSize * 3);
    buf.set(new Uint8Array(rec.buffer), LE.recordSize * 2);
    const test = programToTest(compile('a == 9'));
    const dv = new DataView(buf.buffer);
    expect(test(dv, 0)).toBe(false);
    expect(test(dv, LE.recordSize * 2)).toBe(true);
  });
});

describe('compilePredicate: structure and errors', () => {
  it('emits a postfix program in source order', () => {
    const prog = compile('a < 1 || b > 2 && !(d == 3)');
    expect(prog.map((i) => (i.op === 'cmp' ? `${i.type}:${i.cmp}` : i.op))).toEqual([
      'u8:le',
      'i64:ge',
      'f64:eq',
      'not',
      'and',
      'or',
    ]);
    expect(compile('true && a > 300')).toEqual([
      { op: 'const', value: true },
      { op: 'const', value: false },
      { op: 'and' },
    ]);
  });

  it('an unknown field is an error listing the numeric fields', () => {
    const err = compileError('zz < 3');
    expect(err.message).toContain('"zz"');
    expect(err.message).toContain('--where');
    expect(err.message).toContain('a, b, c, d, e');
    expect(err.message).not.toMatch(/\bid\b/);
    compileError('a < 1 && zz > 2');
    compileError('Price > 1'); // names are case-sensitive
  });

  it('a bytes field is an error', () => {
    const err = compileError('id < 3');
    expect(err.message).toContain('"id"');
    expect(err.message).toContain('bytes<4>');
    expect(err.message).toContain('--where');
  });

  it('programToTest rejects malformed programs', () => {
    expect(() => programToTest([])).toThrow();
    expect(() =>
      programToTest([
        { op: 'const', value: true },
        { op: 'const', value: true },
      ]),
    ).toThrow();
  });
});

// ---- property: random records × random predicate text vs a reference evaluator ----

/** The reference meaning of a literal: an exact rational, or a special. */
type Lit = { text: string; kind: 'rat'; p: bigint; q: bigint } | { text: string; kind: 'inf' | '-inf' | 'nan' };

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b) [a, b] = [b, a % b];
  return a;
}
function rat(text: string, p: bigint, q: bigint): Lit {
  const g = gcd(p, q) || 1n;
  return { text, kind: 'rat', p: p / g, q: q / g };
}

const SIGN = fc.constantFrom('', '', '-', '+');
const BOUNDARY = [
  0n,
  1n,
  2n,
  127n,
  128n,
  255n,
  256n,
  32767n,
  32768n,
  65535n,
  65536n,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 63n + 1n,
  2n ** 64n - 1n,
  2n ** 64n,
  2n ** 64n + 1n,
];

function signed(sign: string, p: bigint, q: bigint, body: string): Lit {
  return rat(sign + body, sign === '-' ? -p : p, q);
}

/** Literals whose value a double represents well enough that rounding cannot change an integer comparison. */
const exactLit: fc.Arbitrary<Lit> = fc.oneof(
  fc.tuple(SIGN, fc.integer({ min: 0, max: 300 })).map(([s, n]) => signed(s, BigInt(n), 1n, String(n))),
  fc.tuple(SIGN, fc.constantFrom(...BOUNDARY)).map(([s, n]) => signed(s, n, 1n, n.toString())),
  fc.tuple(SIGN, fc.bigInt({ min: 0n, max: 1n << 70n })).map(([s, n]) => signed(s, n, 1n, n.toString())),
  // decimals: integer part below 2^30, at most 6 fraction digits
  fc
    .tuple(SIGN, fc.integer({ min: 0, max: 2 ** 30 }), fc.integer({ min: 1, max: 6 }), fc.nat())
    .map(([s, ip, digits, f]) => {
      const frac = String(f % 10 ** digits).padStart(digits, '0');
      return signed(s, BigInt(ip) * 10n ** BigInt(digits) + BigInt(frac), 10n ** BigInt(digits), `${ip}.${frac}`);
    }),
  fc
    .tuple(SIGN, fc.integer({ min: 0, max: 999 }))
    .map(([s, n]) => signed(s, BigInt(n), 10n, `.${n}`.replace(/^\.(\d)$/, '.$1').padEnd(2, '0')))
    .map((l) => (l.kind === 'rat' ? reparse(l.text) : l)),
  fc.tuple(SIGN, fc.integer({ min: 0, max: 999 })).map(([s, n]) => signed(s, BigInt(n), 1n, `${n}.`)),
  // exponent forms m·10^e, m < 10^6, |e| ≤ 3
  fc
    .tuple(
      SIGN,
      fc.integer({ min: 0, max: 999_999 }),
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom('e', 'E'),
      fc.boolean(),
    )
    .map(([s, m, e, E, plus]) =>
      e >= 0
        ? signed(s, BigInt(m) * 10n ** BigInt(e), 1n, `${m}${E}${plus ? '+' : ''}${e}`)
        : signed(s, BigInt(m), 10n ** BigInt(-e), `${m}${E}${e}`),
    ),
  fc
    .tuple(
      SIGN,
      fc.oneof(fc.constantFrom(...BOUNDARY), fc.bigInt({ min: 0n, max: 1n << 66n })),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([s, n, X, upper]) => {
      const hex = n.toString(16);
      return signed(s, n, 1n, `0${X ? 'X' : 'x'}${upper ? hex.toUpperCase() : hex}`);
    }),
  fc
    .tuple(fc.constantFrom('', '+', '-'), fc.constantFrom('inf', 'INF', 'Infinity', 'infinity'))
    .map(([s, w]): Lit => ({ text: s + w, kind: s === '-' ? '-inf' : 'inf' })),
  fc
    .tuple(fc.constantFrom('', '-'), fc.constantFrom('nan', 'NaN', 'NAN'))
    .map(([s, w]): Lit => ({ text: s + w, kind: 'nan' })),
);

/** Parse a plain decimal literal text into an exact rational (used for the `.5` forms). */
function reparse(text: string): Lit {
  const m = /^([+-]?)(\d*)\.?(\d*)$/.exec(text)!;
  const digits = (m[2] || '0') + m[3];
  return signed(m[1]!, BigInt(digits), 10n ** BigInt(m[3]!.length), text.replace(/^[+-]/, ''));
}

/** Any decimal text at all, including ones a double cannot hold exactly. */
const anyDecimalLit: fc.Arbitrary<Lit> = fc
  .tuple(
    SIGN,
    fc.stringMatching(/^[1-9]\d{0,24}$/),
    fc.integer({ min: 0, max: 25 }),
    fc.integer({ min: -420, max: 30 }),
  )
  .map(([s, digits, point, exp]) => {
    const p = Math.min(point, digits.length);
    const body = `${digits.slice(0, digits.length - p) || '0'}.${digits.slice(digits.length - p) || '0'}e${exp}`;
    // value = digits · 10^(exp - p)
    const e = exp - p;
    return e >= 0
      ? signed(s, BigInt(digits) * 10n ** BigInt(e), 1n, body)
      : signed(s, BigInt(digits), 10n ** BigInt(-e), body);
  });

/** The double Number(literal) would give (what float fields compare with). */
function litDouble(l: Lit): number {
  if (l.kind === 'inf') return Infinity;
  if (l.kind === '-inf') return -Infinity;
  if (l.kind === 'nan') return NaN;
  const t = l.text.replace(/^\+/, '');
  const hex = /^(-?)0[xX]([0-9a-fA-F]+)$/.exec(t);
  if (hex) return (hex[1] ? -1 : 1) * Number(BigInt(`0x${hex[2]}`));
  return Number(t);
}

type Cmp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';
type Ast =
  | { kind: 'cmp'; field: string; type: FieldType; cmp: Cmp; lit: Lit; litLeft: boolean; eqTok: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'not'; arg: Ast }
  | { kind: 'and' | 'or'; left: Ast; right: Ast };

const TOK: Record<Cmp, string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' };
const FLIP: Record<Cmp, Cmp> = { lt: 'gt', le: 'ge', gt: 'lt', ge: 'le', eq: 'eq', ne: 'ne' };

function refCmp(c: Cmp, sign: number): boolean {
  switch (c) {
    case 'lt':
      return sign < 0;
    case 'le':
      return sign <= 0;
    case 'gt':
      return sign > 0;
    case 'ge':
      return sign >= 0;
    case 'eq':
      return sign === 0;
    case 'ne':
      return sign !== 0;
  }
}

function readField(dv: DataView, layout: Layout, name: string): number | bigint {
  const f = layout.fields.find((x) => x.name === name)!;
  const le = !layout.bigEndian;
  switch (f.type) {
    case 'u8':
      return BigInt(dv.getUint8(f.offset));
    case 'i8':
      return BigInt(dv.getInt8(f.offset));
    case 'u16':
      return BigInt(dv.getUint16(f.offset, le));
    case 'i16':
      return BigInt(dv.getInt16(f.offset, le));
    case 'u32':
      return BigInt(dv.getUint32(f.offset, le));
    case 'i32':
      return BigInt(dv.getInt32(f.offset, le));
    case 'u64':
      return dv.getBigUint64(f.offset, le);
    case 'i64':
      return dv.getBigInt64(f.offset, le);
    case 'f32':
      return dv.getFloat32(f.offset, le);
    case 'f64':
      return dv.getFloat64(f.offset, le);
    default:
      throw new Error('not numeric');
  }
}

/** The reference: integers compared exactly with the literal's rational value; floats with IEEE doubles. */
function refEval(e: Ast, dv: DataView, layout: Layout): boolean {
  switch (e.kind) {
    case 'bool':
      return e.value;
    case 'not':
      return !refEval(e.arg, dv, layout);
    case 'and':
      return refEval(e.left, dv, layout) && refEval(e.right, dv, layout);
    case 'or':
      return refEval(e.left, dv, layout) || refEval(e.right, dv, layout);
    case 'cmp': {
      const x = readField(dv, layout, e.field);
      if (typeof x === 'number') {
        const L = litDouble(e.lit);
        switch (e.cmp) {
          case 'lt':
            return x < L;
          case 'le':
            return x <= L;
          case 'gt':
            return x > L;
          case 'ge':
            return x >= L;
          case 'eq':
            return x === L;
          case 'ne':
            return x !== L;
        }
      }
      const l = e.lit;
      if (l.kind !== 'rat') return l.kind === 'nan' ? e.cmp === 'ne' : refCmp(e.cmp, l.kind === 'inf' ? -1 : 1);
      const d = x * l.q - l.p; // q > 0
      return refCmp(e.cmp, d < 0n ? -1 : d > 0n ? 1 : 0);
    }
  }
}

interface RenderOpts {
  words: boolean;
  spaces: boolean;
}

/** Precedence-aware printing: or 1, and 2, not 3, atoms 4; parentheses only where needed (plus random extra ones). */
function render(e: Ast, o: RenderOpts, rnd: () => number): string {
  const sp = o.spaces ? ' ' : '';
  const word = (w: string, sym: string) => (o.words ? (rnd() < 0.5 ? w : w.toUpperCase()) : sym);
  const prec = (x: Ast) => (x.kind === 'or' ? 1 : x.kind === 'and' ? 2 : x.kind === 'not' ? 3 : 4);
  const wrap = (x: Ast, min: number) => {
    const s = render(x, o, rnd);
    return prec(x) < min || rnd() < 0.1 ? `(${s})` : s;
  };
  switch (e.kind) {
    case 'bool':
      return rnd() < 0.5 ? String(e.value) : String(e.value).toUpperCase();
    case 'not':
      return o.words ? `${word('not', '!')} ${wrap(e.arg, 3)}` : `!${sp}${wrap(e.arg, 3)}`;
    case 'and':
      return `${wrap(e.left, 2)} ${word('and', '&&')} ${wrap(e.right, 3)}`;
    case 'or':
      return `${wrap(e.left, 1)} ${word('or', '||')} ${wrap(e.right, 2)}`;
    case 'cmp': {
      const tok = e.cmp === 'eq' ? e.eqTok : TOK[e.cmp];
      if (!e.litLeft) return `${e.field}${sp}${tok}${sp}${e.lit.text}`;
      const ftok = e.cmp === 'eq' ? e.eqTok : TOK[FLIP[e.cmp]];
      return `${e.lit.text}${sp}${ftok}${sp}${e.field}`;
    }
  }
}

function astArb(lit: fc.Arbitrary<Lit>, fields = NUMERIC): fc.Arbitrary<Ast> {
  const leaf: fc.Arbitrary<Ast> = fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .record({
          kind: fc.constant('cmp' as const),
          f: fc.constantFrom(...fields),
          cmp: fc.constantFrom<Cmp>('lt', 'le', 'gt', 'ge', 'eq', 'ne'),
          lit,
          litLeft: fc.boolean(),
          eqTok: fc.constantFrom('==', '='),
        })
        .map(({ f, ...r }): Ast => ({ ...r, field: f.name, type: f.type })),
    },
    { weight: 1, arbitrary: fc.boolean().map((value): Ast => ({ kind: 'bool', value })) },
  );
  const { tree } = fc.letrec<{ tree: Ast }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ kind: fc.constant('not' as const), arg: tie('tree') }) as fc.Arbitrary<Ast>,
      fc.record({
        kind: fc.constantFrom('and' as const, 'or' as const),
        left: tie('tree'),
        right: tie('tree'),
      }) as fc.Arbitrary<Ast>,
    ),
  }));
  return tree;
}

function intValue(t: IntType): fc.Arbitrary<bigint> {
  const [min, max] = RANGE[t];
  const near = [
    min,
    min + 1n,
    max,
    max - 1n,
    0n,
    1n,
    2n,
    3n,
    127n,
    128n,
    255n,
    256n,
    2n ** 53n,
    2n ** 53n + 1n,
    2n ** 53n - 1n,
    -1n,
    -2n,
    -3n,
  ].filter((v) => v >= min && v <= max);
  return fc.oneof(
    fc.bigInt({ min, max }),
    fc.constantFrom(...near),
    fc
      .integer({ min: -300, max: 300 })
      .map(BigInt)
      .filter((v) => v >= min && v <= max),
  );
}
const floatValue = fc.oneof(
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1, -1, 2.5, -2.5, 0.1, 255, 256, 2 ** 53, 2 ** 64, 5e-324, 1e300),
  fc.integer({ min: -300, max: 300 }),
);

/** A record's values, a few of which also appear as literals so == hits are common. */
const recordValues: fc.Arbitrary<Values> = fc.record(
  Object.fromEntries(
    NUMERIC.map((f) => [f.name, f.type === 'f32' || f.type === 'f64' ? floatValue : intValue(f.type)]),
  ) as Record<string, fc.Arbitrary<number | bigint>>,
);

function checkProperty(lit: fc.Arbitrary<Lit>, words: fc.Arbitrary<boolean>, numRuns: number): void {
  fc.assert(
    fc.property(
      astArb(lit),
      fc.array(recordValues, { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      words,
      fc.boolean(),
      fc.integer(),
      (ast, recs, big, w, spaces, seed) => {
        let s = seed >>> 0;
        const rnd = () => {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          return s / 2 ** 32;
        };
        const layout = big ? BE : LE;
        const text = render(ast, { words: w, spaces }, rnd);
        const test = programToTest(compilePredicate(parsePredicate(text), layout));
        for (const v of recs) {
          const dv = writeRecord(layout, v);
          const want = refEval(ast, dv, layout);
          if (test(dv, 0) !== want) {
            throw new Error(
              `${JSON.stringify(text)} on ${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : Number.isNaN(x) ? 'NaN' : x))}: expected ${want}`,
            );
          }
        }
      },
    ),
    { numRuns },
  );
}

describe('compilePredicate + programToTest vs a reference evaluator (property)', () => {
  it('symbolic operators (&& || !), literals a double holds well enough', () => {
    checkProperty(exactLit, fc.constant(false), 600);
  });

  it('word operators (and or not) too', () => {
    checkProperty(exactLit, fc.constant(true), 300);
  });

  it('any decimal literal, compared exactly with integer fields', () => {
    checkProperty(fc.oneof(exactLit, anyDecimalLit), fc.constant(false), 300);
  });
});
