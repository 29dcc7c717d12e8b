// `groupby`: hash aggregation by one or more integer / bytes<N> key fields, with count, sum, mean,
// min, max and std (population) of numeric fields per group, sorted by key.
//
// A group's key is its canonical bytes: each key field in order, integers big-endian with the sign
// bit flipped (so bytewise order is numeric order), bytes<N> as stored. A partial is the chunk's
// groups sorted by that key, in columns (so a million groups are a few typed arrays, cheap to send
// between threads): record counts and, per aggregated field, the exact accumulators of `stats`
// (integer Σx in 128 bits, Σx² in 192; float Σx and Σx² exact, as mantissa·2^exponent). Merging is a
// sorted merge that adds accumulators exactly, so results are bit-identical for any --workers /
// --chunk-size, and finalize rounds once with stats' own helpers. More than --max-groups distinct
// keys, in a chunk or after a merge, is an error (exit 2), never an out-of-memory crash.
import type { Field, Layout, NumericType } from '../layout/types.js';
import { dict } from '../keys.js';
import { isFloat, isNumeric } from '../layout/types.js';
import type { GroupbyFloatColumns, GroupbyIntColumns, GroupbyNativePartial, GroupbyNativeSpec } from '../native/addon.js';
import type { OpDef } from './types.js';
import { type FieldSpec, fieldSpec, numericField, bigReader } from './lib/fields.js';
import { type FieldAcc, type FieldStats, type FloatAcc, type IntAcc, emptyAcc, finalizeInt } from './stats.js';
import { exactJson, floatJson, roundRatio, sqrtRatio } from './lib/exact.js';
import { type Instr, compilePredicate, parsePredicate, programToTest } from './lib/predicate.js';
import { expected, usage } from '../errors.js';
import { parsePositiveInt } from '../config/units.js';
import { formatNumber, table } from '../report/format.js';

export const GROUPBY_DEFAULT_MAX_GROUPS = 1_000_000;
export const GROUPBY_MAX_MAX_GROUPS = 1_000_000_000;

export type AggFn = 'count' | 'sum' | 'mean' | 'min' | 'max' | 'std';
const AGG_FNS: readonly AggFn[] = ['count', 'sum', 'mean', 'min', 'max', 'std'];
const AGG_HELP = 'a comma-separated list of count, sum(F), mean(F), min(F), max(F), std(F) with F a numeric field';

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

/** Columns of the groups of a partial, sorted by canonical key; see GroupbyNativePartial. */
export type GroupbyPartial = GroupbyNativePartial;
export type IntCols = GroupbyIntColumns;
export type FloatCols = GroupbyFloatColumns;

export type KeyValue = number | string;
export type GroupRow = { key: KeyValue[] } & Record<string, number | string | null | KeyValue[]>;

export interface GroupbyResult {
  keys: string[];
  aggs: string[];
  groups: GroupRow[];
}

// ---- options ----

function keyField(layout: Layout, name: string): Field {
  const f = layout.fields.find((x) => x.name === name);
  const usable = layout.fields.filter((x) => !isFloat(x.type)).map((x) => x.name);
  if (!f) throw expected('--key', `a field of the layout (${usable.join(', ') || 'none: the layout has no integer or bytes fields'})`, name);
  if (isFloat(f.type)) throw expected('--key', `an integer or bytes<N> field, not ${f.type} (float keys are not supported)`, name);
  return f;
}

export function parseKeys(layout: Layout, text: string): GroupKeySpec[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => n === '')) throw expected('--key', 'a comma-separated list of field names, e.g. venue or venue,side', text);
  const seen = new Set<string>();
  return names.map((n) => {
    if (seen.has(n)) throw expected('--key', 'distinct fields', text);
    seen.add(n);
    const f = keyField(layout, n);
    return isNumeric(f.type)
      ? { name: f.name, offset: f.offset, size: f.size, kind: 'int', type: f.type, bigEndian: layout.bigEndian }
      : { name: f.name, offset: f.offset, size: f.size, kind: 'bytes', bigEndian: layout.bigEndian };
  });
}

