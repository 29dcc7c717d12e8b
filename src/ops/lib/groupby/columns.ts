// groupby's columnar partial built from per-group accumulators (the JS oracle's last step), and the
// empty one.
import { isFloat } from '../../../layout/types.js';
import { normalize, setWords } from '../exact.js';
import type { FieldAcc, FloatAcc, IntAcc } from '../field-stats.js';
import type { FloatCols, GroupbyPartial, GroupbySpec, GroupFieldSpec, IntCols } from './types.js';

export function emptyPartial(overflow: boolean): GroupbyPartial {
  return {
    n: 0,
    keys: new Uint8Array(0),
    counts: new Float64Array(0),
    accs: [],
    ...(overflow ? { overflow: true } : {}),
  };
}

/** Empty columns for n groups of field f. */
export function newIntCols(f: GroupFieldSpec, n: number): IntCols {
  return {
    kind: 'int',
    sum: new BigInt64Array(2 * n),
    sumsq: new BigInt64Array(f.sq ? 3 * n : 0),
    min: new BigInt64Array(n),
    max: new BigInt64Array(n),
  };
}

function intColumns(f: GroupFieldSpec, k: number, groups: { accs: FieldAcc[] }[]): IntCols {
  const c = newIntCols(f, groups.length);
  groups.forEach((g, i) => {
    const a = g.accs[k] as IntAcc;
    setWords(c.sum, i, 2, a.sum);
    if (f.sq) setWords(c.sumsq, i, 3, a.sumsq);
    setWords(c.min, i, 1, a.min!);
    setWords(c.max, i, 1, a.max!);
  });
  return c;
}

function floatColumns(f: GroupFieldSpec, k: number, groups: { accs: FieldAcc[] }[]): FloatCols {
  const n = groups.length;
  const c: FloatCols = {
    kind: 'float',
    nan: new Float64Array(n),
    posinf: new Float64Array(n),
    neginf: new Float64Array(n),
    min: new Float64Array(n),
    max: new Float64Array(n),
    sum: [],
    sumExp: new Int32Array(f.sum ? n : 0),
    sumsq: [],
    sqExp: new Int32Array(f.sq ? n : 0),
  };
  groups.forEach((g, i) => {
    const a = g.accs[k] as FloatAcc;
    c.nan[i] = a.nan;
    c.posinf[i] = a.posinf;
    c.neginf[i] = a.neginf;
    c.min[i] = a.min ?? NaN;
    c.max[i] = a.max ?? NaN;
    if (f.sum) [c.sum[i], c.sumExp[i]] = normalize(a.sum);
    if (f.sq) [c.sumsq[i], c.sqExp[i]] = normalize(a.sumsq);
  });
  return c;
}

/** Columns from per-group accumulators (already in key order). */
export function toColumns(
  spec: GroupbySpec,
  keys: Uint8Array,
  groups: { count: number; accs: FieldAcc[] }[],
): GroupbyPartial {
  const counts = Float64Array.from(groups, (g) => g.count);
  const accs = spec.fields.map((f, k) => (isFloat(f.type) ? floatColumns(f, k, groups) : intColumns(f, k, groups)));
  return { n: groups.length, keys, counts, accs };
}
