// `project`: selected fields of every record (or of those matching --where) converted for other tools,
// written through the engine's --out path (a file, atomically, or `-` for stdout) in file order:
//   csv    — a header line of field names (once, in the output of the chunk that starts at record 0),
//            then one line per record, fields separated by commas, lines ended by \n;
//   ndjson — one JSON object per line, keys in field order;
//   bin    — the selected fields' bytes packed per record (a new, smaller record; byte order unchanged);
//   columns — --out DIR: one file per field, `<field>.bin`, its raw bytes per record (byte order
//            unchanged), plus `_schema.json` describing them. A chunk's output is its columns one after
//            another (field 0's bytes of every selected record, then field 1's, …); the op's
//            openOutput hook hands the engine a ColumnsDir that splits them into the files.
// Number text is the same from both backends: integers in exact decimal (64-bit ones too, bare in
// NDJSON as JSON allows), floats as JavaScript's Number.prototype.toString writes them (f32 widened
// to double, -0 as 0; NaN, Infinity, -Infinity bare in CSV and as strings in NDJSON); bytes<N> as
// lowercase hex (a JSON string in NDJSON).
import type { ChunkInput, OpDef } from './types.js';
import type { Ctl, KernelSpan } from '../native/addon.js';
import type { Field, Layout } from '../layout/types.js';
import { expected, usage } from '../errors.js';
import { COLUMNS_MANIFEST, ColumnsDir } from '../engine/output-columns.js';
import { type Instr, programToTest } from './lib/predicate.js';
import { WHERE_FLAG, compileWhere } from './lib/where.js';

export const PROJECT_FORMATS = ['csv', 'ndjson', 'bin', 'columns'] as const;
export type ProjectFormat = (typeof PROJECT_FORMATS)[number];

export interface ProjectField {
  name: string;
  offset: number;
  /** a numeric type, or 'bytes' */
  type: Field['type'];
  size: number;
  bigEndian: boolean;
}

export interface ProjectSpec {
  format: ProjectFormat;
  fields: ProjectField[];
  /** text formats: what precedes each field's value on a line (`,` for CSV, `{"name":` / `,"name":` for NDJSON) */
  prefixes: string[];
  /** text formats: what ends a line */
  lineEnd: string;
  /** written once, before the first record (the CSV header line), else '' */
  header: string;
  where?: string;
  program?: Instr[];
  /** bin, columns: bytes per output record (the selected fields' sizes summed) */
  recordSize: number;
}

/** What native/project.cc writes: the selected fields, and for text formats the text around each value. */
export interface ProjectNativeSpec {
  format: ProjectFormat;
  fields: Pick<ProjectField, 'offset' | 'type' | 'size' | 'bigEndian'>[];
  /** text formats: the text before each field's value on a line */
  prefixes: string[];
  /** text formats: the text that ends each line */
  lineEnd: string;
}

/**
 * native/project.cc: the selected fields of the records matching program (null: all) as CSV / NDJSON
 * lines, packed binary records or columns, after header; numbers as JavaScript prints them, bytes as
 * lowercase hex. records: how many were written; out owns its ArrayBuffer. null when cancelled.
 */
export interface ProjectKernel {
  project(
    ...args: [
      ...KernelSpan,
      spec: ProjectNativeSpec,
      program: readonly Instr[] | null,
      header: string,
      ctl?: Ctl | null,
    ]
  ): { records: number; out: Uint8Array } | null;
}

export interface ProjectPartial {
  records: number;
  bytes: number;
}

export interface ProjectResult {
  records: number;
  format: ProjectFormat;
  fields: string[];
  bytes: number;
  /** bin: bytes per output record and the schema that reads the output back */
  record_size?: number;
  schema?: string;
  /** columns: each field's file in the --out directory and the schema that reads it back */
  columns?: { name: string; file: string; schema: string }[];
}

function typeText(f: ProjectField): string {
  return f.type === 'bytes' ? `bytes<${f.size}>` : f.type;
}

/** The schema that reads one column file back: `[>]name:type`. */
function columnSchema(f: ProjectField): string {
  return `${f.bigEndian ? '>' : ''}${f.name}:${typeText(f)}`;
}

/** The NumPy dtype of a column (`np.fromfile(path, dtype)`). */
function numpyDtype(f: ProjectField): string {
  if (f.type === 'bytes') return `|V${f.size}`;
  const kind = f.type[0] === 'f' ? 'f' : f.type[0] === 'u' ? 'u' : 'i';
  return `${f.size === 1 ? '|' : f.bigEndian ? '>' : '<'}${kind}${f.size}`;
}

/** --format columns: the directory of column files the engine writes each chunk's output into. */
export function openColumns(spec: ProjectSpec, path: string): ColumnsDir {
  const columns = spec.fields.map((f) => ({
    name: f.name,
    size: f.size,
    meta: {
      type: typeText(f),
      byte_order: f.bigEndian ? 'big' : 'little',
      dtype: numpyDtype(f),
      schema: columnSchema(f),
    },
  }));
  return new ColumnsDir(path, columns, {
    format: 'bigproc-columns',
    version: 1,
    ...(spec.where ? { where: spec.where } : {}),
  });
}

