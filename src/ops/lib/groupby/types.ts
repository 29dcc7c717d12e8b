// What groupby passes around: the prepared spec, the columnar partial (also what native/groupby.cc
// returns), and the result.
import type { NumericType } from '../../../layout/types.js';
import type { FieldSpec } from '../fields.js';
import type { Instr } from '../predicate.js';

export type AggFn = 'count' | 'sum' | 'mean' | 'min' | 'max' | 'std';

export interface GroupKeySpec {
  name: string;
  offset: number;
  size: number;
  kind: 'int' | 'bytes';
  type?: NumericType;
  bigEndian: boolean;
}

export interface GroupAggSpec {
  /** the output name, e.g. "sum(qty)" */
  label: string;
  fn: AggFn;
  /** index into fields (absent for count) */
  field?: number;
}

export interface GroupFieldSpec extends FieldSpec {
  name: string;
  /** accumulate Σx (sum, mean, std; integers always do) */
  sum: boolean;
  /** accumulate Σx² (std) */
  sq: boolean;
}

export interface GroupbySpec {
  keys: GroupKeySpec[];
  aggs: GroupAggSpec[];
  fields: GroupFieldSpec[];
  maxGroups: number;
  where?: string;
  program?: Instr[];
}

/** Columns of an integer field: i128 sums as (lo, hi) words, Σx² as 3 words (empty without sq), min/max as the value's 64 bits. */
export interface IntCols {
  kind: 'int';
  sum: BigInt64Array;
  sumsq: BigInt64Array;
  min: BigInt64Array;
  max: BigInt64Array;
}

/**
 * Columns of a float field. min/max are NaN for a group without non-NaN values. Exact sums,
 * normalized (odd mantissa, or 0 with exponent 0): Σx = sum[i]·2^(sumExp[i]−1074) (empty without sum),
 * Σx² = sumsq[i]·2^(sqExp[i]−2148) (empty without sq), over the finite values.
 */
export interface FloatCols {
  kind: 'float';
  nan: Float64Array;
  posinf: Float64Array;
  neginf: Float64Array;
  min: Float64Array;
  max: Float64Array;
  sum: bigint[];
  sumExp: Int32Array;
  sumsq: bigint[];
  sqExp: Int32Array;
}

/**
 * A partial: the groups sorted by canonical key (W bytes each), their record counts and, per
 * aggregated field, its columns. overflow: more than maxGroups distinct keys were seen (n is then 0).
 */
export interface GroupbyPartial {
  n: number;
  keys: Uint8Array;
  counts: Float64Array;
  accs: (IntCols | FloatCols)[];
  overflow?: boolean;
}

export type KeyValue = number | string;
export type GroupRow = { key: KeyValue[] } & Record<string, number | string | null | KeyValue[]>;

export interface GroupbyResult {
  keys: string[];
  aggs: string[];
  groups: GroupRow[];
}
