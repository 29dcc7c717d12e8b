// Reading one field of one record from a DataView: the JS backend's loads, and the field specs the
// native kernels take.
import type { Field, Layout, NumericType } from '../../layout/types.js';
import { expected } from '../../errors.js';
import { isNumeric } from '../../layout/types.js';

export interface FieldSpec {
  offset: number;
  type: NumericType;
  bigEndian: boolean;
}

/** A field as a kernel takes it: bigEndian may be left out (little-endian), as native/args.h allows. */
export type FieldArg = Omit<FieldSpec, 'bigEndian'> & { bigEndian?: boolean };

export function fieldSpec(layout: Layout, field: Field): FieldSpec {
  return { offset: field.offset, type: field.type as NumericType, bigEndian: layout.bigEndian };
}

/** Look up a numeric field by name; the error lists what the layout has. */
export function numericField(layout: Layout, name: string, param: string): Field {
  const f = layout.fields.find((x) => x.name === name);
  const numeric = layout.fields.filter((x) => isNumeric(x.type)).map((x) => x.name);
  if (!f)
    throw expected(
      param,
      `a field of the layout (${numeric.join(', ') || 'none: the layout has no numeric fields'})`,
      name,
    );
  if (!isNumeric(f.type)) throw expected(param, `a numeric field, not ${f.type}<${f.size}>`, name);
  return f;
}

export type NumberReader = (dv: DataView, pos: number) => number;
export type BigReader = (dv: DataView, pos: number) => bigint;

/** A reader returning the field as a double (64-bit integers rounded to nearest, as static_cast<double>). */
export function numberReader(type: NumericType, bigEndian: boolean): NumberReader {
  const le = !bigEndian;
  switch (type) {
    case 'i8':
      return (dv, p) => dv.getInt8(p);
    case 'u8':
      return (dv, p) => dv.getUint8(p);
    case 'i16':
      return (dv, p) => dv.getInt16(p, le);
    case 'u16':
      return (dv, p) => dv.getUint16(p, le);
    case 'i32':
      return (dv, p) => dv.getInt32(p, le);
    case 'u32':
      return (dv, p) => dv.getUint32(p, le);
    case 'i64':
      return (dv, p) => Number(dv.getBigInt64(p, le));
    case 'u64':
      return (dv, p) => Number(dv.getBigUint64(p, le));
    case 'f32':
      return (dv, p) => dv.getFloat32(p, le);
    case 'f64':
      return (dv, p) => dv.getFloat64(p, le);
  }
}

/** A reader returning 64-bit integer fields exactly. */
export function bigReader(type: 'i64' | 'u64', bigEndian: boolean): BigReader {
  const le = !bigEndian;
  return type === 'i64' ? (dv, p) => dv.getBigInt64(p, le) : (dv, p) => dv.getBigUint64(p, le);
}

export const INT_RANGE: Record<Exclude<NumericType, 'f32' | 'f64'>, [bigint, bigint]> = {
  i8: [-128n, 127n],
  u8: [0n, 255n],
  i16: [-32768n, 32767n],
  u16: [0n, 65535n],
  i32: [-2147483648n, 2147483647n],
  u32: [0n, 4294967295n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u64: [0n, 2n ** 64n - 1n],
};
