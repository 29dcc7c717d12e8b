// `sample`: a uniform random sample of -n N records without replacement, reproducible by --seed and
// independent of workers and chunk size. Record i of the file gets the key
// splitmix64(seed ^ (i · 0x9E3779B97F4A7C15 mod 2^64)); the sample is the N smallest keys (ties: the
// lower record number), printed in file order. A partial is the chunk's N smallest (key, index, bytes).
import type { ChunkInput, OpDef } from './types.js';
import type { Ctl, KernelSpan } from '../native/addon.js';
import type { Field } from '../layout/types.js';
import { expected, usage } from '../errors.js';
import { parsePositiveInt } from '../config/units.js';
import { splitmix64 } from '../gen/generate.js';
import { type KeptRecord, type RowValue, recordRow, requireFirstRecord, rowsTable } from './lib/rows.js';

export const SAMPLE_MAX_N = 1_000_000;
const M64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

export interface SampleSpec {
  n: number;
  /** the seed reduced modulo 2^64 */
  seed: bigint;
  fields: Field[];
  bigEndian: boolean;
}

export interface SampleKept extends KeptRecord {
  key: bigint;
}

export interface SamplePartial {
  /** by (key, index), at most n */
  rows: SampleKept[];
}

/**
 * native/sample.cc: the at most n records of the span with the smallest keys
 * splitmix64(seed ^ (i·0x9E3779B97F4A7C15 mod 2^64)), i the record number in the file, by (key, index)
 * ascending: keys, record numbers, bytes concatenated. null when cancelled through ctl.
 */
export interface SampleKernel {
  sample(
    ...args: [...KernelSpan, n: number, seed: bigint, firstRecord: number, ctl?: Ctl | null]
  ): { keys: BigUint64Array; indices: Float64Array; bytes: Uint8Array } | null;
}

export interface SampleResult {
  n: number;
  seed: string;
  rows: Record<string, RowValue>[];
}

export function sampleKey(seed: bigint, index: number): bigint {
  return splitmix64(seed ^ ((BigInt(index) * GOLDEN) & M64));
}

const less = (a: { key: bigint; index: number }, b: { key: bigint; index: number }) =>
  a.key < b.key || (a.key === b.key && a.index < b.index);

export function parseSeed(text: string | number | undefined): bigint {
  const s = String(text ?? '1').trim();
  if (!/^-?\d+$/.test(s)) throw expected('--seed', 'an integer', String(text));
  return BigInt.asUintN(64, BigInt(s));
}

export const sample: OpDef<SampleSpec, SamplePartial, SampleResult, SampleKernel> = {
  name: 'sample',
  reportsRecordNumbers: true,
  summary:
    'a uniform random sample of -n N records without replacement, reproducible by --seed S (default 1), in file order',
  flags: [
    { flags: '-n, --sample-size <n>', description: 'sample: how many records (at most 1000000)' },
    { flags: '--seed <s>', description: 'sample: random seed, an integer (default 1)' },
  ],
  prepare(options, layout) {
    if (options.sampleSize === undefined) throw usage('--op sample needs -n N (--sample-size), e.g. -n 100');
    const n = parsePositiveInt(options.sampleSize as string | number, '--sample-size', SAMPLE_MAX_N);
    return {
      n,
      seed: parseSeed(options.seed as string | number | undefined),
      fields: layout.fields,
      bigEndian: layout.bigEndian,
    };
  },
  init() {
    return { rows: [] };
  },
  js(spec, chunk: ChunkInput) {
    const first = requireFirstRecord('sample', chunk);
    const { n, seed } = spec;
    const { bytes, records, recordSize } = chunk;
    // Keys accumulate up to 2n, then are sorted and cut back to n; a key not below the n-th smallest
    // so far cannot enter (an equal key belongs to a later record, which loses the tie).
    let cands: { key: bigint; index: number }[] = [];
    let worst: bigint | null = null;
    for (let i = 0; i < records; i++) {
      const key = sampleKey(seed, first + i);
      if (worst !== null && key >= worst) continue;
      cands.push({ key, index: i });
      if (cands.length >= 2 * n) {
        cands.sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
        cands = cands.slice(0, n);
        worst = cands[n - 1]!.key;
      }
    }
    cands.sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
    const src = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return {
      partial: {
        rows: cands.slice(0, n).map((c) => ({
          key: c.key,
          index: first + c.index,
          bytes: src.slice(c.index * recordSize, (c.index + 1) * recordSize),
        })),
      },
    };
  },
  native(spec, c) {
    const first = requireFirstRecord('sample', c);
    const r = c.addon.sample(c.mapping, c.byteOffset, c.records, c.recordSize, spec.n, spec.seed, first, c.ctl);
    if (r === null) return null;
    const rs = c.recordSize;
    const rows: SampleKept[] = [];
    for (let j = 0; j < r.indices.length; j++) {
      rows.push({ key: r.keys[j]!, index: r.indices[j]!, bytes: r.bytes.slice(j * rs, (j + 1) * rs) });
    }
    return { partial: { rows } };
  },
  merge(spec, a, b) {
    if (a.rows.length === 0) return b;
    if (b.rows.length === 0) return a;
    const out: SampleKept[] = [];
    let i = 0,
      j = 0;
    while (out.length < spec.n && (i < a.rows.length || j < b.rows.length)) {
      out.push(j >= b.rows.length || (i < a.rows.length && less(a.rows[i]!, b.rows[j]!)) ? a.rows[i++]! : b.rows[j++]!);
    }
    return { rows: out };
  },
  finalize(spec, p) {
    const rows = [...p.rows].sort((x, y) => x.index - y.index);
    return { n: spec.n, seed: spec.seed.toString(), rows: rows.map((r) => recordRow(spec, r)) };
  },
  format(spec, r) {
    return `sample of ${r.rows.length} (n ${r.n}, seed ${r.seed})\n${rowsTable(spec, r.rows)}`;
  },
};
