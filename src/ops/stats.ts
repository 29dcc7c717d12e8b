// `stats`: count, sum, min, max, mean and population std of every numeric field.
// Sums are exact (BigInt): integers as they are, floats as integers scaled by 2^1074 (squares by
// 2^2148), so merging chunks in any grouping gives the same bits and only finalize rounds.
import type { Layout } from '../layout/types.js';
import { isFloat, isNumeric } from '../layout/types.js';
import { expected } from '../errors.js';
import type { OpDef } from './types.js';
import type { Ctl, KernelSpan } from '../native/addon.js';
import { type FieldArg, type FieldSpec, fieldSpec, numericField, bigReader } from './lib/fields.js';
import { type DoubleParts, maxFloat, minFloat, splitDouble } from './lib/exact.js';
import {
  type FieldAcc,
  type FieldStats,
  type FloatAcc,
  type IntAcc,
  emptyAcc,
  finalizeFloat,
  finalizeInt,
  isFloatAcc,
  mergeAcc,
} from './lib/field-stats.js';

import { formatNumber as fmt, table } from '../report/format.js';
import { dict } from '../keys.js';

export type { FieldAcc, FieldStats, FloatAcc, IntAcc };

export interface StatsSpec {
  names: string[];
  fields: FieldSpec[];
}

export type StatsPartial = FieldAcc[];

/** native/stats.cc: the exact partial of each field over the span (null when cancelled through ctl). */
export interface StatsKernel {
  stats(...args: [...KernelSpan, fields: readonly FieldArg[], ctl?: Ctl | null]): FieldAcc[] | null;
}

export interface StatsResult {
  fields: Record<string, FieldStats>;
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
    if (Number.isNaN(x)) {
      acc.nan++;
      continue;
    }
    acc.count++;
    min = minFloat(min, x);
    max = maxFloat(max, x);
    if (x === Infinity) {
      acc.posinf++;
      continue;
    }
    if (x === -Infinity) {
      acc.neginf++;
      continue;
    }
    if (x === 0) continue;
    splitDouble(x, parts);
    const { m, ee } = parts;
    const mh = Math.floor(m / TWO26);
    const ml = m - mh * TWO26;
    if (parts.negative) {
      hi[ee] -= mh;
      lo[ee] -= ml;
    } else {
      hi[ee] += mh;
      lo[ee] += ml;
    }
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
    let sum = 0n,
      sumsq = 0n;
    let min: bigint | null = null,
      max: bigint | null = null;
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
    f.type === 'i8'
      ? (p) => dv.getInt8(p)
      : f.type === 'u8'
        ? (p) => dv.getUint8(p)
        : f.type === 'i16'
          ? (p) => dv.getInt16(p, le)
          : f.type === 'u16'
            ? (p) => dv.getUint16(p, le)
            : f.type === 'i32'
              ? (p) => dv.getInt32(p, le)
              : (p) => dv.getUint32(p, le);
  // Numbers are exact below 2^53: flush partial sums to BigInt every 2^20 values.
  // Squares of |x| < 2^32 are split as (a·2^16 + b)² = a²·2^32 + 2ab·2^16 + b².
  let sum = 0n,
    sumsq = 0n;
  let s = 0,
    qa = 0,
    qab = 0,
    qb = 0,
    pending = 0;
  let min = Infinity,
    max = -Infinity;
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
    count: records,
    sum,
    sumsq,
    min: records ? BigInt(min) : null,
    max: records ? BigInt(max) : null,
  };
}

export function statsJs(spec: StatsSpec, dv: DataView, records: number, recordSize: number): StatsPartial {
  return spec.fields.map((f) =>
    isFloat(f.type) ? jsFloat(dv, records, recordSize, f) : jsInt(dv, records, recordSize, f),
  );
}

export function resolveStatsFields(layout: Layout, fieldsOpt: string | undefined, op = 'stats'): StatsSpec {
  const chosen = fieldsOpt
    ? fieldsOpt.split(',').map((s) => numericField(layout, s.trim(), '--fields'))
    : layout.fields.filter((f) => isNumeric(f.type));
  if (chosen.length === 0) {
    throw expected(
      `--op ${op}`,
      'a layout with numeric fields (use --schema, or --op count/checksum for opaque records)',
      layout.source,
    );
  }
  return { names: chosen.map((f) => f.name), fields: chosen.map((f) => fieldSpec(layout, f)) };
}

export const stats: OpDef<StatsSpec, StatsPartial, StatsResult, StatsKernel> = {
  name: 'stats',
  summary: 'count, sum, min, max, mean and std of every numeric field (--fields a,b to choose)',
  flags: [
    { flags: '--fields <a,b>', description: 'stats, minmax: the fields to summarise (default: every numeric field)' },
  ],
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
      fields[name] = isFloatAcc(acc)
        ? finalizeFloat(spec.fields[i]!.type, acc)
        : finalizeInt(spec.fields[i]!.type, acc);
    });
    return { fields };
  },
  format(_spec, result) {
    const head = ['field', 'type', 'count', 'sum', 'min', 'max', 'mean', 'std'];
    const rows = Object.entries(result.fields).map(([name, s]) => [
      name,
      s.type,
      String(s.count),
      fmt(s.sum),
      fmt(s.min),
      fmt(s.max),
      fmt(s.mean),
      fmt(s.std),
    ]);
    return table(head, rows);
  },
};
