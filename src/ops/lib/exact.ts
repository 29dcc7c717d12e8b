// Exact arithmetic for results that must not depend on the order of summation: BigInt partial sums
// turned into correctly rounded doubles only at the end, so any chunk size or worker count gives
// the same bits.

export function bitLength(n: bigint): number {
  if (n < 0n) n = -n;
  return n === 0n ? 0 : n.toString(2).length;
}

/** x · 2^e for any e, exact whenever the result is representable (steps keep intermediates normal). */
export function ldexp(x: number, e: number): number {
  while (e > 1000) { x *= 2 ** 1000; e -= 1000; }
  while (e < -1000) { x *= 2 ** -1000; e += 1000; }
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
