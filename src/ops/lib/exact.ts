// Exact arithmetic for results that must not depend on the order of summation: BigInt partial sums
// turned into correctly rounded doubles only at the end, so any chunk size or worker count gives
// the same bits.

export function bitLength(n: bigint): number {
  if (n < 0n) n = -n;
  return n === 0n ? 0 : n.toString(2).length;
}

/** x · 2^e for any e, exact whenever the result is representable (steps keep intermediates normal). */
export function ldexp(x: number, e: number): number {
  while (e > 1000) {
    x *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    x *= 2 ** -1000;
    e += 1000;
  }
  return x * 2 ** e;
}

/** The double nearest to (num / den) · 2^scale, ties to even; den > 0. */
export function roundRatio(num: bigint, den: bigint, scale: number): number {
  if (den <= 0n) throw new RangeError('roundRatio: den must be positive');
  if (num === 0n) return 0;
  const neg = num < 0n;
  const n = neg ? -num : num;
  // Scale the numerator so the quotient has at least 55 significant bits (53 + guard + round).
  const k = Math.max(0, 56 + bitLength(den) - bitLength(n));
  const shifted = n << BigInt(k);
  let q = shifted / den;
  let sticky = shifted % den !== 0n;
  const drop = bitLength(q) - 55;
  if (drop > 0) {
    sticky ||= (q & ((1n << BigInt(drop)) - 1n)) !== 0n;
    q >>= BigInt(drop);
  }
  // value = q · 2^exp2 (plus a sticky remainder), q in [2^54, 2^55)
  const exp2 = drop - k + scale;
  let result: number;
  if (54 + exp2 >= -1022) {
    // Normal range: Number() rounds the 55-bit q to 53 bits; the sticky bit rides in bit 0.
    result = ldexp(Number(sticky ? q | 1n : q), exp2);
  } else {
    // Subnormal: round at the 2^-1074 bit.
    const d = -1074 - exp2;
    let q2 = d >= 64 ? 0n : q >> BigInt(d);
    const rem = q - (q2 << BigInt(Math.min(d, 64)));
    const half = d >= 64 ? 0n : 1n << BigInt(d - 1);
    if (d < 64) {
      if (rem > half || (rem === half && (sticky || (q2 & 1n) === 1n))) q2 += 1n;
    }
    result = Number(q2) * 2 ** -1074;
  }
  return neg ? -result : result;
}

/**
 * sqrt((num / den) · 2^scale): the ratio is first rounded to a double at a scale shifted by an even
 * power of two that keeps it in range, so a variance beyond the double range still gives a finite std.
 */
export function sqrtRatio(num: bigint, den: bigint, scale: number): number {
  if (num <= 0n) return 0;
  let t = -(bitLength(num) - bitLength(den) + scale);
  if (t % 2 !== 0) t -= 1;
  return ldexp(Math.sqrt(roundRatio(num, den, scale + t)), -t / 2);
}

/** A bigint as a JSON value: a number when exactly representable (|v| ≤ 2^53), else a decimal string. */
export function exactJson(v: bigint): number | string {
  const lim = 9007199254740992n;
  return v <= lim && v >= -lim ? Number(v) : v.toString();
}

/** A double as a JSON value: finite numbers as they are, NaN and infinities as strings. */
export function floatJson(v: number | null): number | string | null {
  if (v === null) return null;
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

// ---- pieces of exact sums, shared by stats and groupby ----

/** A finite double split as (−1)^negative · m · 2^(ee − 1074), m < 2^53 an integer (see splitDouble). */
export interface DoubleParts {
  negative: boolean;
  m: number;
  ee: number;
}

const scratch = new DataView(new ArrayBuffer(8));

/** Split finite x into out (no allocation: the oracles call this per value): ee = max(e, 1) − 1. */
export function splitDouble(x: number, out: DoubleParts): void {
  scratch.setFloat64(0, x);
  const w = scratch.getUint32(0);
  const e = (w >>> 20) & 0x7ff;
  let m = (w & 0xfffff) * 4294967296 + scratch.getUint32(4);
  if (e !== 0) m += 2 ** 52;
  out.negative = w >>> 31 !== 0;
  out.m = m;
  out.ee = e === 0 ? 0 : e - 1;
}

/** The smaller of two doubles with −0 below +0; NaN stands for "no value" (the other wins). */
export function minFloat(a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return b < a || (b === 0 && a === 0 && Object.is(b, -0)) ? b : a;
}

/** The larger of two doubles with +0 above −0; NaN stands for "no value" (the other wins). */
export function maxFloat(a: number, b: number): number {
  if (Number.isNaN(a)) return b;
  if (Number.isNaN(b)) return a;
  return b > a || (b === 0 && a === 0 && Object.is(a, -0)) ? b : a;
}

/** Trailing zero bits of v (0 for 0). */
function ctz(v: bigint): number {
  if (v === 0n) return 0;
  if (v < 0n) v = -v;
  let n = 0;
  while ((v & 0xffffffffn) === 0n) {
    v >>= 32n;
    n += 32;
  }
  const low = Number(v & 0xffffffffn);
  return n + 31 - Math.clz32(low & -low);
}

/** v as (m, e) with v = m·2^e, m odd (or 0 and e = 0). */
export function normalize(v: bigint): [bigint, number] {
  const e = ctz(v);
  return [v >> BigInt(e), e];
}

/** (m1·2^e1) + (m2·2^e2) as (m, e) with the smaller exponent; zero as (0, 0). */
export function addScaled(m1: bigint, e1: number, m2: bigint, e2: number): [bigint, number] {
  if (m1 === 0n) return [m2, e2];
  if (m2 === 0n) return [m1, e1];
  const e = Math.min(e1, e2);
  const m = (m1 << BigInt(e1 - e)) + (m2 << BigInt(e2 - e));
  return m === 0n ? [0n, 0] : [m, e];
}

const W64 = (1n << 64n) - 1n;

/** Store a wide integer (an i128 sum, a 192-bit Σx²…) as `words` 64-bit words at i·words, low word first. */
export function setWords(col: BigInt64Array, i: number, words: number, v: bigint): void {
  for (let w = 0; w < words; w++) col[i * words + w] = BigInt.asIntN(64, (v >> BigInt(64 * w)) & W64);
}

/** The wide integer of `words` 64-bit words at i·words (low word first); the top word signed when signed. */
export function getWords(col: BigInt64Array, i: number, words: number, signed: boolean): bigint {
  let v = 0n;
  for (let w = words - 1; w >= 0; w--) {
    const x = col[i * words + w]!;
    v = (v << 64n) | (w === words - 1 && signed ? x : BigInt.asUintN(64, x));
  }
  return v;
}
