// Merging two groupby partials: a sorted merge of their keys that adds the accumulators of a key
// found in both exactly (wide integer words, scaled float sums), so any chunking gives the same bits.
import { isFloat } from '../../../layout/types.js';
import { addScaled, getWords, maxFloat, minFloat, setWords } from '../exact.js';
import { newIntCols } from './columns.js';
import { compareKeys, keyWidth, overflowError } from './key.js';
import type { FloatCols, GroupbyPartial, GroupbySpec, GroupFieldSpec, IntCols } from './types.js';

/** Where each merged group comes from: an index into a and/or b (-1: absent), n groups. */
interface MergeOrder {
  ia: Int32Array;
  ib: Int32Array;
  n: number;
}

function mergeOrder(spec: GroupbySpec, a: GroupbyPartial, b: GroupbyPartial, w: number): MergeOrder {
  const ia = new Int32Array(a.n + b.n),
    ib = new Int32Array(a.n + b.n);
  let n = 0;
  for (let i = 0, j = 0; i < a.n || j < b.n; n++) {
    const c = i >= a.n ? 1 : j >= b.n ? -1 : compareKeys(a.keys, i, b.keys, j, w);
    ia[n] = c <= 0 ? i++ : -1;
    ib[n] = c >= 0 ? j++ : -1;
    if (n + 1 > spec.maxGroups) throw overflowError(spec, 'across chunks');
  }
  return { ia, ib, n };
}

/** 32-bit words over a typed array's bytes: copies without creating BigInts. */
function words32(a: BigInt64Array | Float64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
}

function intWords(c: IntCols) {
  return { sum: words32(c.sum), sumsq: words32(c.sumsq), min: words32(c.min), max: words32(c.max) };
}

/** Copy `words` 64-bit words of group i in src to group k in dst, as 32-bit halves. */
function copyWords(dst: Uint32Array, src: Uint32Array, k: number, i: number, words: number): void {
  for (let t = 0; t < 2 * words; t++) dst[2 * words * k + t] = src[2 * words * i + t]!;
}

function mergeIntCols(f: GroupFieldSpec, x: IntCols, y: IntCols, { ia, ib, n }: MergeOrder): IntCols {
  const u64 = f.type === 'u64';
  const c = newIntCols(f, n);
  const out = intWords(c),
    xs = intWords(x),
    ys = intWords(y);
  for (let k = 0; k < n; k++) {
    const i = ia[k]!,
      j = ib[k]!;
    if (i < 0 || j < 0) {
      const [src, s] = i >= 0 ? [xs, i] : [ys, j];
      copyWords(out.sum, src.sum, k, s, 2);
      if (f.sq) copyWords(out.sumsq, src.sumsq, k, s, 3);
      copyWords(out.min, src.min, k, s, 1);
      copyWords(out.max, src.max, k, s, 1);
      continue;
    }
    setWords(c.sum, k, 2, getWords(x.sum, i, 2, true) + getWords(y.sum, j, 2, true));
    if (f.sq) setWords(c.sumsq, k, 3, getWords(x.sumsq, i, 3, false) + getWords(y.sumsq, j, 3, false));
    const mn1 = getWords(x.min, i, 1, !u64),
      mn2 = getWords(y.min, j, 1, !u64);
    const mx1 = getWords(x.max, i, 1, !u64),
      mx2 = getWords(y.max, j, 1, !u64);
    c.min[k] = BigInt.asIntN(64, mn2 < mn1 ? mn2 : mn1);
    c.max[k] = BigInt.asIntN(64, mx2 > mx1 ? mx2 : mx1);
  }
  return c;
}

function mergeFloatCols(f: GroupFieldSpec, x: FloatCols, y: FloatCols, { ia, ib, n }: MergeOrder): FloatCols {
  const c: FloatCols = {
    kind: 'float',
    nan: new Float64Array(n),
    posinf: new Float64Array(n),
    neginf: new Float64Array(n),
    min: new Float64Array(n),
    max: new Float64Array(n),
    sum: new Array<bigint>(f.sum ? n : 0),
    sumExp: new Int32Array(f.sum ? n : 0),
    sumsq: new Array<bigint>(f.sq ? n : 0),
    sqExp: new Int32Array(f.sq ? n : 0),
  };
  for (let k = 0; k < n; k++) {
    const i = ia[k]!,
      j = ib[k]!;
    if (i < 0 || j < 0) {
      const [src, s] = i >= 0 ? [x, i] : [y, j];
      c.nan[k] = src.nan[s]!;
      c.posinf[k] = src.posinf[s]!;
      c.neginf[k] = src.neginf[s]!;
      c.min[k] = src.min[s]!;
      c.max[k] = src.max[s]!;
      if (f.sum) {
        c.sum[k] = src.sum[s]!;
        c.sumExp[k] = src.sumExp[s]!;
      }
      if (f.sq) {
        c.sumsq[k] = src.sumsq[s]!;
        c.sqExp[k] = src.sqExp[s]!;
      }
      continue;
    }
    c.nan[k] = x.nan[i]! + y.nan[j]!;
    c.posinf[k] = x.posinf[i]! + y.posinf[j]!;
    c.neginf[k] = x.neginf[i]! + y.neginf[j]!;
    c.min[k] = minFloat(x.min[i]!, y.min[j]!);
    c.max[k] = maxFloat(x.max[i]!, y.max[j]!);
    if (f.sum) [c.sum[k], c.sumExp[k]] = addScaled(x.sum[i]!, x.sumExp[i]!, y.sum[j]!, y.sumExp[j]!);
    if (f.sq) [c.sumsq[k], c.sqExp[k]] = addScaled(x.sumsq[i]!, x.sqExp[i]!, y.sumsq[j]!, y.sqExp[j]!);
  }
  return c;
}

export function mergeGroups(spec: GroupbySpec, a: GroupbyPartial, b: GroupbyPartial): GroupbyPartial {
  if (a.overflow || b.overflow) throw overflowError(spec, 'in one chunk');
  if (a.n === 0) return b;
  if (b.n === 0) return a;
  const w = keyWidth(spec);
  const order = mergeOrder(spec, a, b, w);
  const { ia, ib, n } = order;
  const keys = new Uint8Array(n * w);
  const counts = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const i = ia[k]!,
      j = ib[k]!;
    if (i >= 0) keys.set(a.keys.subarray(i * w, (i + 1) * w), k * w);
    else keys.set(b.keys.subarray(j * w, (j + 1) * w), k * w);
    counts[k] = (i >= 0 ? a.counts[i]! : 0) + (j >= 0 ? b.counts[j]! : 0);
  }
  const accs = spec.fields.map((f, fi) =>
    isFloat(f.type)
      ? mergeFloatCols(f, a.accs[fi] as FloatCols, b.accs[fi] as FloatCols, order)
      : mergeIntCols(f, a.accs[fi] as IntCols, b.accs[fi] as IntCols, order),
  );
  return { n, keys, counts, accs };
}