export function prepareProject(options: Record<string, unknown>, layout: Layout): ProjectSpec {
  if (options.out === undefined || options.out === '' || options.out === false) {
    throw usage('--op project needs --out PATH (or --out - for stdout)');
  }
  const fmt = String(options.format ?? 'csv')
    .trim()
    .toLowerCase();
  if (!(PROJECT_FORMATS as readonly string[]).includes(fmt))
    throw expected('--format', `one of ${PROJECT_FORMATS.join(', ')}`, String(options.format));
  const format = fmt as ProjectFormat;
  if (format === 'columns') {
    if (options.out === '-')
      throw expected(
        '--out',
        'a directory path with --format columns (one file per field; stdout cannot hold them)',
        '-',
      );
    if (options.manifest !== undefined) {
      throw usage(
        '--format columns writes one directory from one run: it cannot be assembled from the parts of a --manifest run (use bin, or run without --manifest)',
      );
    }
  }
  if (layout.fields.length === 0) {
    throw expected(
      '--op project',
      'a layout with named fields (--schema, @layout.json or an .npy file)',
      layout.source,
    );
  }
  let chosen: Field[];
  if (options.fields === undefined || options.fields === true) {
    chosen = layout.fields;
  } else {
    const names = String(options.fields)
      .split(',')
      .map((s) => s.trim());
    chosen = names.map((name) => {
      const f = layout.fields.find((x) => x.name === name);
      if (!f)
        throw expected(
          '--fields',
          `a comma-separated list of fields of the layout (${layout.fields.map((x) => x.name).join(', ')})`,
          name,
        );
      return f;
    });
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw expected('--fields', 'each field once', String(options.fields));
  }
  const fields: ProjectField[] = chosen.map((f) => ({
    name: f.name,
    offset: f.offset,
    type: f.type,
    size: f.size,
    bigEndian: layout.bigEndian,
  }));
  const prefixes =
    format === 'csv'
      ? fields.map((_, i) => (i === 0 ? '' : ','))
      : format === 'ndjson'
        ? fields.map((f, i) => `${i === 0 ? '{' : ','}${JSON.stringify(f.name)}:`)
        : [];
  const lineEnd = format === 'csv' ? '\n' : format === 'ndjson' ? '}\n' : '';
  const header = format === 'csv' ? `${fields.map((f) => f.name).join(',')}\n` : '';
  const spec: ProjectSpec = {
    format,
    fields,
    prefixes,
    lineEnd,
    header,
    recordSize: fields.reduce((s, f) => s + f.size, 0),
  };
  if (options.where !== undefined && String(options.where).trim() !== '') {
    spec.where = String(options.where);
    spec.program = compileWhere(spec.where, layout);
  }
  return spec;
}

