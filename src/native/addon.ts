// Loader and types for the native addon (build/Release/bigproc.node): mmap'd files, exact stats,
// histograms, filters and the synthetic-record generator. loadAddon() returns null (never throws)
// when the addon is missing or broken; addonLoadError() then says why and what to run.

import { packageRoot } from '../package-root.js';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { NumericType } from '../layout/types.js';

export type { NumericType };

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** A numeric field inside a record. */
export interface FieldSpec {
  /** byte offset inside the record; offset + the type's width must be <= recordSize */
  offset: number;
  type: NumericType;
  /** stored big-endian (default false) */
  bigEndian?: boolean;
}

/**
 * Progress/cancel block shared with the kernels: a SharedArrayBuffer of at least 12 bytes.
 * Bytes 0..7: int64 progress (bytes processed; read with Atomics on a BigInt64Array).
 * Bytes 8..11: int32 cancel flag (set nonzero to stop; the call then returns null).
 * The kernels also accept a typed array over such a buffer (8-byte aligned), or undefined/null.
 */
export type Ctl = SharedArrayBuffer;

/** Partial stats of an integer field: exact, as bigints. */
export interface StatsIntPartial {
  /** records seen */
  count: number;
  /** exact Σx */
  sum: bigint;
  /** exact Σx² */
  sumsq: bigint;
  /** null when count is 0 */
  min: bigint | null;
  max: bigint | null;
}

/**
 * Partial stats of a float field (f32 values are widened exactly to double).
 * sum and sumsq are exact scaled integers: Σx = sum·2^-1074 and Σx² = sumsq·2^-2148, over the finite
 * values only.
 */
export interface StatsFloatPartial {
  /** non-NaN values (infinities included) */
  count: number;
  nan: number;
  posinf: number;
  neginf: number;
  /** S with Σx (finite values) = S·2^-1074, exactly */
  sum: bigint;
  /** Q with Σx² (finite values) = Q·2^-2148, exactly */
  sumsq: bigint;
  /** smallest non-NaN value (−0 when the smallest is zero and a −0 was seen); null when count is 0 */
  min: number | null;
  /** largest non-NaN value (+0 when the largest is zero and a +0 was seen); null when count is 0 */
  max: number | null;
}

export type StatsPartial = StatsIntPartial | StatsFloatPartial;

/** Histogram with NumPy's binning (last bin closed); values outside [lo, hi] and NaN counted apart. */
export interface HistPartial {
  /** length bins */
  counts: number[];
  /** x < lo */
  below: number;
  /** x > hi */
  above: number;
  nan: number;
}

export type CmpOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';

/** Compare a field with a constant: bigint (within the type's range) for integer types, number for f32/f64. */
export interface FilterCmp {
  op: 'cmp';
  offset: number;
  type: NumericType;
  bigEndian?: boolean;
  cmp: CmpOp;
  value: bigint | number;
}

/** One instruction of a postfix predicate program. The program must leave exactly one value. */
export type FilterInstr = FilterCmp | { op: 'const'; value: boolean } | { op: 'and' } | { op: 'or' } | { op: 'not' };

export interface FilterPartial {
  matched: number;
  /** the matching records' bytes, in file order (matched * recordSize bytes); only when wantOutput */
  out?: Buffer;
}

/** What groupby() groups by and aggregates. */
export interface GroupbyNativeSpec {
  /** key fields in order: integer fields (kind 'int' with their type) or bytes<N> (kind 'bytes', size N) */
  keys: { offset: number; size: number; kind: 'int' | 'bytes'; type?: NumericType; bigEndian?: boolean }[];
  /** aggregated numeric fields; sum: accumulate Σx (floats only; integers always), sq: accumulate Σx² */
  fields: (FieldSpec & { sum?: boolean; sq?: boolean })[];
  /** 1..1e9: more distinct keys than this makes the call return {n: 0, …, overflow: true} */
  maxGroups: number;
}

/** groupby() columns of an integer field: i128 sums as (lo, hi) words, Σx² as 3 words (empty without sq), min/max as the value's 64 bits. */
export interface GroupbyIntColumns {
  kind: 'int';
  sum: BigInt64Array;
  sumsq: BigInt64Array;
  min: BigInt64Array;
  max: BigInt64Array;
}

/**
 * groupby() columns of a float field. min/max are NaN for a group without non-NaN values. Exact sums,
 * normalized (odd mantissa, or 0 with exponent 0): Σx = sum[i]·2^(sumExp[i]−1074) (empty without sum),
 * Σx² = sumsq[i]·2^(sqExp[i]−2148) (empty without sq), over the finite values.
 */
export interface GroupbyFloatColumns {
  kind: 'float';
  nan: Float64Array;
  posinf: Float64Array;
  neginf: Float64Array;
  min: Float64Array;
  max: Float64Array;
  sum: bigint[];
  sumExp: Int32Array;
  sumsq: bigint[];
  sqExp: Int32Array;
}

