// The order-preserving integer image of a field's values, as 16-bit parts (most significant first) that
// f32 holds exactly: integers with the sign bit flipped, floats with the sign bit flipped when positive
// and every bit flipped when negative, so comparing parts left to right orders values as numbers (-0 is
// made +0; a NaN lands above +Inf or below -Inf). The GPU builds the values' keys from their raw parts;
// this file builds the thresholds it compares them with: for each NumPy edge, the key of the smallest
// value of the field's type that is ≥ the edge, so `key(x) ≥ threshold` ⟺ `x ≥ edge` exactly.
import type { NumericType } from '../../layout/types.js';

export type KeyedType = Exclude<NumericType, 'i64' | 'u64'>;

const BYTES: Record<KeyedType, number> = { i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, f32: 4, f64: 8 };
const RANGE: Partial<Record<KeyedType, [number, number]>> = {
  i8: [-128, 127],
  u8: [0, 255],
  i16: [-32768, 32767],
  u16: [0, 65535],
  i32: [-(2 ** 31), 2 ** 31 - 1],
  u32: [0, 2 ** 32 - 1],
};

/** 16-bit parts per value (one part for 8-bit types, holding the byte). */
export function partsOf(type: KeyedType): number {
  return Math.max(1, BYTES[type] / 2);
}

/** The raw parts of the value at `pos`, most significant first, into out[at…]. */
export function readParts(dv: DataView, pos: number, type: KeyedType, le: boolean, out: Float32Array, at: number) {
  const n = BYTES[type];
  if (n === 1) out[at] = dv.getUint8(pos);
  else for (let k = 0; k < n / 2; k++) out[at + k] = dv.getUint16(pos + (le ? n - 2 - 2 * k : 2 * k), le);
}

/** A key no value reaches (a first part past 65535). */
const NEVER = (parts: number) => [65536, ...new Array<number>(parts - 1).fill(0)];

/** The key of `v` (a value of `type`), as the GPU kernel computes it from v's raw parts. */
export function keyOf(v: number, type: KeyedType): number[] {
  const dv = new DataView(new ArrayBuffer(8));
  if (type === 'f32') dv.setFloat32(0, v === 0 ? 0 : v);
  else if (type === 'f64') dv.setFloat64(0, v === 0 ? 0 : v);
  else if (type.startsWith('u')) dv.setUint32(0, v);
  else dv.setInt32(0, v);
  const raw = new Float32Array(4);
  // integers were written as 32 bits: read the low bytes of their width
  const pos = type === 'f32' || type === 'f64' ? 0 : 4 - BYTES[type];
  readParts(dv, pos, type, false, raw, 0);
  return transform(Array.from(raw.subarray(0, partsOf(type))), type);
}

/** The same transform as the kernel's (see hist.ts). */
function transform(p: number[], type: KeyedType): number[] {
  if (type === 'f32' || type === 'f64') {
    if (p[0]! >= 32768) return p.map((x) => 65535 - x);
    return [p[0]! + 32768, ...p.slice(1)];
  }
  if (type === 'i8') return [p[0]! ^ 128];
  if (type === 'i16' || type === 'i32') return [p[0]! ^ 32768, ...p.slice(1)];
  return p;
}

function nextUp32(f: number): number {
  if (f === 0) return 2 ** -149;
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, f);
  const b = dv.getUint32(0);
  dv.setUint32(0, f > 0 ? b + 1 : b - 1);
  return dv.getFloat32(0);
}

function nextUp64(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const b = dv.getBigUint64(0);
  dv.setBigUint64(0, x > 0 ? b + 1n : b - 1n);
  return dv.getFloat64(0);
}

/** The key of the smallest value of `type` that is ≥ e (strict: > e). */
export function thresholdKey(e: number, type: KeyedType, strict: boolean): number[] {
  const parts = partsOf(type);
  if (type === 'f64') return keyOf(strict ? nextUp64(e) : e, type);
  if (type === 'f32') {
    let f = Math.fround(e);
    if (f < e || (strict && f === e)) f = nextUp32(f);
    return keyOf(f, type);
  }
  const [min, max] = RANGE[type]!;
  const v = strict ? Math.floor(e) + 1 : Math.ceil(e);
  if (v > max) return NEVER(parts);
  return keyOf(Math.max(v, min), type);
}
