// The exact per-field accumulators of stats (also what native/stats.cc returns and what groupby keeps
// per group): merged exactly, rounded once by finalizeInt / finalizeFloat.
import type { NumericType } from '../../layout/types.js';
import { isFloat } from '../../layout/types.js';
import { exactJson, floatJson, maxFloat, minFloat, roundRatio, sqrtRatio } from './exact.js';

/** An integer field's exact partial (also what native/stats.cc returns): Σx, Σx² as bigints. */
export interface IntAcc {
  count: number;
  sum: bigint;
  sumsq: bigint;
  min: bigint | null;
  max: bigint | null;
}

/**
 * A float field's exact partial (also what native/stats.cc returns; f32 values are widened exactly to
 * double): Σx = sum·2^-1074 and Σx² = sumsq·2^-2148 over the finite values; count excludes NaN;
 * min is −0 when the smallest is zero and a −0 was seen, max +0 when a +0 was; null when count is 0.
 */
export interface FloatAcc {
  count: number;
  nan: number;
  posinf: number;
  neginf: number;
  /** exact Σ of finite values, times 2^1074 */
  sum: bigint;
  /** exact Σ of squares of finite values, times 2^2148 */
  sumsq: bigint;
  min: number | null;
  max: number | null;
}

export type FieldAcc = IntAcc | FloatAcc;

export interface FieldStats {
  type: NumericType;
  count: number;
  sum: number | string;
  min: number | string | null;
  max: number | string | null;
  mean: number | string | null;
  std: number | string | null;
  nan?: number;
}

export function isFloatAcc(a: FieldAcc): a is FloatAcc {
  return 'nan' in a;
}

export function emptyAcc(type: NumericType): FieldAcc {
  return isFloat(type)
    ? { count: 0, nan: 0, posinf: 0, neginf: 0, sum: 0n, sumsq: 0n, min: null, max: null }
    : { count: 0, sum: 0n, sumsq: 0n, min: null, max: null };
}

/** null is "no value": the other wins. */
function minOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : minFloat(a, b);
}
function maxOrNull(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : maxFloat(a, b);
}

function minBig(a: bigint | null, b: bigint | null): bigint | null {
  return a === null ? b : b === null ? a : b < a ? b : a;
}
function maxBig(a: bigint | null, b: bigint | null): bigint | null {
  return a === null ? b : b === null ? a : b > a ? b : a;
}

export function mergeAcc(a: FieldAcc, b: FieldAcc): FieldAcc {
  if (isFloatAcc(a) && isFloatAcc(b)) {
    return {
      count: a.count + b.count,
      nan: a.nan + b.nan,
      posinf: a.posinf + b.posinf,
      neginf: a.neginf + b.neginf,
      sum: a.sum + b.sum,
      sumsq: a.sumsq + b.sumsq,
      min: minOrNull(a.min, b.min),
      max: maxOrNull(a.max, b.max),
    };
  }
  const x = a as IntAcc;
  const y = b as IntAcc;
  return {
    count: x.count + y.count,
    sum: x.sum + y.sum,
    sumsq: x.sumsq + y.sumsq,
    min: minBig(x.min, y.min),
    max: maxBig(x.max, y.max),
  };
}

// ---- finalize ----

export function finalizeInt(type: NumericType, a: IntAcc): FieldStats {
  const n = BigInt(a.count);
  if (a.count === 0) return { type, count: 0, sum: 0, min: null, max: null, mean: null, std: null };
  return {
    type,
    count: a.count,
    sum: exactJson(a.sum),
    min: exactJson(a.min!),
    max: exactJson(a.max!),
    mean: roundRatio(a.sum, n, 0),
    std: sqrtRatio(n * a.sumsq - a.sum * a.sum, n * n, 0),
  };
}

export function finalizeFloat(type: NumericType, a: FloatAcc): FieldStats {
  const n = BigInt(a.count);
  let sum: number, mean: number | null, std: number | null;
  if (a.posinf && a.neginf) {
    sum = NaN;
    mean = NaN;
    std = NaN;
  } else if (a.posinf || a.neginf) {
    sum = a.posinf ? Infinity : -Infinity;
    mean = sum;
    std = NaN;
  } else if (a.count === 0) {
    sum = 0;
    mean = null;
    std = null;
  } else {
    sum = roundRatio(a.sum, 1n, -1074);
    mean = roundRatio(a.sum, n, -1074);
    std = sqrtRatio(n * a.sumsq - a.sum * a.sum, n * n, -2148);
  }
  return {
    type,
    count: a.count,
    nan: a.nan,
    sum: floatJson(sum)!,
    min: floatJson(a.min),
    max: floatJson(a.max),
    mean: floatJson(mean),
    std: floatJson(std),
  };
}