export function parseAggs(layout: Layout, text: string): { aggs: GroupAggSpec[]; fields: GroupFieldSpec[] } {
  const items = text.split(',').map((s) => s.trim());
  const aggs: GroupAggSpec[] = [];
  const fields: GroupFieldSpec[] = [];
  const labels = new Set<string>();
  for (const item of items) {
    let fn: AggFn, fieldName: string | undefined;
    const m = /^([a-z]+)\s*(?:\(\s*([^()\s]*)\s*\))?$/i.exec(item);
    if (!m || !AGG_FNS.includes(m[1]!.toLowerCase() as AggFn)) throw expected('--agg', AGG_HELP, item);
    fn = m[1]!.toLowerCase() as AggFn;
    fieldName = m[2];
    if (fn === 'count') {
      if (fieldName !== undefined && fieldName !== '') throw expected('--agg', 'count without a field (it counts the records of each group)', item);
      fieldName = undefined;
    } else if (fieldName === undefined || fieldName === '') {
      throw expected('--agg', `${fn}(F) with F a numeric field, e.g. ${fn}(price)`, item);
    }
    const label = fieldName === undefined ? 'count' : `${fn}(${fieldName})`;
    if (labels.has(label)) continue;
    labels.add(label);
    if (fieldName === undefined) {
      aggs.push({ label, fn });
      continue;
    }
    const f = numericField(layout, fieldName, '--agg');
    let idx = fields.findIndex((x) => x.name === f.name);
    if (idx < 0) {
      fields.push({ ...fieldSpec(layout, f), name: f.name, sum: false, sq: false });
      idx = fields.length - 1;
    }
    const gf = fields[idx]!;
    if (fn === 'sum' || fn === 'mean' || fn === 'std') gf.sum = true;
    if (fn === 'std') gf.sq = true;
    aggs.push({ label, fn, field: idx });
  }
  return { aggs, fields };
}

// ---- canonical keys ----

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** For each canonical key byte: the record byte it comes from and the bits to flip. */
function keyBytes(keys: GroupKeySpec[]): { src: number; flip: number }[] {
  const out: { src: number; flip: number }[] = [];
  for (const k of keys) {
    const signed = k.kind === 'int' && k.type!.startsWith('i');
    for (let j = 0; j < k.size; j++) {
      const src = k.kind === 'int' && !k.bigEndian ? k.offset + k.size - 1 - j : k.offset + j;
      out.push({ src, flip: j === 0 && signed ? 0x80 : 0 });
    }
  }
  return out;
}

/** The JSON values of a canonical key: integers exact (decimal strings beyond 2^53), bytes as hex. */
export function decodeKey(keys: GroupKeySpec[], hex: string): KeyValue[] {
  const out: KeyValue[] = [];
  let pos = 0;
  for (const k of keys) {
    const part = hex.slice(pos, pos + 2 * k.size);
    pos += 2 * k.size;
    if (k.kind === 'bytes') {
      out.push(part);
    } else if (k.size <= 4) {
      const v = parseInt(part, 16);
      out.push(k.type!.startsWith('i') ? v - 2 ** (8 * k.size - 1) : v);
    } else {
      let v = BigInt(`0x${part}`);
      if (k.type!.startsWith('i')) v -= 1n << BigInt(8 * k.size - 1);
      out.push(exactJson(v));
    }
  }
  return out;
}

// ---- the JS implementation (the oracle): a Map keyed by the canonical key ----

const TWO52 = 2 ** 52;

function addInt(a: IntAcc, x: bigint, sq: boolean): void {
  a.count++;
  a.sum += x;
  if (sq) a.sumsq += x * x;
  if (a.min === null || x < a.min) a.min = x;
  if (a.max === null || x > a.max) a.max = x;
}

const scratch = new DataView(new ArrayBuffer(8));

/** As stats' JS path, per value: Σx exactly as S·2^-1074, Σx² as Q·2^-2148 (BigInt). */
function addFloat(a: FloatAcc, x: number, sum: boolean, sq: boolean): void {
  if (x !== x) { a.nan++; return; }
  a.count++;
  const min = a.min, max = a.max;
  if (min === null || x < min || (x === 0 && min === 0 && Object.is(x, -0))) a.min = x;
  if (max === null || x > max || (x === 0 && max === 0 && Object.is(max, -0) && !Object.is(x, -0))) a.max = x;
  if (x === Infinity) { a.posinf++; return; }
  if (x === -Infinity) { a.neginf++; return; }
  if (x === 0 || !sum) return;
  // x = ±m·2^(ee − 1074) exactly, ee = max(e, 1) − 1
  scratch.setFloat64(0, x);
  const w = scratch.getUint32(0);
  const e = (w >>> 20) & 0x7ff;
  let m = (w & 0xfffff) * 4294967296 + scratch.getUint32(4);
  if (e !== 0) m += TWO52;
  const ee = BigInt(e === 0 ? 0 : e - 1);
  const mb = BigInt(m);
  a.sum += (w >>> 31 ? -mb : mb) << ee;
  if (sq) a.sumsq += (mb * mb) << (2n * ee);
}

