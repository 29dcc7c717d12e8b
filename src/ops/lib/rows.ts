// Whole records as result rows (top, sample): every field of the layout decoded from a record's bytes.
// Integers are exact (beyond ±2^53 a decimal string), floats as floatJson writes them, bytes<N> as hex.
import type { Field } from '../../layout/types.js';
import { exactJson, floatJson } from './exact.js';
import { table } from '../../report/format.js';
import { dict } from '../../keys.js';

export type RowValue = number | string | null;

/** A record kept by top/sample: its 0-based record number in the file and a copy of its bytes. */
export interface KeptRecord {
  index: number;
  bytes: Uint8Array;
}

export interface RowLayout {
  fields: Field[];
  bigEndian: boolean;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function decodeField(f: Field, dv: DataView, le: boolean): RowValue {
  const p = f.offset;
  switch (f.type) {
    case 'i8':
      return dv.getInt8(p);
    case 'u8':
      return dv.getUint8(p);
    case 'i16':
      return dv.getInt16(p, le);
    case 'u16':
      return dv.getUint16(p, le);
    case 'i32':
      return dv.getInt32(p, le);
    case 'u32':
      return dv.getUint32(p, le);
    case 'i64':
      return exactJson(dv.getBigInt64(p, le));
    case 'u64':
      return exactJson(dv.getBigUint64(p, le));
    case 'f32':
      return floatJson(dv.getFloat32(p, le));
    case 'f64':
      return floatJson(dv.getFloat64(p, le));
    default:
      return hex(new Uint8Array(dv.buffer, dv.byteOffset + p, f.size));
  }
}

/** {index, <field>: value, …}; a field named "index" is shadowed by the record number. */
export function recordRow(layout: RowLayout, r: KeptRecord): Record<string, RowValue> {
  const dv = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
  const row = dict<RowValue>(); // field names are keys: "__proto__" must stay one
  row.index = r.index;
  for (const f of layout.fields) {
    if (f.name === 'index') continue;
    row[f.name] = decodeField(f, dv, !layout.bigEndian);
  }
  return row;
}

/** The rows as an aligned table: index, then every field. */
export function rowsTable(layout: RowLayout, rows: Record<string, RowValue>[]): string {
  const names = ['index', ...layout.fields.map((f) => f.name).filter((n) => n !== 'index')];
  if (rows.length === 0) return `${names.join('  ')}\n(no rows)`;
  return table(
    names,
    rows.map((r) => names.map((n) => (r[n] === null || r[n] === undefined ? '-' : String(r[n])))),
    0,
  );
}

/** The file's record number of the chunk's first record: ops that report record numbers need it. */
export function requireFirstRecord(op: string, chunk: { firstRecord?: number }): number {
  if (chunk.firstRecord === undefined) throw new Error(`${op} needs record numbers, which this input does not carry`);
  return chunk.firstRecord;
}
