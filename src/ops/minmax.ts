// `minmax`: count, NaN count, min and max of every numeric field — stats' min and max without its
// exact sums, so one cheap pass (also hist's range pre-pass, and a GPU kernel: order-preserving keys).
// Same semantics as stats: NaN is counted apart and never a min or max, −0 sorts below +0, ±Inf are
// values, 64-bit integers are exact (JSON: a number up to 2^53, beyond it a decimal string).
import type { NumericType } from '../layout/types.js';
import { isFloat } from '../layout/types.js';
import type { OpDef } from './types.js';
import type { Ctl, KernelSpan } from '../native/addon.js';
import { type FieldArg, type FieldSpec, bigReader, numberReader } from './lib/fields.js';
import { exactJson, floatJson, maxFloat, minFloat } from './lib/exact.js';
import { type StatsSpec, resolveStatsFields } from './stats.js';
import { formatNumber as fmt, table } from '../report/format.js';
import { dict } from '../keys.js';

export type MinMaxSpec = StatsSpec;

/**
 * One field's partial: count excludes NaN; min/max are null when count is 0, bigints for integer
 * fields (exact beyond 2^53), numbers for float fields (f32 widened exactly), −0 below +0.
 */
export interface MinMaxAcc {
  count: number;
  nan: number;
  min: bigint | number | null;
  max: bigint | number | null;
}

export type MinMaxPartial = MinMaxAcc[];

/** native/minmax.cc: every field's partial over the span (null when cancelled through ctl). */
export interface MinMaxKernel {
  minmax(...args: [...KernelSpan, fields: readonly FieldArg[], ctl?: Ctl | null]): MinMaxAcc[] | null;
}

export interface FieldMinMax {
  type: NumericType;
  count: number;
  nan: number;
  min: number | string | null;
  max: number | string | null;
}

export interface MinMaxResult {
  fields: Record<string, FieldMinMax>;
}

// ---- the JS implementation (the oracle) ----

function jsFloat(dv: DataView, records: number, recordSize: number, f: FieldSpec): MinMaxAcc {
  const read = numberReader(f.type, f.bigEndian);
  let min = NaN; // NaN: no value yet (minFloat / maxFloat then take x)
  let max = NaN;
  let nan = 0;
  for (let i = 0, p = f.offset; i < records; i++, p += recordSize) {
    const x = read(dv, p);
    if (Number.isNaN(x)) {
      nan++;
      continue;
    }
    min = minFloat(min, x);
    max = maxFloat(max, x);
  }
  const count = records - nan;
  return { count, nan, min: count === 0 ? null : min, max: count === 0 ? null : max };
}

function jsInt(dv: DataView, records: number, recordSize: number, f: FieldSpec): MinMaxAcc {
  const read =
    f.type === 'i64' || f.type === 'u64'
      ? bigReader(f.type, f.bigEndian)
      : (
          (r) => (dv: DataView, p: number) =>
            BigInt(r(dv, p))
        )(numberReader(f.type, f.bigEndian));
  let min: bigint | null = null;
  let max: bigint | null = null;
  for (let i = 0, p = f.offset; i < records; i++, p += recordSize) {
    const x = read(dv, p);
    if (min === null || x < min) min = x;
    if (max === null || x > max) max = x;
  }
  return { count: records, nan: 0, min, max };
}

export function minmaxJs(spec: MinMaxSpec, dv: DataView, records: number, recordSize: number): MinMaxPartial {
  return spec.fields.map((f) =>
    isFloat(f.type) ? jsFloat(dv, records, recordSize, f) : jsInt(dv, records, recordSize, f),
  );
}

// ---- merge and finalize ----

/** The smaller of two values of one field; null is "no value" (the other wins). */
function lower(a: bigint | number | null, b: bigint | number | null): bigint | number | null {
  if (a === null) return b;
  if (b === null) return a;
  if (typeof a === 'number') return minFloat(a, b as number);
  return (b as bigint) < a ? b : a;
}

function higher(a: bigint | number | null, b: bigint | number | null): bigint | number | null {
  if (a === null) return b;
  if (b === null) return a;
  if (typeof a === 'number') return maxFloat(a, b as number);
  return (b as bigint) > a ? b : a;
}

export function mergeMinMax(a: MinMaxAcc, b: MinMaxAcc): MinMaxAcc {
  return { count: a.count + b.count, nan: a.nan + b.nan, min: lower(a.min, b.min), max: higher(a.max, b.max) };
}

/** A min or max as stats prints it: floats as JSON numbers (NaN/±Infinity as strings), integers exact. */
function valueJson(v: bigint | number | null): number | string | null {
  return typeof v === 'bigint' ? exactJson(v) : floatJson(v);
}

export function finalizeMinMax(type: NumericType, a: MinMaxAcc): FieldMinMax {
  return { type, count: a.count, nan: a.nan, min: valueJson(a.min), max: valueJson(a.max) };
}

export const minmax: OpDef<MinMaxSpec, MinMaxPartial, MinMaxResult, MinMaxKernel> = {
  name: 'minmax',
  summary: 'count, NaN count, min and max of every numeric field (--fields a,b to choose): one cheap pass',
  flags: [
    { flags: '--fields <a,b>', description: 'stats, minmax: the fields to summarise (default: every numeric field)' },
  ],
  prepare(options, layout) {
    return resolveStatsFields(layout, options.fields as string | undefined, 'minmax');
  },
  init(spec) {
    return spec.fields.map(() => ({ count: 0, nan: 0, min: null, max: null }));
  },
  js(spec, chunk) {
    return { partial: minmaxJs(spec, chunk.bytes, chunk.records, chunk.recordSize) };
  },
  native(spec, c) {
    const partial = c.addon.minmax(c.mapping, c.byteOffset, c.records, c.recordSize, spec.fields, c.ctl);
    return partial === null ? null : { partial };
  },
  merge(_spec, a, b) {
    return a.map((x, i) => mergeMinMax(x, b[i]!));
  },
  finalize(spec, p) {
    const fields = dict<FieldMinMax>(); // field names are keys: "__proto__" must stay one
    spec.names.forEach((name, i) => {
      fields[name] = finalizeMinMax(spec.fields[i]!.type, p[i]!);
    });
    return { fields };
  },
  format(_spec, result) {
    const head = ['field', 'type', 'count', 'nan', 'min', 'max'];
    const rows = Object.entries(result.fields).map(([name, s]) => [
      name,
      s.type,
      String(s.count),
      String(s.nan),
      fmt(s.min),
      fmt(s.max),
    ]);
    return table(head, rows);
  },
};
