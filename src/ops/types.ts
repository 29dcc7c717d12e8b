// The contract every op fulfils. An op is a mergeable partial result: init, process a chunk (in JS
// or natively), merge two partials in chunk order, finalize. Adding an op means one file in src/ops/
// plus a line in registry.ts; the engine knows nothing of what an op computes.
import type { Layout } from '../layout/types.js';
import type { Addon, Ctl, KernelSource } from '../native/addon.js';
import type { OutputTarget } from '../engine/output.js';

/** What the CLI hands an op: raw option strings as the user typed them. */
export type OpOptions = Record<string, string | number | boolean | undefined>;

/** Runs one full pass of another op over the same file (used e.g. by hist to find its range). */
export type PrePass = (op: string, options: OpOptions) => Promise<unknown>;

export interface ChunkInput {
  /** the chunk's bytes, record 0 at offset 0 */
  bytes: DataView;
  records: number;
  recordSize: number;
  /** 0-based record number in the file of the chunk's record 0 (absent when the records are not a file range) */
  firstRecord?: number;
}

/**
 * A chunk for the native path. K is the op's kernel, declared next to the op (e.g. StatsKernel in
 * stats.ts) and exported by native/<op>.cc: the engine hands every op the one loaded addon.
 */
export interface NativeChunkInput<K = unknown> {
  addon: Addon & K;
  /** the mapped file, or a typed array over a block read from a pipe */
  mapping: KernelSource;
  byteOffset: number;
  records: number;
  recordSize: number;
  ctl: Ctl;
  /** 0-based record number in the file of the chunk's record 0 (absent when the records are not a file range) */
  firstRecord?: number;
  /** a buffer of at least outputBytes(spec, records) bytes for the chunk's output, lent by the pass (see outputBytes) */
  outBuffer?: SharedArrayBuffer;
}

export interface ChunkResult<P> {
  partial: P;
  /** record bytes to write to --out, in file order within the chunk */
  output?: Uint8Array;
}

/** Partials folded in chunk order and finalized; engine/fold.ts makes them (here or in a thread of their own). */
export interface Fold {
  /** Fold `partial` in after every partial added before it (now, or soon in another thread). */
  add(partial: unknown): void;
  /** The partial folded so far (a copy, where the fold lives in another thread). */
  state(): Promise<unknown>;
  /** The op's result of the partial folded so far. */
  result(): Promise<unknown>;
  /** Called once with the first failure of an add that runs later (a fold in another thread). */
  onError(cb: (e: Error) => void): void;
  /** Done with it (frees what another thread holds). */
  close(): void;
}

/** A flag an op reads, declared with the op so `bigproc run --help` lists it (commander syntax). */
export interface OpFlag {
  /** e.g. '--field <name>' or '-k, --top <n>'; several ops may declare the same flag */
  flags: string;
  description: string;
}

/** An op: Spec its prepared options, P its partial result, R its result, K its native kernel (see NativeChunkInput). */
export interface OpDef<Spec, P, R, K = unknown> {
  name: string;
  /** one line for --help */
  summary: string;
  /** the op's own flags; their values reach prepare() in `options` under commander's camelCase names */
  flags?: OpFlag[];
  /** the op reports records' numbers in the file, which a pipeline sink's `where` subset does not have */
  reportsRecordNumbers?: boolean;
  /** true when the op can write records to --out */
  writesRecords?: boolean;
  /** the op has no native kernel: workers run its JS path whatever the backend */
  jsOnly?: boolean;
  /** its native kernels are the image kernels, whose instruction set the run names (CpuInfo.imageDispatch) */
  imageKernels?: boolean;
  /** async set-up a worker runs once per spec before its first chunk (e.g. importing a user module) */
  load?(spec: Spec): Promise<void>;
  /**
   * --out PATH written the op's own way (e.g. a directory of column files): called once before the
   * pass, gets every chunk's output bytes in file order, then commit() or abort(). Absent, or
   * undefined for this spec: the bytes go to one file, written atomically.
   */
  openOutput?(spec: Spec, path: string): OutputTarget | undefined;
  /**
   * Outputs the op opens itself when the run has no --out (a pipeline's sinks with their own "out"):
   * called once before the pass; gets every chunk's output bytes in file order, then commit() or abort().
   */
  ownOutput?(spec: Spec): OutputTarget | undefined;
  /** Output bytes per input record, for --max-memory (absent: the record size, an estimate for text output). */
  outputBytesPerRecord?(spec: Spec, recordSize: number): number;
  /** --out names a directory the op fills (absent: --out is one file, and a directory is refused) */
  writesDirectory?(options: OpOptions): boolean;
  /** Validate options against the layout into a plain, cloneable spec sent to every worker. */
  prepare(options: OpOptions, layout: Layout, prePass: PrePass): Spec | Promise<Spec>;
  init(spec: Spec): P;
  /**
   * Fold partials somewhere other than the main thread (engine/fold.ts): a user's kernel, whose init,
   * merge and finalize may never return, folds in a thread that exiting the process can end. Absent:
   * init, merge and finalize are called in the main thread.
   */
  openFold?(spec: Spec): Fold;
  js(spec: Spec, chunk: ChunkInput, wantOutput: boolean): ChunkResult<P>;
  /** null when the run was cancelled mid-chunk */
  native(spec: Spec, chunk: NativeChunkInput<K>, wantOutput: boolean): ChunkResult<P> | null;
  /**
   * The output bytes of a chunk of `records` records, for ops whose output size is fixed (frames). The
   * pass then lends native() a shared buffer of that size (NativeChunkInput.outBuffer) and takes it
   * back once --out has written it synchronously, so buffers are reused rather than allocated, faulted
   * in and zeroed for every chunk (a 1 GiB image run spent a sixth of its CPU time on those faults).
   */
  outputBytes?(spec: Spec, records: number): number;
  /**
   * Combine partials; a is the earlier chunk. Partials are always folded left to right in chunk order,
   * so merge need not be associative — but an op whose merge is not must say so (foldsEveryChunk),
   * and a run split between hosts then folds every chunk's partial instead of each shard's merge.
   */
  merge(spec: Spec, a: P, b: P): P;
  /**
   * merge may not be associative (a user's kernel, adding floats): a run split between hosts or static
   * parts then keeps every chunk's partial and folds them all in chunk order, as one host does, rather
   * than merging each shard's chunks first — (a+b)+(c+d) is not ((a+b)+c)+d in floating point.
   */
  foldsEveryChunk?(spec: Spec): boolean;
  finalize(spec: Spec, p: P): R;
  /** Human-readable lines for the default (non --json) output. */
  format(spec: Spec, result: R): string;
}

// Any op, its types erased: OpDef's members are methods (checked bivariantly), so every OpDef<S, P, R, K> is one.
export type AnyOp = OpDef<unknown, unknown, unknown, unknown>;
