// Synthetic data: the splitmix64 mixer, genJs determinism (a record depends only on its index and
// the seed, never on how the work is split), the distributions, and --dist parsing errors.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Dist, genFields, genJs, parseDists, splitmix64 } from '../../src/gen/generate.js';
import { parseSchema } from '../../src/layout/schema.js';
import type { Layout } from '../../src/layout/types.js';
import { BigprocError } from '../../src/errors.js';

const GOLDEN = 0x9e3779b97f4a7c15n;
const M64 = (1n << 64n) - 1n;

const SCHEMA = 'a:u8,b:i64,c:f32,d:f64,e:u64,id:bytes<11>,g:i8,h:i16,k:u16,m:i32,n:u32,pad<3>';
const LE = parseSchema(SCHEMA);
const BE = parseSchema(`>${SCHEMA}`);

function gen(
  layout: Layout,
  dist: string | undefined,
  first: number,
  records: number,
  seed: bigint,
  buf?: Uint8Array,
): Uint8Array {
  const out = buf ?? new Uint8Array(records * layout.recordSize);
  genJs(out, first, records, layout.recordSize, genFields(layout, parseDists(dist, layout)), seed);
  return out;
}

function read(layout: Layout, buf: Uint8Array, name: string): (number | bigint)[] {
  const f = layout.fields.find((x) => x.name === name)!;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = !layout.bigEndian;
  const out: (number | bigint)[] = [];
  for (let p = f.offset; p < buf.length; p += layout.recordSize) {
    switch (f.type) {
      case 'u8':
        out.push(dv.getUint8(p));
        break;
      case 'i8':
        out.push(dv.getInt8(p));
        break;
      case 'u16':
        out.push(dv.getUint16(p, le));
        break;
      case 'i16':
        out.push(dv.getInt16(p, le));
        break;
      case 'u32':
        out.push(dv.getUint32(p, le));
        break;
      case 'i32':
        out.push(dv.getInt32(p, le));
        break;
      case 'u64':
        out.push(dv.getBigUint64(p, le));
        break;
      case 'i64':
        out.push(dv.getBigInt64(p, le));
        break;
      case 'f32':
        out.push(dv.getFloat32(p, le));
        break;
      case 'f64':
        out.push(dv.getFloat64(p, le));
        break;
      default:
        throw new Error('not numeric');
    }
  }
  return out;
}

function distError(text: string, layout: Layout = LE): BigprocError {
  try {
    parseDists(text, layout);
  } catch (e) {
    expect(e).toBeInstanceOf(BigprocError);
    const err = e as BigprocError;
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('--dist');
    return err;
  }
  throw new Error(`expected --dist ${JSON.stringify(text)} to be rejected`);
}

describe('splitmix64', () => {
  it('is the SplitMix64 output function: seed 0 gives the reference sequence', () => {
    // SplitMix64 with state 0: state += golden, then mix; the first outputs are well known
    expect(splitmix64(GOLDEN)).toBe(0xe220a8397b1dcdafn);
    expect(splitmix64((2n * GOLDEN) & M64)).toBe(0x6e789e6aa1b965f4n);
    expect(splitmix64((3n * GOLDEN) & M64)).toBe(0x06c45d188009454fn);
    expect(splitmix64((4n * GOLDEN) & M64)).toBe(0xf88bb8a8724c81ecn);
  });

  it('is a pure mix (no increment): 0 maps to 0', () => {
    expect(splitmix64(0n)).toBe(0n);
  });

  it('property: outputs are 64-bit and distinct inputs give distinct outputs', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: M64 }), fc.bigInt({ min: 0n, max: M64 }), (x, y) => {
        const a = splitmix64(x);
        expect(a >= 0n && a <= M64).toBe(true);
        if (x !== y) expect(splitmix64(y)).not.toBe(a);
        else expect(splitmix64(y)).toBe(a);
      }),
    );
  });
});

