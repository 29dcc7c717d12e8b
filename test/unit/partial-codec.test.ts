// Partials leave the process as JSON and must come back identical: BigInts, typed arrays, Maps,
// Sets, -0, NaN, ±Infinity, undefined, and objects whose keys look like the codec's own tags.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePartial, encodePartial } from '../../src/cluster/partial-codec.js';

const roundTrip = (v: unknown) => decodePartial(encodePartial(v));

describe('partial codec', () => {
  it('keeps special numbers, bigints and containers', () => {
    const v = {
      a: -0,
      b: NaN,
      c: Infinity,
      d: -Infinity,
      e: 2n ** 200n,
      f: -5n,
      g: undefined,
      h: new Float64Array([1.5, -0, NaN]),
      i: new BigInt64Array([-(2n ** 63n)]),
      j: new Uint8Array([1, 2, 255]),
      k: new Map<unknown, unknown>([
        [1n, 'x'],
        ['y', new Set([1, 2])],
      ]),
      l: [1, [2, { m: 'n' }]],
      $tricky: { $big: 'not a bigint' },
    };
    const back = roundTrip(v) as typeof v;
    expect(Object.is(back.a, -0)).toBe(true);
    expect(back.b).toBeNaN();
    expect(back).toEqual(v);
    expect(back.h).toBeInstanceOf(Float64Array);
    expect(Object.is(back.h[1], -0)).toBe(true);
    expect(back.$tricky).toEqual({ $big: 'not a bigint' });
  });

  it('typed arrays that are views into a larger buffer encode only their own bytes', () => {
    const buf = new Uint32Array([1, 2, 3, 4]);
    const view = buf.subarray(1, 3);
    expect(roundTrip(view)).toEqual(new Uint32Array([2, 3]));
  });

  it('any JSON-ish value with bigints and doubles survives', () => {
    const arb = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.double(),
        fc.bigInt(),
        fc.string(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(arb, (v) => {
        expect(roundTrip(v)).toEqual(v);
      }),
    );
  });

  it('refuses what it cannot restore', () => {
    expect(() => encodePartial({ f: () => 1 })).toThrow(/cannot encode/);
    expect(() => encodePartial(new DataView(new ArrayBuffer(2)))).toThrow(/cannot encode/);
  });

  it('a circular partial is refused with a message, not a stack overflow; shared (acyclic) parts are fine', () => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    expect(() => encodePartial([o])).toThrow(/circular partial result/);
    const shared = { n: 1 };
    expect(roundTrip({ x: shared, y: [shared] })).toEqual({ x: { n: 1 }, y: [{ n: 1 }] });
  });

  it('Dates survive, invalid ones too', () => {
    const back = roundTrip({ d: new Date(1e12), bad: new Date(NaN) }) as { d: Date; bad: Date };
    expect(back.d).toBeInstanceOf(Date);
    expect(back.d.getTime()).toBe(1e12);
    expect(back.bad.getTime()).toBeNaN();
  });
});
