// An image chain's map steps as gpu.js kernels, compiled once per chain and reused for every batch:
// the steps' kernels are pipelined (each writes a texture the next reads, on the GPU), the last one
// reads back. A chain ending in a reduce has the reduce's kernel (image-reduce.ts) as its last stage.
// A batch is as many whole frames as keep every kernel under MAX_VALUES_PER_CALL values — and, under
// --max-memory, as its textures, upload and readback arrays fit in the device's share (bytesFor).
import { arrayArgumentBytes, kernelHeldBytes, outputTextureBytes } from './texture-bytes.js';
import type { ImageChain } from '../../image/steps.js';
import { frameBytes, outShape } from '../../image/steps.js';
import { reduceKernel } from './image-reduce.js';
import { IDIV, LEVEL, MAX_VALUES_PER_CALL, stepKernels, type KernelSource } from './image-kernels.js';
import type { GpuJs, GpuJsKernel } from './load.js';
import { largestFitting } from '../fit.js';

interface Stage {
  run: GpuJsKernel;
  aux?: Float32Array;
  outSize: number;
}

export class GpuJsImageChain {
  private readonly stages: Stage[];
  /** whole frames per kernel call */
  readonly framesPerCall: number;
  private readonly inSize: number;
  private upload = new Float32Array(0);
  /** the most bytes a call held (textures, upload and readback arrays), from gpu.js's own objects */
  peak = 0;

  constructor(
    private readonly lib: GpuJs,
    chain: ImageChain,
  ) {
    const sources: KernelSource[] = chain.steps.flatMap((step, i) => stepKernels(step, chain.shapes[i]!));
    if (chain.reduce) sources.push(reduceKernel(chain.reduce, outShape(chain)));
    this.stages = sources.map((k, i) => ({
      run: lib.gpu.createKernel(k.source, {
        output: [k.outSize],
        // every stage but the last leaves its result on the GPU for the next one
        pipeline: i < sources.length - 1,
        precision: 'single',
        tactic: 'precision',
        dynamicOutput: true,
        dynamicArguments: true,
        functions: [IDIV, LEVEL],
        asyncMode: i === sources.length - 1,
      }),
      aux: k.aux,
      outSize: k.outSize,
    }));
    this.inSize = frameBytes(chain.shapes[0]!);
    const widest = Math.max(this.inSize, ...sources.map((k) => k.outSize), 1);
    this.framesPerCall = Math.max(1, Math.floor(MAX_VALUES_PER_CALL / widest));
  }

  /** What a call of `frames` frames allocates: the f32 upload, the input's texture, each stage's output and tables, the readback. */
  bytesFor(frames: number): number {
    const values = frames * this.inSize;
    let bytes = 4 * values;
    if (this.stages.length === 0) return bytes;
    bytes += arrayArgumentBytes(values);
    for (const s of this.stages)
      bytes += outputTextureBytes(frames * s.outSize) + (s.aux ? arrayArgumentBytes(s.aux.length) : 0);
    return bytes + outputTextureBytes(frames * this.stages[this.stages.length - 1]!.outSize);
  }

  /** Frames per call: framesPerCall, or fewer so that bytesFor fits `maxBytes` (0 when one frame does not). */
  callFrames(maxBytes?: number): number {
    if (maxBytes === undefined) return this.framesPerCall;
    return largestFitting(this.framesPerCall, maxBytes, (f) => this.bytesFor(f));
  }

  /** `frames` frames (each `recordSize` bytes apart in `bytes`) through the chain: the last stage's values. */
  async run(bytes: Uint8Array, frames: number, recordSize: number, budgeted = false): Promise<Float32Array> {
    const input = this.gather(bytes, frames, recordSize, budgeted);
    if (this.stages.length === 0) return input;
    let cur: unknown = input;
    for (const s of this.stages) {
      s.run.setOutput([frames * s.outSize]);
      cur = s.aux ? s.run(cur, s.aux) : s.run(cur);
      this.lib.check(s.run);
    }
    const out = (await cur) as Float32Array;
    const held = this.stages.reduce((sum, s) => sum + kernelHeldBytes(s.run.kernel), 0);
    this.peak = Math.max(this.peak, this.upload.byteLength + held + out.buffer.byteLength);
    return out;
  }

  /** The frames' bytes as f32 (values 0–255 are exact), contiguous. */
  private gather(bytes: Uint8Array, frames: number, recordSize: number, budgeted: boolean): Float32Array {
    const n = frames * this.inSize;
    // under --max-memory a larger upload array left from an earlier call would hold more than the fit
    if (this.upload.length < n || (budgeted && this.upload.length > n)) this.upload = new Float32Array(n);
    const out = this.upload.subarray(0, n);
    if (recordSize === this.inSize) out.set(bytes.subarray(0, n));
    else
      for (let f = 0; f < frames; f++)
        out.set(bytes.subarray(f * recordSize, f * recordSize + this.inSize), f * this.inSize);
    return out;
  }

  close(): void {
    for (const s of this.stages) s.run.destroy?.(false);
  }
}
