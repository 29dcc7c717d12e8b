// roundRatio must give the correctly rounded double (ties to even) of num/den · 2^scale, everywhere:
// normal, subnormal, overflow. Checked against (1) IEEE hardware arithmetic, which is correctly
// rounded for one +, ×, ÷ of doubles, and (2) an independent reference that binary-searches the
// ordered bit patterns of doubles with exact BigInt comparisons.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bitLength, exactJson, floatJson, ldexp, roundRatio } from '../../src/ops/lib/exact.js';

// ---- helpers (independent of src) ----

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);
const MASK52 = (1n << 52n) - 1n;
const INF_BITS = 0x7ff0000000000000n;

function bitsOf(x: number): bigint {
  F64[0] = x;
  return U64[0]!;
}
function fromBits(b: bigint): number {
  U64[0] = b;
  return F64[0]!;
}

/** Exact x · 2^1074 as a BigInt, for finite x. */
function scaled1074(x: number): bigint {
  const b = bitsOf(Math.abs(x));
  const e = Number(b >> 52n);
  const f = b & MASK52;
  const v = e === 0 ? f : (f | (1n << 52n)) << BigInt(e - 1);
  return x < 0 ? -v : v;
}

/** The value of non-negative bit pattern b as m · 2^e; INF_BITS reads as 2^1024 (the natural continuation). */
function parts(b: bigint): [bigint, number] {
  const e = Number(b >> 52n);
  const f = b & MASK52;
  return e === 0 ? [f, -1074] : [f | (1n << 52n), e - 1075];
}

/** sign of m·2^e − n/d·2^s (m, n ≥ 0, d > 0) */
function cmpExact(m: bigint, e: number, n: bigint, d: bigint, s: number): number {
  const lo = Math.min(e, s);
  const a = (m * d) << BigInt(e - lo);
  const c = n << BigInt(s - lo);
  return a < c ? -1 : a > c ? 1 : 0;
}

/** Reference: the double nearest num/den · 2^scale, ties to even; −0 for negative values that round to 0. */
function nearestDouble(num: bigint, den: bigint, scale: number): number {
  if (num === 0n) return 0;
  const neg = num < 0n;
  const n = neg ? -num : num;
  const le = (b: bigint) => {
    const [m, e] = parts(b);
    return cmpExact(m, e, n, den, scale) <= 0;
  };
  let r: number;
  if (le(INF_BITS)) {
    r = Infinity;
  } else {
    let lo = 0n; // value(lo) <= x
    let hi = INF_BITS; // value(hi) > x
    while (hi - lo > 1n) {
      const mid = (lo + hi) >> 1n;
      if (le(mid)) lo = mid;
      else hi = mid;
    }
    const [m1, e1] = parts(lo);
    if (cmpExact(m1, e1, n, den, scale) === 0) {
      r = fromBits(lo);
    } else {
      const [m2, e2] = parts(hi);
      const emin = Math.min(e1, e2);
      const sum = (m1 << BigInt(e1 - emin)) + (m2 << BigInt(e2 - emin));
      // compare (v(lo)+v(hi)) with 2x
      const c = cmpExact(sum, emin, 2n * n, den, scale);
      const pick = c > 0 ? lo : c < 0 ? hi : (lo & 1n) === 0n ? lo : hi;
      r = fromBits(pick);
    }
  }
  return neg ? -r : r;
}

function same(actual: number, want: number): void {
  if (!Object.is(actual, want)) {
    throw new Error(
      `expected ${Object.is(want, -0) ? '-0' : want} (bits ${bitsOf(want).toString(16)}) but got ${Object.is(actual, -0) ? '-0' : actual} (bits ${bitsOf(actual).toString(16)})`,
    );
  }
}

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
/** doubles biased toward the interesting places: subnormals, the normal boundary, the top of the range */
const interesting = fc.oneof(
  finite,
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e-300, max: 1e-300 }),
  fc.integer({ min: 0, max: 2 ** 31 }).map((k) => fromBits(BigInt(k))),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }).map((k) => fromBits(0x0010000000000000n + BigInt(k))),
  fc.integer({ min: 1, max: 2 ** 31 }).map((k) => -fromBits(0x7fefffffffffffffn - BigInt(k))),
  fc.integer({ min: 0, max: 2 ** 31 }).map((k) => fromBits(0x7fefffffffffffffn - BigInt(k))),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }),
);

