// GLSL-side (gpu.js kernel text) pieces of the order-preserving keys of hist-keys.ts, shared by hist
// and the --where predicates: a value's key built from its raw 16-bit parts, a key compared with a
// constant key, and the test that a float's key is a NaN's. Comparisons only: no f32 arithmetic on values.
import { keyOf, type KeyedType } from './hist-keys.js';

/**
 * Statements that read a value's n raw parts (read(k) is the k-th part's expression) into the
 * variables `${name}0`…`${name}{n-1}` and turn them into its key (see hist-keys.ts transform).
 * signedZero: −0's key stays just below +0's (minmax orders them as stats does) instead of equal.
 */
export function keyStatements(
  type: KeyedType,
  n: number,
  name: string,
  read: (k: number) => string,
  signedZero = false,
): string {
  const ps = Array.from({ length: n }, (_, k) => `${name}${k}`);
  const reads = ps.map((p, k) => `let ${p} = ${read(k)};`).join('\n  ');
  const p0 = ps[0]!;
  if (type === 'f32' || type === 'f64') {
    const minusZero = [`${p0} == 32767`, ...ps.slice(1).map((p) => `${p} == 65535`)].join(' && ');
    const flip = `if (${p0} >= 32768) { ${ps.map((p) => `${p} = 65535 - ${p};`).join(' ')} } else { ${p0} = ${p0} + 32768; }`;
    if (signedZero) return `${reads}\n  ${flip}`;
    return `${reads}
  ${flip}
  if (${minusZero}) { ${p0} = 32768; ${ps
    .slice(1)
    .map((p) => `${p} = 0;`)
    .join(' ')} }`;
  }
  const top = type === 'i8' ? 128 : 32768;
  if (type.startsWith('i'))
    return `${reads}\n  if (${p0} >= ${top}) { ${p0} = ${p0} - ${top}; } else { ${p0} = ${p0} + ${top}; }`;
  return reads;
}

/** The key in `${name}0…` ≥ a constant key, lexicographically over the parts. */
export function geConstant(n: number, key: number[], name = 'p'): string {
  let expr = `${name}${n - 1} >= ${key[n - 1]}`;
  for (let k = n - 2; k >= 0; k--) expr = `(${name}${k} > ${key[k]} || (${name}${k} == ${key[k]} && ${expr}))`;
  return expr;
}

/** The key just past +Inf's (its last part is 0, so adding one carries nowhere). */
export function pastInf(type: KeyedType): number[] {
  const k = keyOf(Number.POSITIVE_INFINITY, type);
  k[k.length - 1] += 1;
  return k;
}

/** The key in `${name}0…` is a NaN's: at or above the key just past +Inf's, or below -Inf's. */
export function isNaNKey(type: KeyedType, n: number, name = 'p'): string {
  return `(${geConstant(n, pastInf(type), name)} || !(${geConstant(n, keyOf(Number.NEGATIVE_INFINITY, type), name)}))`;
}
