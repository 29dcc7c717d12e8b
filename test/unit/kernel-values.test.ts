// Finding what in a kernel's state cannot be structured-cloned, and printing a kernel's result as JSON
// with the tool's encoding (see src/ops/kernel-values.ts).
import { describe, expect, it } from 'vitest';
import { findUnclonable, toResultJson, ResultError } from '../../src/ops/lib/kernel-values.js';

describe('findUnclonable', () => {
  it('agrees with structuredClone on what fails, and says where', () => {
    const cases: [unknown, string, string][] = [
      [{ a: { b: () => 1 } }, '.a.b', 'a function'],
      [[1, [2, Symbol('s')]], '[1][1]', 'a Symbol'],
      [new Map([['k', Promise.resolve()]]), '.get("k")', 'a Promise'],
      [new Map([[new WeakSet(), 1]]), '.keys()[0]', 'a WeakSet'],
      [new Set([1, new Proxy({}, {})]), '.values()[1]', 'a Proxy'],
      [{ 'odd key': new Map().keys() }, '["odd key"]', 'an iterator (Map Iterator)'],
      [() => 1, '', 'a function'],
    ];
    for (const [v, path, kind] of cases) {
      expect(() => structuredClone(v)).toThrow();
      expect(findUnclonable(v)).toEqual({ path, kind });
    }
  });

  it('passes what clones, cycles and deep lists included', () => {
    const circ: Record<string, unknown> = {
      x: new Float64Array(3),
      d: new Date(),
      r: /x/,
      m: new Map([[1, new Set([2n])]]),
    };
    circ.self = circ;
    let deep: unknown = null;
    for (let i = 0; i < 100_000; i++) deep = { next: deep };
    for (const v of [
      circ,
      deep,
      [1, 'a', null, undefined, 2n],
      new (class A {
        y = 1;
      })(),
    ]) {
      expect(findUnclonable(v)).toBeNull();
    }
  });
});

describe('toResultJson', () => {
  it('encodes what JSON lacks as the tool does', () => {
    expect(
      toResultJson({
        a: NaN,
        b: [Infinity, -Infinity],
        c: 5n,
        d: new Map([[1, 'x']]),
        e: new Set(['y']),
        f: new Date(0),
        g: new Int16Array([-1]),
      }),
    ).toEqual({
      a: 'NaN',
      b: ['Infinity', '-Infinity'],
      c: '5',
      d: [[1, 'x']],
      e: ['y'],
      f: '1970-01-01T00:00:00.000Z',
      g: [-1],
    });
  });

  it('keeps a key named __proto__ as a key', () => {
    const v = JSON.parse('{"__proto__": 1, "b": 2}');
    expect(JSON.stringify(toResultJson(v))).toBe('{"__proto__":1,"b":2}');
  });

  it('names a function, a Symbol or a cycle with its path', () => {
    expect(() => toResultJson({ a: [0, () => 1] })).toThrow(/holding a function at \.a\[1\]/);
    expect(() => toResultJson(new Map([['k', Symbol('s')]]))).toThrow(/holding a Symbol at \.get\("k"\)/);
    const o: Record<string, unknown> = { a: {} };
    (o.a as Record<string, unknown>).back = o;
    expect(() => toResultJson(o)).toThrow(ResultError);
    expect(() => toResultJson(o)).toThrow(/\.a\.back refers back to the result itself/);
  });
});
