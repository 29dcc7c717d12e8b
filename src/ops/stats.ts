// `stats`: count, sum, min, max, mean and population std of every numeric field.
// Sums are exact (BigInt): integers as they are, floats as integers scaled by 2^1074 (squares by
// 2^2148), so merging chunks in any grouping gives the same bits and only finalize rounds.
import type { Layout, NumericType } from '../layout/types.js';
import { isFloat, isNumeric } from '../layout/types.js';
import { expected } from '../errors.js';
import type { OpDef } from './types.js';
import type { Ctl, KernelSpan } from '../native/addon.js';
import { type FieldArg, type FieldSpec, fieldSpec, numericField, bigReader } from './lib/fields.js';
import { type DoubleParts, exactJson, floatJson, maxFloat, minFloat, roundRatio, splitDouble, sqrtRatio } from './lib/exact.js';
import { formatNumber as fmt, table } from '../report/format.js';
import { dict } from '../keys.js';

export interface StatsSpec {
  names: string[];
  fields: FieldSpec[];
}

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
export type StatsPartial = FieldAcc[];

/** native/stats.cc: the exact partial of each field over the span (null when cancelled through ctl). */
export interface StatsKernel {
  stats(...args: [...KernelSpan, fields: readonly FieldArg[], ctl?: Ctl | null]): FieldAcc[] | null;
}

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

export interface StatsResult {
  fields: Record<string, FieldStats>;
}

function isFloatAcc(a: FieldAcc): a is FloatAcc {
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
      count: a.count + b.count, nan: a.nan + b.nan, posinf: a.posinf + b.posinf, neginf: a.neginf + b.neginf,
      sum: a.sum + b.sum, sumsq: a.sumsq + b.sumsq, min: minOrNull(a.min, b.min), max: maxOrNull(a.max, b.max),
    };
  }
  const x = a as IntAcc;
  const y = b as IntAcc;
  return { count: x.count + y.count, sum: x.sum + y.sum, sumsq: x.sumsq + y.sumsq, min: minBig(x.min, y.min), max: maxBig(x.max, y.max) };
}

// ---- the JS implementation (the oracle) ----

const TWO26 = 2 ** 26;
const FLUSH = 1 << 20;

function jsFloat(dv: DataView, records: number, recordSize: number, f: FieldSpec): FloatAcc {
  const le = !f.bigEndian;
  const acc: FloatAcc = emptyAcc(f.type) as FloatAcc;
  const f32 = f.type === 'f32';
  // Per-exponent buckets of the signed mantissa split at 2^26: exact in doubles for 2^25 adds.
  const hi = new Float64Array(2046);
  const lo = new Float64Array(2046);
  const sq = new Map<number, bigint>();
  let sum = 0n;
  let pending = 0;
  const flush = () => {
    for (let e = 0; e < 2046; e++) {
      if (hi[e] !== 0 || lo[e] !== 0) {
        sum += (BigInt(hi[e]!) * 67108864n + BigInt(lo[e]!)) << BigInt(e);
        hi[e] = 0;
        lo[e] = 0;
      }
    }
    pending = 0;
  };
  const parts: DoubleParts = { negative: false, m: 0, ee: 0 };
  let min = NaN; // NaN: no value yet (minFloat / maxFloat then take x)
  let max = NaN;
  for (let i = 0, p = f.offset; i < records; i++, p += recordSize) {
    const x = f32 ? dv.getFloat32(p, le) : dv.getFloat64(p, le);
    if (x !== x) { acc.nan++; continue; }
    acc.count++;
    min = minFloat(min, x);
    max = maxFloat(max, x);
    if (x === Infinity) { acc.posinf++; continue; }
    if (x === -Infinity) { acc.neginf++; continue; }
    if (x === 0) continue;
    splitDouble(x, parts);
    const { m, ee } = parts;
    const mh = Math.floor(m / TWO26);
    const ml = m - mh * TWO26;
    if (parts.negative) { hi[ee] -= mh; lo[ee] -= ml; } else { hi[ee] += mh; lo[ee] += ml; }
    const mb = BigInt(m);
    const k = 2 * ee;
    sq.set(k, (sq.get(k) ?? 0n) + mb * mb);
    if (++pending === FLUSH) flush();
  }
  flush();
  let sumsq = 0n;
  for (const [k, v] of sq) sumsq += v << BigInt(k);
  acc.sum = sum;
  acc.sumsq = sumsq;
  acc.min = acc.count === 0 ? null : min;
  acc.max = acc.count === 0 ? null : max;
  return acc;
}

