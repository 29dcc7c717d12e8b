// A GPU that runs some ops' chunks: gpu.js (`--backend gpu`) or WebGPU (`--backend webgpu`). The
// engine hands a device a chunk's bytes and gets back the very partial (and --out bytes) the op's
// native kernel would give, so merge, finalize and --out never know which backend ran a chunk — and a
// circuit breaker can send the rest of a run to the CPU without changing one bit of the result.
import type { ChunkResult } from '../ops/types.js';

/** `--backend` names: gpu is gpu.js (headless-gl, or its other modes), webgpu is Dawn through the `webgpu` package. */
export type GpuKind = 'gpu' | 'webgpu';

export interface GpuChunk {
  /** the op's registry name (`image`, `hist`, `filter`, …) */
  op: string;
  /** the op's prepared spec, as its js()/native() get it */
  spec: unknown;
  /** the chunk's records, record 0 at offset 0 */
  bytes: Uint8Array;
  records: number;
  recordSize: number;
  /** 0-based record number in the file of the chunk's record 0 */
  firstRecord: number;
  /** the run writes --out: return the output bytes as the op's js() would */
  wantOutput: boolean;
  /**
   * --max-memory's share for the device: the most bytes its buffers (every buffer set in flight, tables
   * included) may hold while it runs this chunk; it makes its batches smaller to fit. Absent: its own sizes.
   */
  maxBytes?: number;
}

/** A chunk as memoryNeed sees it before any is read: what sizes the device's buffers. */
export type GpuChunkShape = Pick<GpuChunk, 'op' | 'spec' | 'recordSize' | 'wantOutput'>;

export interface GpuDevice {
  readonly kind: GpuKind;
  /**
   * What really runs, for metrics.backend_detail and the summary line: gpu.js's kernel class and mode
   * (e.g. "HeadlessGLKernel (headlessgl)"), or the WebGPU adapter (e.g. "llvmpipe (opengles)"), so
   * nobody mistakes a software renderer for a GPU.
   */
  readonly detail: string;
  /** null when this device has a kernel for `op` with this spec, else one line saying why not */
  refuses(op: string, spec: unknown): string | null;
  /** One chunk: the same ChunkResult the op's js() gives for these bytes. Rejects on any GPU failure. */
  run(chunk: GpuChunk): Promise<ChunkResult<unknown>>;
  /**
   * For --max-memory: the bytes this device's buffers need at their smallest for such chunks (one
   * record per batch, every buffer set in flight). Absent, or null for this op: the device cannot bound its memory.
   */
  memoryNeed?(shape: GpuChunkShape): Promise<number | null>;
  /** The most bytes its buffers have held at once so far (with memoryNeed). */
  peakBytes?(): number;
  /** Free buffers, pipelines and contexts. */
  close(): void;
}

/** No device of this kind here (package missing, no adapter, no display): the message says which and how to get one. */
export class GpuUnavailable extends Error {
  override name = 'GpuUnavailable';

  /** driverLoaded: false when the kind's package itself did not load (no GL or Dawn code ran in this process) */
  constructor(
    message: string,
    readonly driverLoaded = true,
  ) {
    super(message);
  }
}