/** groupby()'s groups, sorted by canonical key (W bytes each): keys, record counts, columns per field. */
export interface GroupbyNativePartial {
  n: number;
  keys: Uint8Array;
  counts: Float64Array;
  accs: (GroupbyIntColumns | GroupbyFloatColumns)[];
  overflow?: boolean;
}

/** One record kept by top(): its 0-based record number in the file and a copy of its bytes. */
export interface TopRow {
  index: number;
  bytes: Buffer;
}

/** The records kept by sample(), by (key, index) ascending: keys, record numbers in the file, bytes concatenated. */
export interface SampleKeptNative {
  keys: BigUint64Array;
  indices: Float64Array;
  bytes: Uint8Array;
}

/** What project() writes: the selected fields, and for text formats the text around each value. */
export interface ProjectNativeSpec {
  format: 'csv' | 'ndjson' | 'bin' | 'columns';
  /** numeric fields as FieldSpec; bytes<N> fields as {offset, type: 'bytes', size: N} */
  fields: { offset: number; type: NumericType | 'bytes'; size: number; bigEndian?: boolean }[];
  /** text formats: the text before each field's value on a line */
  prefixes: string[];
  /** text formats: the text that ends each line */
  lineEnd: string;
}

export interface ProjectPartial {
  /** records written (those matching the program) */
  records: number;
  /** header + the records' text (or packed bytes); owns its ArrayBuffer */
  out: Uint8Array;
}

/** Distributions for gen(). Integer fields take bigints (inclusive bounds), float fields numbers. */
export type GenDist =
  | { kind: 'uniform'; lo: bigint | number; hi: bigint | number }
  | { kind: 'normal'; mean: number; sd: number }
  | { kind: 'seq'; start: bigint | number; step: bigint | number }
  | { kind: 'const'; value: bigint | number };

export interface GenFieldSpec {
  offset: number;
  /** the type's width, or N for bytes<N> */
  size: number;
  type: NumericType | 'bytes';
  bigEndian?: boolean;
  /** required for numeric fields; bytes fields have none */
  dist?: GenDist;
}

export interface MappingStat {
  size: number;
  mtimeMs: number;
}

/** A read-only mmap of a whole file. */
export interface Mapping {
  /** bytes, from the fstat at open */
  readonly size: number;
  /** from the fstat at open */
  readonly mtimeMs: number;
  /** fresh fstat of the open file (detects a file changed during a run); throws after close() */
  stat(): MappingStat;
  /**
   * Zero-copy ArrayBuffer over [offset, offset + length) of the mapping. Read-only memory: do not write
   * to it, and do not use it after close().
   */
  view(offset: number, length: number): ArrayBuffer;
  /** munmap + close (idempotent); later kernel calls throw */
  close(): void;
  /** drop the page-table entries of the pages wholly inside the range (the data stays cached) */
  dropPages(offset: number, length: number): void;
}

export interface MappingConstructor {
  /** Throws Error `cannot map <path>: <reason>` with `code` (ENOENT, EACCES, EISDIR…). */
  new (path: string): Mapping;
}

export interface CpuInfo {
  arch: string;
  features: string[];
  /** the kernel clone chosen on this machine */
  dispatch: 'avx512f' | 'avx2' | 'default' | 'neon';
}

/**
 * The native module. Kernels take (mapping, byteOffset, records, recordSize, …, ctl), check that
 * byteOffset + records*recordSize fits the mapping (TypeError otherwise), and return null when
 * cancelled through ctl. A file that shrinks under the mapping makes them throw an Error with
 * code 'EFILECHANGED'.
 */