/** Whether this chunk carries the header: it starts at the file's first record. */
function headerFor(spec: ProjectSpec, chunk: { firstRecord?: number }): string {
  return chunk.firstRecord === 0 ? spec.header : '';
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** One field's text, as the native kernel writes it. */
type Writer = (dv: DataView, base: number) => string;

function writer(f: ProjectField, quote: boolean): Writer {
  const le = !f.bigEndian;
  const p = f.offset;
  const num = (x: number) => (quote && !Number.isFinite(x) ? `"${String(x)}"` : String(x));
  switch (f.type) {
    case 'i8':
      return (dv, b) => String(dv.getInt8(b + p));
    case 'u8':
      return (dv, b) => String(dv.getUint8(b + p));
    case 'i16':
      return (dv, b) => String(dv.getInt16(b + p, le));
    case 'u16':
      return (dv, b) => String(dv.getUint16(b + p, le));
    case 'i32':
      return (dv, b) => String(dv.getInt32(b + p, le));
    case 'u32':
      return (dv, b) => String(dv.getUint32(b + p, le));
    case 'i64':
      return (dv, b) => dv.getBigInt64(b + p, le).toString();
    case 'u64':
      return (dv, b) => dv.getBigUint64(b + p, le).toString();
    case 'f32':
      return (dv, b) => num(dv.getFloat32(b + p, le));
    case 'f64':
      return (dv, b) => num(dv.getFloat64(b + p, le));
    default: {
      const n = f.size;
      return (dv, b) => {
        let s = quote ? '"' : '';
        for (let i = 0; i < n; i++) s += HEX[dv.getUint8(b + p + i)]!;
        return quote ? `${s}"` : s;
      };
    }
  }
}

/** The JS oracle: the chunk's output bytes and how many records went into them. */
export function projectJs(spec: ProjectSpec, chunk: ChunkInput): { records: number; out: Uint8Array } {
  const { bytes, records, recordSize } = chunk;
  const test = spec.program ? programToTest(spec.program) : null;
  const header = headerFor(spec, chunk);
  let matched = 0;
  if (spec.format === 'columns') {
    // Where each selected record starts, then every field's bytes for all of them, field after field.
    const src = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bases: number[] = [];
    for (let i = 0, base = 0; i < records; i++, base += recordSize) if (!test || test(bytes, base)) bases.push(base);
    const out = new Uint8Array(bases.length * spec.recordSize);
    let o = 0;
    for (const f of spec.fields) {
      const n = f.size;
      for (const base of bases) {
        const p = base + f.offset;
        for (let k = 0; k < n; k++) out[o + k] = src[p + k]!;
        o += n;
      }
    }
    return { records: bases.length, out };
  }
  if (spec.format === 'bin') {
    const headerBytes = new TextEncoder().encode(header);
    const out = new Uint8Array(headerBytes.length + records * spec.recordSize);
    out.set(headerBytes, 0);
    const src = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let o = headerBytes.length;
    for (let i = 0, base = 0; i < records; i++, base += recordSize) {
      if (test && !test(bytes, base)) continue;
      matched++;
      for (const f of spec.fields) {
        out.set(src.subarray(base + f.offset, base + f.offset + f.size), o);
        o += f.size;
      }
    }
    return { records: matched, out: out.slice(0, o) };
  }
  const writers = spec.fields.map((f) => writer(f, spec.format === 'ndjson'));
  const { prefixes, lineEnd } = spec;
  const parts: string[] = [header];
  for (let i = 0, base = 0; i < records; i++, base += recordSize) {
    if (test && !test(bytes, base)) continue;
    matched++;
    let line = '';
    for (let j = 0; j < writers.length; j++) line += prefixes[j]! + writers[j]!(bytes, base);
    parts.push(line + lineEnd);
  }
  return { records: matched, out: new TextEncoder().encode(parts.join('')) };
}

export const project: OpDef<ProjectSpec, ProjectPartial, ProjectResult, ProjectKernel> = {
  name: 'project',
  summary:
    'selected --fields as --format csv|ndjson|bin (optionally --where …) written to --out PATH or - (stdout), or as columns: --out DIR of <field>.bin files',
  writesRecords: true,
  flags: [
    {
      flags: '--fields <a,b>',
      description:
        'stats: the fields to summarise (default: every numeric field); project: the fields to write (default: all)',
    },
    {
      flags: '--format <fmt>',
      description:
        'project: csv (with a header line), ndjson, bin (the fields packed per record) or columns (--out DIR: one <field>.bin per field and _schema.json); default csv. image: raw, npy or png (--out DIR/: one PNG per frame)',
    },
    WHERE_FLAG,
  ],
  prepare(options, layout) {
    return prepareProject(options, layout);
  },
  openOutput(spec, path) {
    return spec.format === 'columns' ? openColumns(spec, path) : undefined;
  },
  writesDirectory: (options) =>
    String(options.format ?? '')
      .trim()
      .toLowerCase() === 'columns',
  init() {
    return { records: 0, bytes: 0 };
  },
  js(spec, chunk) {
    const r = projectJs(spec, chunk);
    return { partial: { records: r.records, bytes: r.out.byteLength }, output: r.out };
  },
  native(spec, c) {
    const native: ProjectNativeSpec = {
      format: spec.format,
      fields: spec.fields.map((f) => ({ offset: f.offset, type: f.type, size: f.size, bigEndian: f.bigEndian })),
      prefixes: spec.prefixes,
      lineEnd: spec.lineEnd,
    };
    const r = c.addon.project(
      c.mapping,
      c.byteOffset,
      c.records,
      c.recordSize,
      native,
      spec.program ?? null,
      headerFor(spec, c),
      c.ctl,
    );
    if (r === null) return null;
    return { partial: { records: r.records, bytes: r.out.byteLength }, output: r.out };
  },
  merge(_spec, a, b) {
    return { records: a.records + b.records, bytes: a.bytes + b.bytes };
  },
  finalize(spec, p) {
    const r: ProjectResult = {
      records: p.records,
      format: spec.format,
      fields: spec.fields.map((f) => f.name),
      bytes: p.bytes,
    };
    if (spec.format === 'bin') {
      r.record_size = spec.recordSize;
      r.schema = `${spec.fields[0]?.bigEndian ? '>' : ''}${spec.fields.map((f) => `${f.name}:${typeText(f)}`).join(',')}`;
    } else if (spec.format === 'columns') {
      r.columns = spec.fields.map((f) => ({ name: f.name, file: `${f.name}.bin`, schema: columnSchema(f) }));
    }
    return r;
  },
  format(spec, r) {
    const what = spec.where ? ` where ${spec.where}` : '';
    const files = r.columns ? `, one <field>.bin each and ${COLUMNS_MANIFEST}` : '';
    return `projected ${r.records} records${what} as ${r.format} (${r.fields.join(', ')}${files}): ${r.bytes} bytes`;
  },
};
