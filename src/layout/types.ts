// What a record looks like: fields with types and byte offsets. Pure data, shared by every module.

export const NUMERIC_TYPES = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64'] as const;
export type NumericType = (typeof NUMERIC_TYPES)[number];

/** `bytes` fields are opaque (never aggregated); `pad` fields are skipped and not listed in `fields`. */
export type FieldType = NumericType | 'bytes';

export interface Field {
  name: string;
  type: FieldType;
  /** byte offset inside the record */
  offset: number;
  /** bytes the field occupies (the type's width, or N for bytes<N>) */
  size: number;
}

export interface Layout {
  /** bytes per record, including padding */
  recordSize: number;
  /** true when every multi-byte field is stored big-endian */
  bigEndian: boolean;
  /** named fields in record order; padding is not listed. Empty for opaque `--record-size` records. */
  fields: Field[];
  /** bytes to skip at the start of the file (an .npy header, or --header-bytes) */
  headerBytes: number;
  /** where the layout came from, for messages: 'schema', 'json', 'npy', 'record-size', 'frame' */
  source: string;
  /** set for --frame WxHxC layouts */
  frame?: { width: number; height: number; channels: number };
  /** the record count a header promises (an .npy shape); the planner checks the file holds exactly that many */
  expectedRecords?: number;
}

export const TYPE_SIZE: Record<NumericType, number> = {
  i8: 1,
  u8: 1,
  i16: 2,
  u16: 2,
  i32: 4,
  u32: 4,
  i64: 8,
  u64: 8,
  f32: 4,
  f64: 8,
};

export function isNumeric(t: FieldType): t is NumericType {
  return t !== 'bytes';
}

export function isFloat(t: FieldType): boolean {
  return t === 'f32' || t === 'f64';
}

export function isInteger(t: FieldType): boolean {
  return t !== 'bytes' && t !== 'f32' && t !== 'f64';
}