describe('genJs: keyed by seed, record number and field number', () => {
  it('pins the key formula (native/gen.cc must produce the same bits)', () => {
    const L = parseSchema('x:u64,y:f64,z:u64');
    // record 0, seed 0, field 0: key = C1; the default u64 distribution is the raw 64-bit draw
    const b0 = gen(L, undefined, 0, 1, 0n);
    expect(read(L, b0, 'x')).toEqual([0xf2fea5823ed3a667n]);
    // record 1, seed 7: field 2 (z) raw draw, field 0 (x) … and y = uniform [0,1) from 53 bits
    const b1 = gen(L, undefined, 1, 1, 7n);
    expect(read(L, b1, 'z')).toEqual([0xd5f88c340ece3fdfn]);
    const L2 = parseSchema('y:f64,x:u8');
    const b2 = gen(L2, 'x=uniform:10:20', 0, 6, 7n);
    expect(read(L2, b2, 'y')[1]).toBe(0.5146077683048811);
    expect(read(L2, b2, 'x')[5]).toBe(13);
  });

  it('property: one call equals the same records generated in pieces at their firstRecord', () => {
    const dist =
      'a=uniform:3:250,b=seq:-1000:7,c=normal:0:1,d=uniform:-5:5,m=normal:100:1000,n=const:123,h=uniform:-300:300';
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 80 })
          .chain((n) => fc.tuple(fc.constant(n), fc.array(fc.integer({ min: 0, max: n }), { maxLength: 6 }))),
        fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 40 })),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
        fc.boolean(),
        ([n, cuts], first, seed, big) => {
          const layout = big ? BE : LE;
          const whole = gen(layout, dist, first, n, seed);
          const pieces = new Uint8Array(whole.length).fill(0xa5); // dirty: padding must still come out zero
          const bounds = [0, ...[...cuts].sort((a, b) => a - b), n];
          for (let i = 0; i + 1 < bounds.length; i++) {
            const lo = bounds[i]!,
              hi = bounds[i + 1]!;
            gen(
              layout,
              dist,
              first + lo,
              hi - lo,
              seed,
              pieces.subarray(lo * layout.recordSize, hi * layout.recordSize),
            );
          }
          expect(pieces).toEqual(whole);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('padding bytes come out zero even in a dirty buffer', () => {
    const buf = new Uint8Array(10 * LE.recordSize).fill(0xff);
    gen(LE, undefined, 0, 10, 1n, buf);
    for (let r = 0; r < 10; r++) {
      const end = (r + 1) * LE.recordSize;
      expect(Array.from(buf.subarray(end - 3, end))).toEqual([0, 0, 0]);
    }
  });

  it('only the given records are written', () => {
    const buf = new Uint8Array(4 * LE.recordSize).fill(0xee);
    genJs(buf, 0, 2, LE.recordSize, genFields(LE, new Map()), 1n);
    expect(buf.subarray(2 * LE.recordSize).every((b) => b === 0xee)).toBe(true);
  });

  it('the same seed gives the same data; another seed or another record number does not', () => {
    const a = gen(LE, undefined, 0, 20, 42n);
    expect(gen(LE, undefined, 0, 20, 42n)).toEqual(a);
    expect(gen(LE, undefined, 0, 20, 43n)).not.toEqual(a);
    expect(gen(LE, undefined, 1, 20, 42n)).not.toEqual(a);
    // the seed is taken modulo 2^64
    expect(gen(LE, undefined, 0, 5, -1n)).toEqual(gen(LE, undefined, 0, 5, 2n ** 64n - 1n));
    // records differ from one another
    const rs = LE.recordSize;
    expect(a.subarray(0, rs)).not.toEqual(a.subarray(rs, 2 * rs));
  });

  it('fields are independent draws (the field number is part of the key)', () => {
    const L = parseSchema('x:u64,y:u64');
    const buf = gen(L, undefined, 0, 50, 9n);
    const xs = read(L, buf, 'x'),
      ys = read(L, buf, 'y');
    expect(xs.some((x, i) => x !== ys[i])).toBe(true);
  });

  it('big-endian layouts hold the same values as little-endian ones', () => {
    const dist = 'a=uniform:0:255,b=seq:5:-3,c=normal:1:2,e=const:18446744073709551615,k=uniform:7:9';
    const le = gen(LE, dist, 100, 30, 5n);
    const be = gen(BE, dist, 100, 30, 5n);
    for (const f of LE.fields.filter((x) => x.type !== 'bytes')) {
      expect(read(BE, be, f.name)).toEqual(read(LE, le, f.name));
    }
    expect(be).not.toEqual(le);
  });
});

