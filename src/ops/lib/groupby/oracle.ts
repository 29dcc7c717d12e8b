// groupby's JS implementation, the oracle the native kernel is tested against: a Map keyed by the
// canonical key (as hex), stats' exact accumulators per group, then columns in key order.
import { bigReader } from '../fields.js';
import { type DoubleParts, maxFloat, minFloat, splitDouble } from '../exact.js';
import { type FieldAcc, type FloatAcc, type IntAcc, emptyAcc } from '../field-stats.js';
import { programToTest } from '../predicate.js';
import { HEX, keyBytes } from './key.js';
import { emptyPartial, toColumns } from './columns.js';
import type { GroupbyPartial, GroupbySpec, GroupFieldSpec } from './types.js';

function addInt(a: IntAcc, x: bigint, sq: boolean): void {
  a.count++;
  a.sum += x;
  if (sq) a.sumsq += x * x;
  if (a.min === null || x < a.min) a.min = x;
  if (a.max === null || x > a.max) a.max = x;
}

const parts: DoubleParts = { negative: false, m: 0, ee: 0 };

/** As stats' JS path, per value: Σx exactly as S·2^-1074, Σx² as Q·2^-2148 (BigInt). */
function addFloat(a: FloatAcc, x: number, sum: boolean, sq: boolean): void {
  if (Number.isNaN(x)) {
    a.nan++;
    return;
  }
  a.count++;
  a.min = a.min === null ? x : minFloat(a.min, x);
  a.max = a.max === null ? x : maxFloat(a.max, x);
  if (x === Infinity) {
    a.posinf++;
    return;
  }
  if (x === -Infinity) {
    a.neginf++;
    return;
  }
  if (x === 0 || !sum) return;
  splitDouble(x, parts); // x = ±m·2^(ee − 1074) exactly
  const ee = BigInt(parts.ee);
  const mb = BigInt(parts.m);
  a.sum += (parts.negative ? -mb : mb) << ee;
  if (sq) a.sumsq += (mb * mb) << (2n * ee);
}

type Reader = (dv: DataView, pos: number) => bigint | number;

function fieldReader(f: GroupFieldSpec): Reader {
  const le = !f.bigEndian;
  switch (f.type) {
    case 'i8':
      return (dv, p) => BigInt(dv.getInt8(p));
    case 'u8':
      return (dv, p) => BigInt(dv.getUint8(p));
    case 'i16':
      return (dv, p) => BigInt(dv.getInt16(p, le));
    case 'u16':
      return (dv, p) => BigInt(dv.getUint16(p, le));
    case 'i32':
      return (dv, p) => BigInt(dv.getInt32(p, le));
    case 'u32':
      return (dv, p) => BigInt(dv.getUint32(p, le));
    case 'i64':
    case 'u64':
      return bigReader(f.type, f.bigEndian);
    case 'f32':
      return (dv, p) => dv.getFloat32(p, le);
    case 'f64':
      return (dv, p) => dv.getFloat64(p, le);
  }
}

interface Group {
  count: number;
  accs: FieldAcc[];
}

export function groupbyJs(spec: GroupbySpec, dv: DataView, records: number, recordSize: number): GroupbyPartial {
  const kb = keyBytes(spec.keys);
  const test = spec.program ? programToTest(spec.program) : null;
  const readers = spec.fields.map(fieldReader);
  const map = new Map<string, Group>();
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
  sorted.forEach((k, i) => {
    keys.set(Buffer.from(k, 'hex'), i * w);
  });
  return toColumns(
    spec,
    keys,
    sorted.map((k) => map.get(k)!),
  );
}