function jsInt(dv: DataView, records: number, recordSize: number, f: FieldSpec): IntAcc {
  const le = !f.bigEndian;
  if (f.type === 'i64' || f.type === 'u64') {
    const read = bigReader(f.type, f.bigEndian);
    let sum = 0n, sumsq = 0n;
    let min: bigint | null = null, max: bigint | null = null;
    for (let i = 0, p = f.offset; i < records; i++, p += recordSize) {
      const x = read(dv, p);
      sum += x;
      sumsq += x * x;
      if (min === null || x < min) min = x;
      if (max === null || x > max) max = x;
    }
    return { count: records, sum, sumsq, min, max };
  }
  const get: (p: number) => number =
    f.type === 'i8' ? (p) => dv.getInt8(p)
    : f.type === 'u8' ? (p) => dv.getUint8(p)
    : f.type === 'i16' ? (p) => dv.getInt16(p, le)
    : f.type === 'u16' ? (p) => dv.getUint16(p, le)
    : f.type === 'i32' ? (p) => dv.getInt32(p, le)
    : (p) => dv.getUint32(p, le);
  // Numbers are exact below 2^53: flush partial sums to BigInt every 2^20 values.
  // Squares of |x| < 2^32 are split as (a·2^16 + b)² = a²·2^32 + 2ab·2^16 + b².
  let sum = 0n, sumsq = 0n;
  let s = 0, qa = 0, qab = 0, qb = 0, pending = 0;
  let min = Infinity, max = -Infinity;
  for (let i = 0, p = f.offset; i < records; i++, p += recordSize) {
    const x = get(p);
    s += x;
    if (x < min) min = x;
    if (x > max) max = x;
    const ax = x < 0 ? -x : x;
    const a = Math.floor(ax / 65536);
    const b = ax - a * 65536;
    qa += a * a;
    qab += a * b;
    qb += b * b;
    if (++pending === FLUSH) {
      sum += BigInt(s);
      sumsq += (BigInt(qa) << 32n) + (BigInt(qab) << 17n) + BigInt(qb);
      s = qa = qab = qb = pending = 0;
    }
  }
  sum += BigInt(s);
  sumsq += (BigInt(qa) << 32n) + (BigInt(qab) << 17n) + BigInt(qb);
  return {
    count: records, sum, sumsq,
    min: records ? BigInt(min) : null,
    max: records ? BigInt(max) : null,
  };
}

export function statsJs(spec: StatsSpec, dv: DataView, records: number, recordSize: number): StatsPartial {
  return spec.fields.map((f) => (isFloat(f.type) ? jsFloat(dv, records, recordSize, f) : jsInt(dv, records, recordSize, f)));
}

// ---- finalize ----

export function finalizeInt(type: NumericType, a: IntAcc): FieldStats {
  const n = BigInt(a.count);
  if (a.count === 0) return { type, count: 0, sum: 0, min: null, max: null, mean: null, std: null };
  return {
    type, count: a.count, sum: exactJson(a.sum), min: exactJson(a.min!), max: exactJson(a.max!),
    mean: roundRatio(a.sum, n, 0), std: sqrtRatio(n * a.sumsq - a.sum * a.sum, n * n, 0),
  };
}

function finalizeFloat(type: NumericType, a: FloatAcc): FieldStats {
  const n = BigInt(a.count);
  let sum: number, mean: number | null, std: number | null;
  if (a.posinf && a.neginf) {
    sum = NaN; mean = NaN; std = NaN;
  } else if (a.posinf || a.neginf) {
    sum = a.posinf ? Infinity : -Infinity; mean = sum; std = NaN;
  } else if (a.count === 0) {
    sum = 0; mean = null; std = null;
  } else {
    sum = roundRatio(a.sum, 1n, -1074);
    mean = roundRatio(a.sum, n, -1074);
    std = sqrtRatio(n * a.sumsq - a.sum * a.sum, n * n, -2148);
  }
  return {
    type, count: a.count, nan: a.nan, sum: floatJson(sum)!, min: floatJson(a.min), max: floatJson(a.max),
    mean: floatJson(mean), std: floatJson(std),
  };
}

export function resolveStatsFields(layout: Layout, fieldsOpt: string | undefined): StatsSpec {
  const chosen = fieldsOpt
    ? fieldsOpt.split(',').map((s) => numericField(layout, s.trim(), '--fields'))
    : layout.fields.filter((f) => isNumeric(f.type));
  if (chosen.length === 0) {
    throw expected('--op stats', 'a layout with numeric fields (use --schema, or --op count/checksum for opaque records)', layout.source);
  }
  return { names: chosen.map((f) => f.name), fields: chosen.map((f) => fieldSpec(layout, f)) };
}

export const stats: OpDef<StatsSpec, StatsPartial, StatsResult, StatsKernel> = {
  name: 'stats',
  summary: 'count, sum, min, max, mean and std of every numeric field (--fields a,b to choose)',
  flags: [{ flags: '--fields <a,b>', description: 'stats: the fields to summarise (default: every numeric field)' }],
  prepare(options, layout) {
    return resolveStatsFields(layout, options.fields as string | undefined);
  },
  init(spec) {
    return spec.fields.map((f) => emptyAcc(f.type));
  },
  js(spec, chunk) {
    return { partial: statsJs(spec, chunk.bytes, chunk.records, chunk.recordSize) };
  },
  native(spec, c) {
    const partial = c.addon.stats(c.mapping, c.byteOffset, c.records, c.recordSize, spec.fields, c.ctl);
    return partial === null ? null : { partial };
  },
  merge(_spec, a, b) {
    return a.map((x, i) => mergeAcc(x, b[i]!));
  },
  finalize(spec, p) {
    const fields = dict<FieldStats>(); // field names are keys: "__proto__" must stay one
    spec.names.forEach((name, i) => {
      const acc = p[i]!;
      fields[name] = isFloatAcc(acc) ? finalizeFloat(spec.fields[i]!.type, acc) : finalizeInt(spec.fields[i]!.type, acc);
    });
    return { fields };
  },
  format(_spec, result) {
    const head = ['field', 'type', 'count', 'sum', 'min', 'max', 'mean', 'std'];
    const rows = Object.entries(result.fields).map(([name, s]) => [
      name, s.type, String(s.count), fmt(s.sum), fmt(s.min), fmt(s.max), fmt(s.mean), fmt(s.std),
    ]);
    return table(head, rows);
  },
};
