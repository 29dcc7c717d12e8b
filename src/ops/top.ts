// `top`: the k records with the largest (--asc: smallest) value of --by F, best first. Ties go to the
// earlier record in the file; NaN values never rank (-0 and +0 are equal). A partial is the chunk's
// best k records (index + bytes); merging two keeps the best k of both, which is associative, so the
// answer does not depend on workers or chunk size.
import type { ChunkInput, OpDef } from './types.js';
import type { Ctl, KernelSpan } from '../native/addon.js';
import type { Field } from '../layout/types.js';
import { type FieldArg, type FieldSpec, fieldSpec, numericField, numberReader, bigReader } from './lib/fields.js';
import { usage } from '../errors.js';
import { parsePositiveInt } from '../config/units.js';
import { type KeptRecord, type RowValue, recordRow, requireFirstRecord, rowsTable } from './lib/rows.js';

export const TOP_MAX_K = 1_000_000;

export interface TopSpec {
  by: string;
  field: FieldSpec;
  k: number;
  asc: boolean;
  fields: Field[];
  bigEndian: boolean;
}

export interface TopPartial {
  /** best first, at most k */
  rows: KeptRecord[];
}

export interface TopResult {
  by: string;
  k: number;
  rows: Record<string, RowValue>[];
}

/**
 * native/top.cc: the k records of the span with the largest (asc: smallest) field value, best first;
 * ties: lower index first; NaN never ranks. index is the record's number in the file (firstRecord +
 * its place in the span), bytes a copy of it. null when cancelled through ctl.
 */
export interface TopKernel {
  top(
    ...args: [...KernelSpan, field: FieldArg, k: number, asc: boolean, firstRecord: number, ctl?: Ctl | null]
  ): { index: number; bytes: Buffer }[] | null;
}

type Key = number | bigint;
interface Cand {
  v: Key;
  i: number;
  bytes?: Uint8Array;
}

function keyReader(f: FieldSpec): (dv: DataView, pos: number) => Key {
  return f.type === 'i64' || f.type === 'u64' ? bigReader(f.type, f.bigEndian) : numberReader(f.type, f.bigEndian);
}

/** a ranks before b */
function better(asc: boolean): (a: Cand, b: Cand) => boolean {
  return asc ? (a, b) => a.v < b.v || (a.v === b.v && a.i < b.i) : (a, b) => a.v > b.v || (a.v === b.v && a.i < b.i);
}

function sortBest(asc: boolean, xs: Cand[]): void {
  const bt = better(asc);
  xs.sort((a, b) => (bt(a, b) ? -1 : bt(b, a) ? 1 : 0));
}

export const top: OpDef<TopSpec, TopPartial, TopResult, TopKernel> = {
  name: 'top',
  reportsRecordNumbers: true,
  summary: 'the -k N (default 10) records with the largest (--asc: smallest) --by F; ties: earlier record first',
  flags: [
    { flags: '--by <field>', description: 'top: the numeric field to rank by; framestats: the column (e.g. mean)' },
    { flags: '-k, --top-k <n>', description: 'top: how many records (default 10, at most 1000000)' },
    { flags: '--asc', description: 'top: the smallest values instead of the largest' },
  ],
  prepare(options, layout) {
    if (options.by === undefined) throw usage('--op top needs --by FIELD, e.g. --by price');
    const f = numericField(layout, String(options.by), '--by');
    const k = parsePositiveInt((options.topK as string | number | undefined) ?? 10, '--top-k', TOP_MAX_K);
    const asc = options.asc === true || options.asc === 'true';
    return { by: f.name, field: fieldSpec(layout, f), k, asc, fields: layout.fields, bigEndian: layout.bigEndian };
  },
  init() {
    return { rows: [] };
  },
  js(spec, chunk: ChunkInput) {
    const first = requireFirstRecord('top', chunk);
    const read = keyReader(spec.field);
    const { k, asc } = spec;
    const { bytes, records, recordSize } = chunk;
    // Candidates accumulate up to 2k, then are sorted and cut back to k; `worst` is the k-th best
    // so far, and a record that does not beat it strictly (an equal value comes later) is skipped.
    let cands: Cand[] = [];
    let worst: Key | null = null;
    for (let i = 0, pos = spec.field.offset; i < records; i++, pos += recordSize) {
      const v = read(bytes, pos);
      if (Number.isNaN(v)) continue;
      if (worst !== null && (asc ? !(v < worst) : !(v > worst))) continue;
      cands.push({ v, i });
      if (cands.length >= 2 * k) {
        sortBest(asc, cands);
        cands = cands.slice(0, k);
        worst = cands[k - 1]!.v;
      }
    }
    sortBest(asc, cands);
    cands = cands.slice(0, k);
    const src = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      partial: {
        rows: cands.map((c) => ({ index: first + c.i, bytes: src.slice(c.i * recordSize, (c.i + 1) * recordSize) })),
      },
    };
  },
  native(spec, c) {
    const first = requireFirstRecord('top', c);
    const r = c.addon.top(c.mapping, c.byteOffset, c.records, c.recordSize, spec.field, spec.k, spec.asc, first, c.ctl);
    return r === null
      ? null
      : { partial: { rows: r.map((x) => ({ index: x.index, bytes: new Uint8Array(x.bytes) })) } };
  },
  merge(spec, a, b) {
    if (a.rows.length === 0) return b;
    if (b.rows.length === 0) return a;
    const read = keyReader(spec.field);
    const bt = better(spec.asc);
    const cand = (r: KeptRecord): Cand => ({
      v: read(new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength), spec.field.offset),
      i: r.index,
      bytes: r.bytes,
    });
    const xs = a.rows.map(cand);
    const ys = b.rows.map(cand);
    const out: KeptRecord[] = [];
    let i = 0,
      j = 0;
    while (out.length < spec.k && (i < xs.length || j < ys.length)) {
      const take = j >= ys.length || (i < xs.length && bt(xs[i]!, ys[j]!)) ? xs[i++]! : ys[j++]!;
      out.push({ index: take.i, bytes: take.bytes! });
    }
    return { rows: out };
  },
  finalize(spec, p) {
    return { by: spec.by, k: spec.k, rows: p.rows.map((r) => recordRow(spec, r)) };
  },
  format(spec, r) {
    return `top ${r.k} by ${r.by} (${spec.asc ? 'smallest' : 'largest'} first)\n${rowsTable(spec, r.rows)}`;
  },
};
