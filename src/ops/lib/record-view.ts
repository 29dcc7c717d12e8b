// What a user kernel sees of a chunk: named field accessors per record and per-field typed arrays for
// bulk work (copied out of the strided records once, on first use).
import type { FieldType } from '../../layout/types.js';

export interface ViewField {
  name: string;
  type: FieldType;
  offset: number;
  size: number;
}

type Column =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

const ARRAYS = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
  i64: BigInt64Array,
  u64: BigUint64Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;

export class RecordView {
  /** number of records in this chunk */
  readonly length: number;
  readonly recordSize: number;
  /** the chunk's raw bytes */
  readonly bytes: DataView;
  readonly fields: readonly ViewField[];
  private readonly byName = new Map<string, ViewField>();
  private readonly columns = new Map<string, Column>();
  private readonly le: boolean;

  constructor(bytes: DataView, length: number, recordSize: number, fields: ViewField[], bigEndian: boolean) {
    this.bytes = bytes;
    this.length = length;
    this.recordSize = recordSize;
    this.fields = fields;
    this.le = !bigEndian;
    for (const f of fields) this.byName.set(f.name, f);
  }

  private field(name: string): ViewField {
    const f = this.byName.get(name);
    if (!f) throw new RangeError(`no field ${JSON.stringify(name)} (fields: ${[...this.byName.keys()].join(', ')})`);
    return f;
  }

  /** Field `name` of record i (0-based within the chunk): a number, a bigint for i64/u64, bytes for bytes<N>. */
  get(i: number, name: string): number | bigint | Uint8Array {
    const f = this.field(name);
    const p = i * this.recordSize + f.offset;
    const dv = this.bytes;
    switch (f.type) {
      case 'i8':
        return dv.getInt8(p);
      case 'u8':
        return dv.getUint8(p);
      case 'i16':
        return dv.getInt16(p, this.le);
      case 'u16':
        return dv.getUint16(p, this.le);
      case 'i32':
        return dv.getInt32(p, this.le);
      case 'u32':
        return dv.getUint32(p, this.le);
      case 'i64':
        return dv.getBigInt64(p, this.le);
      case 'u64':
        return dv.getBigUint64(p, this.le);
      case 'f32':
        return dv.getFloat32(p, this.le);
      case 'f64':
        return dv.getFloat64(p, this.le);
      default:
        return new Uint8Array(dv.buffer, dv.byteOffset + p, f.size);
    }
  }

  /** All values of a numeric field in this chunk as a typed array (Float64Array for f64, BigInt64Array for i64, …). */
  column(name: string): Column {
    let c = this.columns.get(name);
    if (c) return c;
    const f = this.field(name);
    if (f.type === 'bytes') throw new TypeError(`field ${name} is bytes<${f.size}>: use get(i, name)`);
    c = new ARRAYS[f.type](this.length);
    for (let i = 0; i < this.length; i++) (c as unknown as (number | bigint)[])[i] = this.get(i, name) as number;
    this.columns.set(name, c);
    return c;
  }
}