describe('genJs: distributions', () => {
  const N = 4000;

  it('integer uniform stays within [lo, hi] and covers it', () => {
    const buf = gen(LE, 'a=uniform:10:20,g=uniform:-3:3,h=uniform:-32768:32767', 0, N, 3n);
    const a = read(LE, buf, 'a') as number[];
    expect(Math.min(...a)).toBe(10);
    expect(Math.max(...a)).toBe(20);
    expect(new Set(a).size).toBe(11);
    const g = read(LE, buf, 'g') as number[];
    expect(new Set(g)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
    const mean = a.reduce((s, x) => s + x, 0) / N;
    expect(Math.abs(mean - 15)).toBeLessThan(0.3);
  });

  it('default integer distributions span the type (u64 uses the raw 64-bit draw)', () => {
    const buf = gen(LE, undefined, 0, N, 11n);
    const e = read(LE, buf, 'e') as bigint[];
    expect(e.some((x) => x >= 2n ** 63n)).toBe(true);
    expect(e.some((x) => x < 2n ** 63n)).toBe(true);
    const b = read(LE, buf, 'b') as bigint[];
    expect(b.some((x) => x < 0n)).toBe(true);
    expect(b.some((x) => x > 0n)).toBe(true);
    const a = read(LE, buf, 'a') as number[];
    expect(new Set(a).size).toBe(256);
    const d = read(LE, buf, 'd') as number[];
    expect(d.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('i64 uniform over a span wider than 2^63', () => {
    const buf = gen(LE, 'b=uniform:-9223372036854775808:9223372036854775806', 0, 500, 1n);
    const b = read(LE, buf, 'b') as bigint[];
    expect(b.every((x) => x >= -(2n ** 63n) && x <= 2n ** 63n - 2n)).toBe(true);
    expect(b.some((x) => x < 0n) && b.some((x) => x > 0n)).toBe(true);
  });

  it('float uniform is in [lo, hi) with the right mean', () => {
    const buf = gen(LE, 'd=uniform:-5:5,c=uniform:100:101', 0, N, 3n);
    const d = read(LE, buf, 'd') as number[];
    expect(d.every((x) => x >= -5 && x < 5)).toBe(true);
    expect(Math.abs(d.reduce((s, x) => s + x, 0) / N)).toBeLessThan(0.2);
    const c = read(LE, buf, 'c') as number[];
    expect(c.every((x) => x >= 100 && x <= 101 && x === Math.fround(x))).toBe(true);
  });

  it('normal: mean and sd about right, bounded by ±2√3 sd (sum of four uniforms)', () => {
    const buf = gen(LE, 'd=normal:100:10', 0, N, 5n);
    const d = read(LE, buf, 'd') as number[];
    const mean = d.reduce((s, x) => s + x, 0) / N;
    const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / N);
    expect(Math.abs(mean - 100)).toBeLessThan(0.6);
    expect(Math.abs(sd - 10)).toBeLessThan(0.6);
    const bound = 10 * 2 * Math.sqrt(3) + 1e-9;
    expect(d.every((x) => Math.abs(x - 100) <= bound)).toBe(true);
  });

  it('normal on integer fields rounds and clamps to the type', () => {
    const buf = gen(LE, 'a=normal:250:20,g=normal:0:1000,m=normal:-7:0', 0, N, 5n);
    const a = read(LE, buf, 'a') as number[];
    expect(a.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)).toBe(true);
    expect(a.filter((x) => x === 255).length).toBeGreaterThan(N / 4);
    const g = read(LE, buf, 'g') as number[];
    expect(g.includes(-128) && g.includes(127)).toBe(true);
    expect(read(LE, buf, 'm').every((x) => x === -7)).toBe(true);
  });

  it('seq counts from the absolute record number', () => {
    const buf = gen(LE, 'm=seq:100:-3,d=seq:0.5:0.25,e=seq:0:1000', 1000, 5, 0n);
    expect(read(LE, buf, 'm')).toEqual([100 - 3000, 97 - 3000, 94 - 3000, 91 - 3000, 88 - 3000]);
    expect(read(LE, buf, 'd')).toEqual([250.5, 250.75, 251, 251.25, 251.5]);
    expect(read(LE, buf, 'e')).toEqual([1000000n, 1001000n, 1002000n, 1003000n, 1004000n]);
  });

  it('const, including 64-bit values beyond 2^53', () => {
    const buf = gen(
      LE,
      'b=const:9007199254740993,e=const:18446744073709551615,c=const:0.1,n=const:4294967295',
      0,
      3,
      0n,
    );
    expect(read(LE, buf, 'b')).toEqual([9007199254740993n, 9007199254740993n, 9007199254740993n]);
    expect(read(LE, buf, 'e')).toEqual(Array(3).fill(2n ** 64n - 1n));
    expect(read(LE, buf, 'c')).toEqual(Array(3).fill(Math.fround(0.1)));
    expect(read(LE, buf, 'n')).toEqual(Array(3).fill(4294967295));
  });

  it('bytes fields are filled from the generator (deterministic, varied)', () => {
    const buf = gen(LE, undefined, 0, 3, 8n);
    const f = LE.fields.find((x) => x.name === 'id')!;
    const bytesOf = (r: number) =>
      Array.from(buf.subarray(r * LE.recordSize + f.offset, r * LE.recordSize + f.offset + f.size));
    expect(bytesOf(0)).not.toEqual(bytesOf(1));
    expect(bytesOf(0).some((b) => b !== 0)).toBe(true);
    expect(Array.from(gen(LE, undefined, 0, 1, 8n).subarray(f.offset, f.offset + f.size))).toEqual(bytesOf(0));
  });
});

describe('parseDists and genFields', () => {
  it('parses every kind; integers exactly as BigInt, floats as numbers', () => {
    const m = parseDists(
      ' d=normal:100:10, a=uniform:1:100 ,b=seq:0:1000,e=const:18446744073709551615,c=uniform:-0.5:2.5,',
      LE,
    );
    expect(Object.fromEntries(m)).toEqual({
      d: { kind: 'normal', mean: 100, sd: 10 },
      a: { kind: 'uniform', lo: 1n, hi: 100n },
      b: { kind: 'seq', start: 0n, step: 1000n },
      e: { kind: 'const', value: 18446744073709551615n },
      c: { kind: 'uniform', lo: -0.5, hi: 2.5 },
    } satisfies Record<string, Dist>);
    expect(parseDists('m=normal:5:2', LE).get('m')).toEqual({ kind: 'normal', mean: 5, sd: 2 });
    expect(parseDists('a=uniform:7:7', LE).get('a')).toEqual({ kind: 'uniform', lo: 7n, hi: 7n });
  });

  it('nothing given: an empty map', () => {
    expect(parseDists(undefined, LE).size).toBe(0);
    expect(parseDists('', LE).size).toBe(0);
  });

  it('genFields: defaults are uniform over the type (ints) or [0,1) (floats); bytes get none', () => {
    const fs = genFields(LE, new Map());
    const by = (name: string) => fs[LE.fields.findIndex((f) => f.name === name)]!;
    expect(by('a').dist).toEqual({ kind: 'uniform', lo: 0n, hi: 255n });
    expect(by('b').dist).toEqual({ kind: 'uniform', lo: -(2n ** 63n), hi: 2n ** 63n - 1n });
    expect(by('d').dist).toEqual({ kind: 'uniform', lo: 0, hi: 1 });
    expect(by('id').dist).toBeUndefined();
    expect(by('id')).toMatchObject({ type: 'bytes', size: 11 });
    expect(genFields(BE, new Map()).every((f) => f.bigEndian)).toBe(true);
  });

  it.each([
    ['price'],
    ['d'],
    ['d=gauss:1:2'],
    ['d=normal'],
    ['d=normal:'],
    ['nope=const:1'],
    ['id=const:1'],
    ['a=uniform:1'],
    ['a=uniform:1:2:3'],
    ['a=const:1:2'],
    ['a=seq:1'],
    ['a=const:1.5'],
    ['a=uniform:0x1:5'],
    ['a=uniform:1e2:300'],
    ['a=uniform:5:1'],
    ['a=uniform:0:256'],
    ['a=uniform:-1:3'],
    ['g=uniform:-129:0'],
    ['e=uniform:0:18446744073709551616'],
    ['d=uniform:0:inf'],
    ['d=uniform:1:0'],
    ['d=normal:nan:1'],
    ['d=const:abc'],
    ['d=normal:1:Infinity'],
    ['1a=const:1'],
  ])('rejects %j (exit 2, naming --dist)', (text) => {
    distError(text);
  });

  it('error messages show the offending item', () => {
    expect(distError('a=uniform:0:256').message).toContain('"a=uniform:0:256"');
    expect(distError('a=uniform:0:256').message).toContain('0..255');
    expect(distError('nope=const:1').message).toContain('"nope"');
    expect(distError('d=gauss:1:2').message).toContain('"d=gauss:1:2"');
  });

  it('a constant outside the integer type is rejected like a uniform bound is', () => {
    // uniform checks its bounds against the type; a const that cannot be stored should not
    // silently wrap (u8 300 would be written as 44)
    distError('a=const:300');
    distError('g=const:-129');
    distError('e=const:-1');
  });
});