type Reader = (dv: DataView, pos: number) => bigint | number;

function fieldReader(f: GroupFieldSpec): Reader {
  const le = !f.bigEndian;
  switch (f.type) {
    case 'i8': return (dv, p) => BigInt(dv.getInt8(p));
    case 'u8': return (dv, p) => BigInt(dv.getUint8(p));
    case 'i16': return (dv, p) => BigInt(dv.getInt16(p, le));
    case 'u16': return (dv, p) => BigInt(dv.getUint16(p, le));
    case 'i32': return (dv, p) => BigInt(dv.getInt32(p, le));
    case 'u32': return (dv, p) => BigInt(dv.getUint32(p, le));
    case 'i64': case 'u64': return bigReader(f.type, f.bigEndian);
    case 'f32': return (dv, p) => dv.getFloat32(p, le);
    case 'f64': return (dv, p) => dv.getFloat64(p, le);
  }
}

/** Trailing zero bits of v (0 for 0). */
function ctz(v: bigint): number {
  if (v === 0n) return 0;
  if (v < 0n) v = -v;
  let n = 0;
  while ((v & 0xffffffffn) === 0n) {
    v >>= 32n;
    n += 32;
  }
  const low = Number(v & 0xffffffffn);
  return n + 31 - Math.clz32(low & -low);
}

/** v as (m, e) with v = m·2^e, m odd (or 0 and e = 0). */
function normalize(v: bigint): [bigint, number] {
  const e = ctz(v);
  return [v >> BigInt(e), e];
}

const W64 = (1n << 64n) - 1n;

function setWords(col: BigInt64Array, i: number, words: number, v: bigint): void {
  for (let w = 0; w < words; w++) col[i * words + w] = BigInt.asIntN(64, (v >> BigInt(64 * w)) & W64);
}

/** words 64-bit words at i·words (little-endian); the top word signed when signed. */
function getWords(col: BigInt64Array, i: number, words: number, signed: boolean): bigint {
  let v = 0n;
  for (let w = words - 1; w >= 0; w--) {
    const x = col[i * words + w]!;
    v = (v << 64n) | (w === words - 1 && signed ? x : BigInt.asUintN(64, x));
  }
  return v;
}

function emptyPartial(overflow: boolean): GroupbyPartial {
  return { n: 0, keys: new Uint8Array(0), counts: new Float64Array(0), accs: [], ...(overflow ? { overflow: true } : {}) };
}