// ---- the reference itself, sanity-checked against hardware on easy cases ----

describe('reference helpers', () => {
  it('scaled1074 and nearestDouble agree with known values', () => {
    expect(scaled1074(5e-324)).toBe(1n);
    expect(scaled1074(1)).toBe(1n << 1074n);
    expect(scaled1074(-0.5)).toBe(-(1n << 1073n));
    expect(nearestDouble(1n, 3n, 0)).toBe(1 / 3);
    expect(nearestDouble(1n, 10n, 0)).toBe(0.1);
    expect(nearestDouble(1n, 1n, 1024)).toBe(Infinity);
    expect(nearestDouble(-1n, 4n, -1074)).toBe(-0);
    expect(Object.is(nearestDouble(-1n, 4n, -1074), -0)).toBe(true);
  });
});

// ---- roundRatio ----

describe('roundRatio: exact doubles come back unchanged', () => {
  it('property: roundRatio(a · 2^1074, 1, -1074) === a', () => {
    fc.assert(
      fc.property(interesting, (a) => {
        same(roundRatio(scaled1074(a), 1n, -1074), a === 0 ? 0 : a);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: the same value with a common factor in num and den', () => {
    fc.assert(
      fc.property(
        interesting,
        fc.bigInt({ min: 1n, max: 1n << 80n }),
        fc.integer({ min: -60, max: 60 }),
        (a, k, sh) => {
          const A = scaled1074(a);
          // (A·k·2^sh) / k · 2^(-1074 - sh)
          const num = sh >= 0 ? (A * k) << BigInt(sh) : A * k;
          const den = sh >= 0 ? k : k << BigInt(-sh);
          const scale = sh >= 0 ? -1074 - sh : -1074 - sh;
          same(roundRatio(num, den, scale), a === 0 ? 0 : a);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('roundRatio vs IEEE hardware arithmetic (correctly rounded by definition)', () => {
  it('property: a + b', () => {
    fc.assert(
      fc.property(interesting, interesting, (a, b) => {
        const S = scaled1074(a) + scaled1074(b);
        same(roundRatio(S, 1n, -1074), S === 0n ? 0 : a + b);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: a · b (including underflow to ±0 and overflow to ±Infinity)', () => {
    fc.assert(
      fc.property(interesting, interesting, (a, b) => {
        const P = scaled1074(a) * scaled1074(b);
        same(roundRatio(P, 1n, -2148), P === 0n ? 0 : a * b);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: a / b', () => {
    fc.assert(
      fc.property(interesting, interesting, (a, b) => {
        fc.pre(b !== 0);
        let A = scaled1074(a);
        let B = scaled1074(b);
        if (B < 0n) {
          A = -A;
          B = -B;
        }
        same(roundRatio(A, B, 0), A === 0n ? 0 : a / b);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: (a · b) / c with one rounding, scaled into every range', () => {
    // a·b/c exact rational, compared with the reference (hardware would round twice)
    fc.assert(
      fc.property(interesting, interesting, interesting, fc.integer({ min: -2200, max: 2200 }), (a, b, c, sc) => {
        fc.pre(c !== 0);
        let num = scaled1074(a) * scaled1074(b);
        let den = scaled1074(c);
        if (den < 0n) {
          num = -num;
          den = -den;
        }
        same(roundRatio(num, den, sc), nearestDouble(num, den, sc));
      }),
      { numRuns: 500 },
    );
  });
});

describe('roundRatio vs the bit-search reference', () => {
  // A scale chosen so the result lands anywhere from below the subnormals to beyond overflow.
  const ratio = fc
    .record({
      num: fc.oneof(
        fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }),
        fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }),
      ),
      den: fc.oneof(fc.bigInt({ min: 1n, max: 1n << 200n }), fc.bigInt({ min: 1n, max: 1000n })),
      target: fc.oneof(
        fc.integer({ min: -1140, max: 1030 }),
        fc.integer({ min: -1080, max: -1015 }),
        fc.integer({ min: 1015, max: 1030 }),
      ),
    })
    .map(({ num, den, target }) => ({ num, den, scale: target - (bitLength(num) - bitLength(den)) }));

  it('property: random num/den · 2^scale', () => {
    fc.assert(
      fc.property(ratio, ({ num, den, scale }) => {
        same(roundRatio(num, den, scale), nearestDouble(num, den, scale));
      }),
      { numRuns: 1500 },
    );
  });

  it('property: sums of a few doubles and their means', () => {
    fc.assert(
      fc.property(fc.array(interesting, { minLength: 1, maxLength: 8 }), (xs) => {
        const S = xs.reduce((s, x) => s + scaled1074(x), 0n);
        const n = BigInt(xs.length);
        same(roundRatio(S, 1n, -1074), nearestDouble(S, 1n, -1074));
        same(roundRatio(S, n, -1074), nearestDouble(S, n, -1074));
      }),
      { numRuns: 1000 },
    );
  });

  it('property: exact ties and near-ties at every binade (normal and subnormal)', () => {
    // value = (2m+1)/2 ulp ± ε: ties must go to the even neighbour, near-ties to the nearer one
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: (1n << 53n) - 1n }),
        fc.integer({ min: -1140, max: 975 }),
        fc.constantFrom(-1n, 0n, 1n),
        (m, e, eps) => {
          const num = (2n * m + 1n) * 1024n + eps; // (m + 1/2 + eps/2048) · 2^e
          const den = 2048n;
          same(roundRatio(num, den, e), nearestDouble(num, den, e));
          same(roundRatio(-num, den, e), nearestDouble(-num, den, e));
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe('roundRatio: hand-picked cases', () => {
  it('ties to even in the normal range', () => {
    const two53 = 2n ** 53n;
    same(roundRatio(two53 + 1n, 1n, 0), 2 ** 53); // tie → even (down)
    same(roundRatio(two53 + 3n, 1n, 0), 2 ** 53 + 4); // tie → even (up)
    same(roundRatio((two53 + 1n) * 4n + 1n, 4n, 0), 2 ** 53 + 2); // just above the tie
    same(roundRatio((two53 + 1n) * 4n - 1n, 4n, 0), 2 ** 53); // just below
    same(roundRatio(-(two53 + 1n), 1n, 0), -(2 ** 53));
    same(roundRatio(5n, 2n, 0), 2.5);
    same(roundRatio(1n, 3n, 0), 1 / 3);
    same(roundRatio(2n, 3n, 0), 2 / 3);
    same(roundRatio(1n, 10n, 0), 0.1);
    same(roundRatio(-7n, 10n, 3), -5.6);
    same(roundRatio(1n, 1n, 1023), 2 ** 1023);
    same(roundRatio(3n, 1n, -1), 1.5);
  });

  it('subnormal results', () => {
    same(roundRatio(1n, 1n, -1074), 5e-324);
    same(roundRatio(1n, 2n, -1074), 0); // half the smallest subnormal: tie → even (0)
    same(roundRatio(-1n, 2n, -1074), -0);
    same(roundRatio(3n, 4n, -1074), 5e-324); // 0.75 ulp → 1 ulp
    same(roundRatio(1n, 4n, -1074), 0);
    same(roundRatio(3n, 2n, -1074), 1e-323); // 1.5 ulp → 2 ulp (even)
    same(roundRatio(5n, 2n, -1074), 1e-323); // 2.5 ulp → 2 ulp (even)
    same(roundRatio(1n, 1n, -1075), 0);
    same(roundRatio(3n, 1n, -1076), 5e-324);
    same(roundRatio((1n << 200n) + 1n, 1n << 201n, -1074), 5e-324); // just above half an ulp
    same(roundRatio(1n, 3n, -1073), 5e-324); // 2/3 ulp
    same(roundRatio(1n, 1n, -1100), 0);
    same(roundRatio(-1n, 1n, -5000), -0);
    same(roundRatio(2n ** 52n - 1n, 1n, -1074), fromBits(0x000fffffffffffffn)); // largest subnormal
    same(roundRatio(2n ** 53n - 1n, 2n, -1074), 2 ** -1022); // tie between largest subnormal (odd) and 2^-1022
    same(roundRatio(2n ** 53n - 3n, 2n, -1074), fromBits(0x000ffffffffffffen)); // tie → even, stays subnormal
    same(roundRatio(1n, 1n, -1022), 2 ** -1022);
    same(roundRatio(2n ** 60n + 1n, 2n ** 60n, -1022), 2 ** -1022);
    same(roundRatio(1n, 3n, -1020), (1 / 3) * 2 ** -1020); // still normal: scaling 1/3 is exact
    same(roundRatio(1n, 3n, -1040), fromBits(0x155555555n)); // subnormal 2^-1040/3 = 0x155555555 · 2^-1074 + 1/3 ulp → down
  });

  it('overflow to Infinity', () => {
    const max = Number.MAX_VALUE;
    same(roundRatio(2n ** 1024n, 1n, 0), Infinity);
    same(roundRatio(-(2n ** 1024n), 1n, 0), -Infinity);
    same(roundRatio(2n ** 1024n - 2n ** 970n, 1n, 0), Infinity); // MAX + half ulp: tie → even (Infinity)
    same(roundRatio(2n ** 1024n - 2n ** 970n - 1n, 1n, 0), max); // just below the tie
    same(roundRatio(2n ** 1024n - 2n ** 971n, 1n, 0), max);
    same(roundRatio(1n, 1n, 1024), Infinity);
    same(roundRatio(-1n, 1n, 5000), -Infinity);
    same(roundRatio(3n, 1n, 1023), Infinity);
    same(roundRatio(3n, 2n, 1023), 1.5 * 2 ** 1023);
    same(roundRatio(1n, 3n, 1026), Infinity); // 2^1026/3 ≈ 2^1024.4
    same(roundRatio(1n, 3n, 1025), (1 / 3) * 2 ** 1000 * 2 ** 25);
    same(roundRatio(2n ** 2000n, 2n ** 1000n, -1), 2 ** 999);
  });

  it('zero and invalid denominators', () => {
    same(roundRatio(0n, 7n, 100), 0);
    same(roundRatio(0n, 1n, -2000), 0);
    expect(() => roundRatio(1n, 0n, 0)).toThrow(RangeError);
    expect(() => roundRatio(1n, -3n, 0)).toThrow(RangeError);
  });
});

describe('bitLength and ldexp', () => {
  it('bitLength', () => {
    expect(bitLength(0n)).toBe(0);
    expect(bitLength(1n)).toBe(1);
    expect(bitLength(-1n)).toBe(1);
    expect(bitLength(255n)).toBe(8);
    expect(bitLength(256n)).toBe(9);
    expect(bitLength(-(2n ** 100n))).toBe(101);
  });

  it('ldexp is exact across the whole exponent range', () => {
    expect(ldexp(1, 1023)).toBe(2 ** 1023);
    expect(ldexp(1, 1024)).toBe(Infinity);
    expect(ldexp(2 ** 54, -1076)).toBe(2 ** -1022);
    expect(ldexp(1, -1074)).toBe(5e-324);
    expect(ldexp(2 ** 1000, -2074)).toBe(5e-324);
    expect(ldexp(2 ** -1000, 2000)).toBe(2 ** 1000);
    expect(ldexp(3, -1)).toBe(1.5);
    expect(ldexp(-5, 3)).toBe(-40);
  });
});

describe('exactJson and floatJson', () => {
  it('exactJson: numbers up to ±2^53, decimal strings beyond', () => {
    expect(exactJson(0n)).toBe(0);
    expect(exactJson(-42n)).toBe(-42);
    expect(exactJson(2n ** 53n)).toBe(9007199254740992);
    expect(exactJson(-(2n ** 53n))).toBe(-9007199254740992);
    expect(exactJson(2n ** 53n + 1n)).toBe('9007199254740993');
    expect(exactJson(-(2n ** 53n) - 1n)).toBe('-9007199254740993');
    expect(exactJson(2n ** 64n - 1n)).toBe('18446744073709551615');
    expect(exactJson(-(2n ** 63n))).toBe('-9223372036854775808');
  });

  it('property: exactJson never loses information', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), (v) => {
        const j = exactJson(v);
        expect(BigInt(j)).toBe(v);
        if (typeof j === 'number') expect(Number.isSafeInteger(j) || Math.abs(j) === 2 ** 53).toBe(true);
        else expect(v > 2n ** 53n || v < -(2n ** 53n)).toBe(true);
      }),
    );
  });

  it('floatJson', () => {
    expect(floatJson(null)).toBe(null);
    expect(floatJson(1.5)).toBe(1.5);
    expect(Object.is(floatJson(-0), -0)).toBe(true);
    expect(floatJson(5e-324)).toBe(5e-324);
    expect(floatJson(NaN)).toBe('NaN');
    expect(floatJson(Infinity)).toBe('Infinity');
    expect(floatJson(-Infinity)).toBe('-Infinity');
    expect(floatJson(Number.MAX_VALUE)).toBe(Number.MAX_VALUE);
  });
});
