// The typed message contract between the main thread and the workers.
import type { GenField } from '../gen/generate.js';
import type { GpuKind } from '../gpu/device.js';

/** The CPU backends: the ones a worker thread runs. */
export type CpuBackend = 'native' | 'js';
/** Every --backend that runs chunks: a GPU kind's chunks run in the main thread (gpu/runner.ts). */
export type Backend = CpuBackend | GpuKind;

export interface ChunkTask {
  kind: 'chunk';
  file: string;
  op: string;
  spec: unknown;
  backend: Backend;
  recordSize: number;
  ctl: SharedArrayBuffer;
  wantOutput: boolean;
  index: number;
  offset: number;
  /** 0-based record number in the file of the chunk's first record */
  firstRecord: number;
  records: number;
  /** the chunk's bytes, when they come from a pipe rather than the mapped file (then offset is 0) */
  buffer?: SharedArrayBuffer;
  /** where the chunk's output may go (OpDef.outputBytes): lent by the pass, reused once written */
  outBuffer?: SharedArrayBuffer;
}

export interface GenTask {
  kind: 'gen';
  out: string;
  fields: GenField[];
  seed: bigint;
  backend: Backend;
  recordSize: number;
  ctl: SharedArrayBuffer;
  /** byte offset in the output file where record `firstRecord` goes */
  offset: number;
  firstRecord: number;
  records: number;
}

export type Task = ChunkTask | GenTask;

export interface TaskError {
  message: string;
  code?: string;
}

export interface ChunkDone {
  index: number;
  partial?: unknown;
  output?: Uint8Array;
  ms: number;
  cancelled?: boolean;
  error?: TaskError;
}

/** The part of a piscina pool the engine uses; the inline runner (inline.ts) has the same shape. */
export interface TaskRunner {
  run(task: Task): Promise<unknown>;
  destroy(): Promise<void>;
}