/** Columns from per-group accumulators (already in key order). */
function toColumns(spec: GroupbySpec, keys: Uint8Array, groups: { count: number; accs: FieldAcc[] }[]): GroupbyPartial {
  const n = groups.length;
  const counts = Float64Array.from(groups, (g) => g.count);
  const accs = spec.fields.map((f, k): IntCols | FloatCols => {
    if (!isFloat(f.type)) {
      const c: IntCols = { kind: 'int', sum: new BigInt64Array(2 * n), sumsq: new BigInt64Array(f.sq ? 3 * n : 0), min: new BigInt64Array(n), max: new BigInt64Array(n) };
      groups.forEach((g, i) => {
        const a = g.accs[k] as IntAcc;
        setWords(c.sum, i, 2, a.sum);
        if (f.sq) setWords(c.sumsq, i, 3, a.sumsq);
        setWords(c.min, i, 1, a.min!);
        setWords(c.max, i, 1, a.max!);
      });
      return c;
    }
    const c: FloatCols = {
      kind: 'float', nan: new Float64Array(n), posinf: new Float64Array(n), neginf: new Float64Array(n), min: new Float64Array(n), max: new Float64Array(n),
      sum: [], sumExp: new Int32Array(f.sum ? n : 0), sumsq: [], sqExp: new Int32Array(f.sq ? n : 0),
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
  });
  return { n, keys, counts, accs };
}

export function groupbyJs(spec: GroupbySpec, dv: DataView, records: number, recordSize: number): GroupbyPartial {
  const kb = keyBytes(spec.keys);
  const test = spec.program ? programToTest(spec.program) : null;
  const readers = spec.fields.map(fieldReader);
  const map = new Map<string, { count: number; accs: FieldAcc[] }>();
  for (let i = 0, base = 0; i < records; i++, base += recordSize) {
    if (test && !test(dv, base)) continue;
    let key = '';
    for (const b of kb) key += HEX[dv.getUint8(base + b.src) ^ b.flip];
    let g = map.get(key);
    if (!g) {
      if (map.size >= spec.maxGroups) return emptyPartial(true);
      g = { count: 0, accs: spec.fields.map((f) => emptyAcc(f.type)) };
      map.set(key, g);
    }
    g.count++;
    for (let j = 0; j < readers.length; j++) {
      const f = spec.fields[j]!;
      const x = readers[j]!(dv, base + f.offset);
      if (typeof x === 'bigint') addInt(g.accs[j] as IntAcc, x, f.sq);
      else addFloat(g.accs[j] as FloatAcc, x, f.sum, f.sq);
    }
  }
  const sorted = [...map.keys()].sort();
  const w = kb.length;
  const keys = new Uint8Array(sorted.length * w);
  sorted.forEach((k, i) => keys.set(Buffer.from(k, 'hex'), i * w));
  return toColumns(spec, keys, sorted.map((k) => map.get(k)!));
}

// ---- merge / finalize ----

function overflowError(spec: GroupbySpec, where: string): Error {
  return usage(
    `--max-groups ${spec.maxGroups} exceeded: more than ${spec.maxGroups} distinct keys (${spec.keys.map((k) => k.name).join(',')}) ${where}; ` +
      'raise --max-groups or group by fewer/coarser keys',
  );
}

function keyWidth(spec: GroupbySpec): number {
  return spec.keys.reduce((s, k) => s + k.size, 0);
}

function compareKeys(a: Uint8Array, i: number, b: Uint8Array, j: number, w: number): number {
  for (let x = i * w, y = j * w, end = x + w; x < end; x++, y++) {
    const d = a[x]! - b[y]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** 32-bit words over a typed array's bytes: copies without creating BigInts. */
function words32(a: BigInt64Array | Float64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
}

function minFloat(a: number, b: number): number {
  if (a !== a) return b;
  if (b !== b) return a;
  return b < a || (b === 0 && a === 0 && Object.is(b, -0)) ? b : a;
}

function maxFloat(a: number, b: number): number {
  if (a !== a) return b;
  if (b !== b) return a;
  return b > a || (b === 0 && a === 0 && Object.is(a, -0)) ? b : a;
}

/** (m1·2^e1) + (m2·2^e2) as (m, e) with the smaller exponent; zero as (0, 0). */
function addScaled(m1: bigint, e1: number, m2: bigint, e2: number): [bigint, number] {
  if (m1 === 0n) return [m2, e2];
  if (m2 === 0n) return [m1, e1];
  const e = Math.min(e1, e2);
  const m = (m1 << BigInt(e1 - e)) + (m2 << BigInt(e2 - e));
  return m === 0n ? [0n, 0] : [m, e];
}

export function mergeGroups(spec: GroupbySpec, a: GroupbyPartial, b: GroupbyPartial): GroupbyPartial {
  if (a.overflow || b.overflow) throw overflowError(spec, 'in one chunk');
  if (a.n === 0) return b;
  if (b.n === 0) return a;
  const w = keyWidth(spec);
  // the merged order: index into a and/or b (-1: absent)
  const ia = new Int32Array(a.n + b.n), ib = new Int32Array(a.n + b.n);
  let n = 0;
  for (let i = 0, j = 0; i < a.n || j < b.n; n++) {
    const c = i >= a.n ? 1 : j >= b.n ? -1 : compareKeys(a.keys, i, b.keys, j, w);
    ia[n] = c <= 0 ? i++ : -1;
    ib[n] = c >= 0 ? j++ : -1;
    if (n + 1 > spec.maxGroups) throw overflowError(spec, 'across chunks');
  }
  const keys = new Uint8Array(n * w);
  const counts = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const i = ia[k]!, j = ib[k]!;
    if (i >= 0) keys.set(a.keys.subarray(i * w, (i + 1) * w), k * w);
    else keys.set(b.keys.subarray(j * w, (j + 1) * w), k * w);
    counts[k] = (i >= 0 ? a.counts[i]! : 0) + (j >= 0 ? b.counts[j]! : 0);
  }
  const accs = spec.fields.map((f, fi): IntCols | FloatCols => {
    if (!isFloat(f.type)) {
      const x = a.accs[fi] as IntCols, y = b.accs[fi] as IntCols;
      const u64 = f.type === 'u64';
      const c: IntCols = { kind: 'int', sum: new BigInt64Array(2 * n), sumsq: new BigInt64Array(f.sq ? 3 * n : 0), min: new BigInt64Array(n), max: new BigInt64Array(n) };
      const out = { sum: words32(c.sum), sumsq: words32(c.sumsq), min: words32(c.min), max: words32(c.max) };
      const xs = { sum: words32(x.sum), sumsq: words32(x.sumsq), min: words32(x.min), max: words32(x.max) };
      const ys = { sum: words32(y.sum), sumsq: words32(y.sumsq), min: words32(y.min), max: words32(y.max) };
      const copy = (dst: Uint32Array, src: Uint32Array, k: number, i: number, words: number) => {
        for (let t = 0; t < 2 * words; t++) dst[2 * words * k + t] = src[2 * words * i + t]!;
      };
      for (let k = 0; k < n; k++) {
        const i = ia[k]!, j = ib[k]!;
        if (i < 0 || j < 0) {
          const [src, s] = i >= 0 ? [xs, i] : [ys, j];
          copy(out.sum, src.sum, k, s, 2);
          if (f.sq) copy(out.sumsq, src.sumsq, k, s, 3);
          copy(out.min, src.min, k, s, 1);
          copy(out.max, src.max, k, s, 1);
          continue;
        }
        setWords(c.sum, k, 2, getWords(x.sum, i, 2, true) + getWords(y.sum, j, 2, true));
        if (f.sq) setWords(c.sumsq, k, 3, getWords(x.sumsq, i, 3, false) + getWords(y.sumsq, j, 3, false));
        const mn1 = getWords(x.min, i, 1, !u64), mn2 = getWords(y.min, j, 1, !u64);
        const mx1 = getWords(x.max, i, 1, !u64), mx2 = getWords(y.max, j, 1, !u64);
        c.min[k] = BigInt.asIntN(64, mn2 < mn1 ? mn2 : mn1);
        c.max[k] = BigInt.asIntN(64, mx2 > mx1 ? mx2 : mx1);
      }
      return c;
    }
    const x = a.accs[fi] as FloatCols, y = b.accs[fi] as FloatCols;
    const c: FloatCols = {
      kind: 'float', nan: new Float64Array(n), posinf: new Float64Array(n), neginf: new Float64Array(n), min: new Float64Array(n), max: new Float64Array(n),
      sum: new Array<bigint>(f.sum ? n : 0), sumExp: new Int32Array(f.sum ? n : 0), sumsq: new Array<bigint>(f.sq ? n : 0), sqExp: new Int32Array(f.sq ? n : 0),
    };
    for (let k = 0; k < n; k++) {
      const i = ia[k]!, j = ib[k]!;
      if (i < 0 || j < 0) {
        const [src, s] = i >= 0 ? [x, i] : [y, j];
        c.nan[k] = src.nan[s]!;
        c.posinf[k] = src.posinf[s]!;
        c.neginf[k] = src.neginf[s]!;
        c.min[k] = src.min[s]!;
        c.max[k] = src.max[s]!;
        if (f.sum) { c.sum[k] = src.sum[s]!; c.sumExp[k] = src.sumExp[s]!; }
        if (f.sq) { c.sumsq[k] = src.sumsq[s]!; c.sqExp[k] = src.sqExp[s]!; }
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
  });
  return { n, keys, counts, accs };
}

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
  const posinf = c.posinf[i]!, neginf = c.neginf[i]!;
  if (posinf && neginf) return 'NaN';
  if (posinf || neginf) return fn === 'std' ? 'NaN' : posinf ? 'Infinity' : '-Infinity';
  if (count === 0) return fn === 'sum' ? 0 : null;
  const n = BigInt(count);
  const s = c.sum[i]!, es = c.sumExp[i]!;
  if (fn === 'sum') return floatJson(roundRatio(s, 1n, es - 1074));
  if (fn === 'mean') return floatJson(roundRatio(s, n, es - 1074));
  // std: n·Σx² − (Σx)² in units of 2^(lo − 2148)
  const q = c.sumsq[i]!, eq = c.sqExp[i]!;
  const lo = Math.min(q === 0n ? 2 * es : eq, s === 0n ? eq : 2 * es);
  const num = ((n * q) << BigInt(q === 0n ? 0 : eq - lo)) - ((s * s) << BigInt(s === 0n ? 0 : 2 * es - lo));
  return floatJson(sqrtRatio(num, n * n, lo - 2148));
}

export function finalizeGroups(spec: GroupbySpec, p: GroupbyPartial): GroupbyResult {
  if (p.overflow) throw overflowError(spec, 'in one chunk');
  const w = keyWidth(spec);
  const groups: GroupRow[] = [];
  for (let i = 0; i < p.n; i++) {
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
      row[agg.label] = c.kind === 'int' ? (ints[k] ??= intStats(spec.fields[k]!, c, i, count))[agg.fn] : floatAgg(agg.fn, c, i, count);
    }
    groups.push(row);
  }
  return { keys: spec.keys.map((k) => k.name), aggs: spec.aggs.map((a) => a.label), groups };
}

function nativeSpec(spec: GroupbySpec): GroupbyNativeSpec {
  return {
    keys: spec.keys.map((k) => ({ offset: k.offset, size: k.size, kind: k.kind, ...(k.type ? { type: k.type } : {}), bigEndian: k.bigEndian })),
    fields: spec.fields.map((f) => ({ offset: f.offset, type: f.type, bigEndian: f.bigEndian, sum: f.sum, sq: f.sq })),
    maxGroups: spec.maxGroups,
  };
}

export const groupby: OpDef<GroupbySpec, GroupbyPartial, GroupbyResult> = {
  name: 'groupby',
  summary: "per-key aggregates: --key F[,F2] --agg 'count,sum(qty),mean(price),min(ts),max(ts),std(price)', sorted by key",
  flags: [
    { flags: '--key <fields>', description: 'groupby: the integer or bytes<N> field(s) to group by, e.g. venue or venue,side' },
    { flags: '--agg <list>', description: 'groupby: aggregates, from count, sum(F), mean(F), min(F), max(F), std(F) (default count)' },
    { flags: '--max-groups <n>', description: 'groupby: stop with an error past this many distinct keys (default 1000000)' },
    { flags: '--where <expr>', description: "filter: predicate, e.g. 'price > 110 && (side == 1 || qty < 5)'" },
  ],
  prepare(options, layout) {
    if (options.key === undefined || String(options.key).trim() === '') throw usage('--op groupby needs --key FIELD[,FIELD2], e.g. --key venue');
    const keys = parseKeys(layout, String(options.key));
    const aggText = options.agg === undefined ? 'count' : String(options.agg);
    if (aggText.trim() === '') throw expected('--agg', AGG_HELP, aggText);
    const { aggs, fields } = parseAggs(layout, aggText);
    const maxGroups = parsePositiveInt((options.maxGroups as string | number | undefined) ?? GROUPBY_DEFAULT_MAX_GROUPS, '--max-groups', GROUPBY_MAX_MAX_GROUPS);
    const spec: GroupbySpec = { keys, aggs, fields, maxGroups };
    if (options.where !== undefined) {
      const where = String(options.where);
      if (where.trim() === '') throw usage("--where needs an expression, e.g. --where 'price > 110 && side == 1'");
      spec.where = where;
      spec.program = compilePredicate(parsePredicate(where), layout);
    }
    return spec;
  },
  init() {
    return emptyPartial(false);
  },
  js(spec, chunk) {
    return { partial: groupbyJs(spec, chunk.bytes, chunk.records, chunk.recordSize) };
  },
  native(spec, c) {
    const r = c.addon.groupby(c.mapping, c.byteOffset, c.records, c.recordSize, nativeSpec(spec), (spec.program ?? null) as never, c.ctl);
    return r === null ? null : { partial: r as GroupbyPartial };
  },
  merge(spec, a, b) {
    return mergeGroups(spec, a, b);
  },
  finalize(spec, p) {
    return finalizeGroups(spec, p);
  },
  format(spec, r) {
    const head = [...r.keys, ...r.aggs];
    const rows = r.groups.map((g) => [...g.key.map(String), ...r.aggs.map((a) => formatNumber(g[a] as number | string | null))]);
    const where = spec.where ? ` where ${spec.where}` : '';
    const summary = `${r.groups.length} group${r.groups.length === 1 ? '' : 's'} by ${r.keys.join(',')}${where}`;
    return rows.length === 0 ? `${summary}\n(no groups)` : `${table(head, rows, r.keys.length)}\n${summary}`;
  },
};