export interface Addon {
  cpuInfo(): CpuInfo;
  Mapping: MappingConstructor;
  stats(
    mapping: Mapping | Uint8Array,
    byteOffset: number,
    records: number,
    recordSize: number,
    fields: FieldSpec[],
    ctl?: Ctl | null,
  ): StatsPartial[] | null;
  hist(
    mapping: Mapping | Uint8Array,
    byteOffset: number,
    records: number,
    recordSize: number,
    field: FieldSpec,
    lo: number,
    hi: number,
    bins: number,
    ctl?: Ctl | null,
  ): HistPartial | null;
  filter(
    mapping: Mapping | Uint8Array,
    byteOffset: number,
    records: number,
    recordSize: number,
    program: FilterInstr[],
    wantOutput: boolean,
    ctl?: Ctl | null,
  ): FilterPartial | null;
  /** The k (1..1e6) records with the largest (asc: smallest) field value, best first; ties: lower index first; NaN never ranks. */
  top(
    mapping: Mapping | Uint8Array,
    byteOffset: number,
    records: number,
    recordSize: number,
    field: FieldSpec,
    k: number,
    asc: boolean,
    firstRecord: number,
    ctl?: Ctl | null,
  ): TopRow[] | null;
  /**
   * Hash aggregation by the canonical key (key fields in order; integers big-endian with the sign bit
   * flipped, bytes as stored): per group the record count and, per field, exact accumulators in
   * columns. program: a --where program or null.
   */
  groupby(
    mapping: Mapping | Uint8Array,
    byteOffset: number,
    records: number,
    recordSize: number,
    spec: GroupbyNativeSpec,
    program: FilterInstr[] | null,
    ctl?: Ctl | null,
  ): GroupbyNativePartial | null;
  /**
   * The at most n (1..1e6) records with the smallest keys splitmix64(seed ^ (i·0x9E3779B97F4A7C15 mod 2^64)),
   * i the record number in the file, sorted by (key, index).
   */
  sample(
    mapping: Mapping | Uint8Array,
    byteOffset: number,
    records: number,
    recordSize: number,
    n: number,
    seed: bigint,
    firstRecord: number,
    ctl?: Ctl | null,
  ): SampleKeptNative | null;
  /** XXH64 (seed 0) or CRC32C of the bytes [byteOffset, byteOffset + records*recordSize) as lowercase hex (16 / 8 digits). */
  checksum(
    mapping: Mapping | Uint8Array,
    byteOffset: number,
    records: number,
    recordSize: number,
    algo: 'xxh64' | 'crc32c',
    ctl?: Ctl | null,
  ): string | null;
  /**
   * The selected fields of the records matching program (null: all) as CSV / NDJSON lines or packed
   * binary records, after header. Numbers as JavaScript prints them (integers exact; doubles and f32
   * widened as Number.prototype.toString; NaN/Infinity quoted in NDJSON); bytes as lowercase hex.
   */
  project(
    mapping: Mapping | Uint8Array,
    byteOffset: number,
    records: number,
    recordSize: number,
    spec: ProjectNativeSpec,
    program: FilterInstr[] | null,
    header: string,
    ctl?: Ctl | null,
  ): ProjectPartial | null;
  /** Fill target[0 .. records*recordSize) with records firstRecord .. firstRecord+records-1. */
  gen(
    target: Uint8Array,
    firstRecord: number,
    records: number,
    recordSize: number,
    fields: GenFieldSpec[],
    seed: bigint,
  ): void;
  /** The benchmarks' memory-read baseline: Σ of `words` 64-bit words from byteOffset, mod 2^64 (recordSize must be 8). */
  readBaseline(mapping: Mapping, byteOffset: number, words: number, recordSize: 8): bigint;
  /** Resize a pipe's kernel buffer (Linux F_SETPIPE_SZ): the new capacity in bytes, or -1. */
  setPipeSize(fd: number, bytes: number): number;
}

/** A ctl buffer with typed views on its two slots. */
export interface Control {
  buffer: SharedArrayBuffer;
  /** bytes processed so far (read with Atomics.load(progress, 0)) */
  progress: BigInt64Array;
  /** set with Atomics.store(cancel, 0, 1) to stop running kernels */
  cancel: Int32Array;
}

export function createControl(): Control {
  const buffer = new SharedArrayBuffer(16);
  return { buffer, progress: new BigInt64Array(buffer, 0, 1), cancel: new Int32Array(buffer, 8, 1) };
}

export function isFloatPartial(p: StatsPartial): p is StatsFloatPartial {
  return 'nan' in p;
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

const REBUILD_HINT = 'run "npm rebuild bigproc" (needs python3, make and a C++ compiler)';

let loaded: Addon | null | undefined;
let loadError: string | null = null;

/** The bigproc package root: walk up from this file until a package.json named "bigproc". */
function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0]?.trim() ?? message;
}

/** The native addon, or null when it cannot be loaded (see addonLoadError()). Cached. */
export function loadAddon(): Addon | null {
  if (loaded !== undefined) return loaded;
  // BIGPROC_ADDON names another build of the addon (e.g. a debug build) to load instead.
  const override = process.env.BIGPROC_ADDON;
  const root = override ? '' : packageRoot();
  if (root === null) {
    loadError = `native addon not found (no package.json named "bigproc" above ${fileURLToPath(import.meta.url)}): ${REBUILD_HINT}`;
    loaded = null;
    return loaded;
  }
  const file = override || join(root, 'build', 'Release', 'bigproc.node');
  if (!existsSync(file)) {
    loadError = `native addon not built (${file} is missing): ${REBUILD_HINT}`;
    loaded = null;
    return loaded;
  }
  try {
    const nodeRequire = createRequire(import.meta.url);
    loaded = nodeRequire(file) as Addon;
    loadError = null;
  } catch (e) {
    loadError = `native addon failed to load (${firstLine(e)}): ${REBUILD_HINT}`;
    loaded = null;
  }
  return loaded;
}

/** One line saying why loadAddon() returned null and what to run; null when it loaded. */
export function addonLoadError(): string | null {
  if (loaded === undefined) loadAddon();
  return loadError;
}
