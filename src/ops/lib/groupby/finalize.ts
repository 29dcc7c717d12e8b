// groupby's finalize: each group's key as JSON values and its aggregates, rounded once from the exact
// sums with stats' own helpers, so a group's figures equal stats over that group's records alone.
import { dict } from '../../../keys.js';
import { floatJson, getWords, roundRatio, sqrtRatio } from '../exact.js';
import { type FieldStats, finalizeInt } from '../field-stats.js';
import { HEX, decodeKey, keyWidth, overflowError } from './key.js';
import type {
  AggFn,
  FloatCols,
  GroupbyPartial,
  GroupbyResult,
  GroupbySpec,
  GroupFieldSpec,
  GroupRow,
  IntCols,
} from './types.js';

function intStats(f: GroupFieldSpec, c: IntCols, i: number, count: number): FieldStats {
  const signed = f.type !== 'u64';
  return finalizeInt(f.type, {
    count,
    sum: getWords(c.sum, i, 2, true),
    sumsq: f.sq ? getWords(c.sumsq, i, 3, false) : 0n,
    min: getWords(c.min, i, 1, signed),
    max: getWords(c.max, i, 1, signed),
  });
}

/**
 * One aggregate of a float field for one group, as stats' finalizeFloat computes it, on the
 * normalized exact sums (Σx = m·2^(e−1074)): the same special cases (NaN/±Inf, no values) and the same
 * correctly rounded roundRatio / sqrtRatio of the same rational numbers, so the same bits, but on
 * small integers, and only the aggregate asked for.
 */
function floatAgg(fn: Exclude<AggFn, 'count'>, c: FloatCols, i: number, records: number): number | string | null {
  const count = records - c.nan[i]!;
  if (fn === 'min' || fn === 'max') return count === 0 ? null : floatJson(fn === 'min' ? c.min[i]! : c.max[i]!);
  const posinf = c.posinf[i]!,
    neginf = c.neginf[i]!;
  if (posinf && neginf) return 'NaN';
  if (posinf || neginf) return fn === 'std' ? 'NaN' : posinf ? 'Infinity' : '-Infinity';
  if (count === 0) return fn === 'sum' ? 0 : null;
  const n = BigInt(count);
  const s = c.sum[i]!,
    es = c.sumExp[i]!;
  if (fn === 'sum') return floatJson(roundRatio(s, 1n, es - 1074));
  if (fn === 'mean') return floatJson(roundRatio(s, n, es - 1074));
  // std: n·Σx² − (Σx)² in units of 2^(lo − 2148)
  const q = c.sumsq[i]!,
    eq = c.sqExp[i]!;
  const lo = Math.min(q === 0n ? 2 * es : eq, s === 0n ? eq : 2 * es);
  const num = ((n * q) << BigInt(q === 0n ? 0 : eq - lo)) - ((s * s) << BigInt(s === 0n ? 0 : 2 * es - lo));
  return floatJson(sqrtRatio(num, n * n, lo - 2148));
}

/** Group i of p as an output row. */
function groupRow(spec: GroupbySpec, p: GroupbyPartial, i: number, w: number): GroupRow {
  let hex = '';
  for (let b = i * w; b < (i + 1) * w; b++) hex += HEX[p.keys[b]!];
  const row = dict() as GroupRow; // agg labels are keys
  row.key = decodeKey(spec.keys, hex);
  const ints: (FieldStats | undefined)[] = [];
  const count = p.counts[i]!;
  for (const agg of spec.aggs) {
    if (agg.fn === 'count') {
      row[agg.label] = count;
      continue;
    }
    const k = agg.field!;
    const c = p.accs[k]!;
    if (c.kind !== 'int') {
      row[agg.label] = floatAgg(agg.fn, c, i, count);
      continue;
    }
    // a field's int stats are computed once, for its first agg, and shared by the others
    let stats = ints[k];
    if (stats === undefined) {
      stats = intStats(spec.fields[k]!, c, i, count);
      ints[k] = stats;
    }
    row[agg.label] = stats[agg.fn];
  }
  return row;
}

export function finalizeGroups(spec: GroupbySpec, p: GroupbyPartial): GroupbyResult {
  if (p.overflow) throw overflowError(spec, 'in one chunk');
  const w = keyWidth(spec);
  const groups: GroupRow[] = [];
  for (let i = 0; i < p.n; i++) groups.push(groupRow(spec, p, i, w));
  return { keys: spec.keys.map((k) => k.name), aggs: spec.aggs.map((a) => a.label), groups };
}
